"""`conngen doctor` and `conngen --version` in temporary HOMEs broken on purpose.

Each broken setup is also built with the real `kubectl kustomize`, so doctor's verdict is
checked against what kustomize actually does there, not against our idea of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, require_tool
from generator import __version__
from generator.commands.install import PLUGIN_PATH

pytestmark = pytest.mark.e2e

LOGIN = {"REGISTRY_USERNAME": "doctor-user", "REGISTRY_PASSWORD": "doctor-pass-not-real"}


def _env(tmp_path: Path, tools: tuple[str, ...] = ("kubectl",), **extra: str) -> dict[str, str]:
    """A clean environment: a fresh HOME and a PATH holding only the named tools."""
    home, bin_dir = tmp_path / "home", tmp_path / "bin"
    home.mkdir(exist_ok=True)
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(require_tool(tool))
    return {"HOME": str(home), "PATH": str(bin_dir), **extra}


def _conngen(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _doctor(env: dict[str, str]) -> tuple[int, dict[str, dict]]:
    result = _conngen(env, "doctor", "--output", "json")
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0), result.stdout
    checks = {c["name"]: c for c in report["checks"]}
    assert len(checks) == len(report["checks"])
    return result.returncode, checks


def _install(env: dict[str, str]) -> Path:
    result = _conngen(env, "install")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.split()[1])


def _kustomize(app: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(app)], env={**env, **LOGIN},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    result = _conngen({**os.environ}, "init", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "app"


def test_healthy_setup_passes_and_kustomize_builds(tmp_path: Path, app: Path) -> None:
    env = _env(tmp_path)
    target = _install(env)
    code, checks = _doctor(env)
    assert code == 0
    assert checks["kubectl"]["status"] == "ok" and "kustomize v" in checks["kubectl"]["detail"]
    assert checks["plugin root"]["detail"] == f"kustomize will use {tmp_path / 'home/.config/kustomize/plugin'}"
    assert checks["plugin"]["status"] == "ok" and str(target) in checks["plugin"]["detail"]
    assert checks["plugin version"]["status"] == "ok"
    assert checks["helm"]["status"] == "info"  # helm is not on this PATH: informational only
    assert _kustomize(app, env).returncode == 0


def test_no_plugin_root_fails_with_the_fix_and_the_fix_works(tmp_path: Path, app: Path) -> None:
    env = _env(tmp_path)
    code, checks = _doctor(env)
    assert code == 1
    assert checks["plugin root"]["status"] == "fail"
    assert "unable to find plugin root" in checks["plugin root"]["detail"]
    assert "unable to find plugin root" in _kustomize(app, env).stderr
    assert checks["plugin root"]["fix"].startswith("`conngen install`")
    _install(env)
    assert _doctor(env)[0] == 0


def test_plugin_not_executable(tmp_path: Path, app: Path) -> None:
    env = _env(tmp_path)
    target = _install(env)
    target.chmod(0o644)
    code, checks = _doctor(env)
    assert code == 1
    assert checks["plugin"]["status"] == "fail"
    assert "not executable" in checks["plugin"]["detail"] and f"chmod +x {target}" in checks["plugin"]["fix"]
    assert "unexecutable plugin" in _kustomize(app, env).stderr


def test_stale_plugin_version(tmp_path: Path) -> None:
    env = _env(tmp_path)
    target = _install(env)
    text = target.read_text(encoding="utf-8")
    assert f"\n# conngen {__version__}\n" in text
    target.write_text(text.replace(f"# conngen {__version__}", "# conngen 0.0.1"), encoding="utf-8")
    code, checks = _doctor(env)
    assert code == 1
    assert checks["plugin version"]["status"] == "fail"
    assert checks["plugin version"]["detail"] == f"the plugin was written by conngen 0.0.1, this CLI is {__version__}"
    assert "conngen install" in checks["plugin version"]["fix"]
    _install(env)
    assert _doctor(env)[1]["plugin version"]["status"] == "ok"


def test_plugin_python_without_conngen(tmp_path: Path) -> None:
    """The marker matches but the shebang's interpreter cannot import generator: the build would fail."""
    env = _env(tmp_path)
    target = _install(env)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text(f"#!{tmp_path / 'gone' / 'python'}\n" + "".join(lines[1:]), encoding="utf-8")
    code, checks = _doctor(env)
    assert code == 1
    assert "has no importable conngen" in checks["plugin version"]["detail"]


def test_plugin_through_env_python(tmp_path: Path, app: Path) -> None:
    """`#!/usr/bin/env python` runs whatever python is first on PATH: conngen there counts, with a warning."""
    env = _env(tmp_path)
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    target = _install(env)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("#!/usr/bin/env python\n" + "".join(lines[1:]), encoding="utf-8")
    code, checks = _doctor(env)
    assert code == 0
    assert checks["plugin version"]["status"] == "warn"
    assert "the plugin runs /usr/bin/env python" in checks["plugin version"]["detail"]
    assert _kustomize(app, env).returncode == 0
    (tmp_path / "bin" / "python").unlink()
    assert "has no importable conngen" in _doctor(env)[1]["plugin version"]["detail"]


def test_kustomize_plugin_home_pointing_nowhere(tmp_path: Path, app: Path) -> None:
    env = _env(tmp_path, KUSTOMIZE_PLUGIN_HOME=str(tmp_path / "nowhere"))
    code, checks = _doctor(env)
    assert code == 1
    assert checks["KUSTOMIZE_PLUGIN_HOME"]["status"] == "warn"
    assert checks["plugin root"]["status"] == "fail"
    assert f"{tmp_path / 'nowhere'} (missing)" in checks["environment"]["detail"]


def test_kustomize_plugin_home_nowhere_falls_back_like_kustomize(tmp_path: Path, app: Path) -> None:
    """kustomize skips a missing KUSTOMIZE_PLUGIN_HOME; a plugin under ~/.config still builds."""
    env = _env(tmp_path)
    _install(env)
    env["KUSTOMIZE_PLUGIN_HOME"] = str(tmp_path / "nowhere")
    code, checks = _doctor(env)
    assert code == 0
    assert checks["KUSTOMIZE_PLUGIN_HOME"]["status"] == "warn"
    assert _kustomize(app, env).returncode == 0


def test_plugin_in_a_root_kustomize_does_not_use(tmp_path: Path, app: Path) -> None:
    """An existing XDG root shadows ~/.config: kustomize looks only there, and so does doctor."""
    env = _env(tmp_path)
    installed = _install(env)
    xdg = tmp_path / "xdg"
    (xdg / "kustomize" / "plugin").mkdir(parents=True)
    env["XDG_CONFIG_HOME"] = str(xdg)
    code, checks = _doctor(env)
    assert code == 1
    assert checks["plugin root"]["detail"] == f"kustomize will use {xdg / 'kustomize' / 'plugin'}"
    assert f"a copy at {installed} is not used" in checks["plugin"]["detail"]
    assert _kustomize(app, env).returncode != 0
    assert _install(env) == xdg.joinpath("kustomize", "plugin", *PLUGIN_PATH)
    assert _doctor(env)[0] == 0
    assert _kustomize(app, env).returncode == 0


def test_missing_kubectl_fails(tmp_path: Path) -> None:
    env = _env(tmp_path, tools=())
    _install(env)
    code, checks = _doctor(env)
    assert code == 1
    assert checks["kubectl/kustomize"]["status"] == "fail"
    assert checks["plugin version"]["status"] == "ok"  # everything else is in place: kubectl alone fails it


def test_helm_and_its_plugin_are_reported_never_required(tmp_path: Path) -> None:
    plugins = tmp_path / "helm-plugins"
    env = _env(tmp_path, tools=("kubectl", "helm"), HELM_PLUGINS=str(plugins))
    _install(env)
    code, checks = _doctor(env)
    assert code == 0
    assert checks["helm"]["status"] == "ok" and checks["helm"]["detail"].startswith("v3.")
    assert checks["helm plugin"]["status"] == "info"
    assert checks["helm plugin"]["detail"].startswith(f"conngen is not installed in {plugins}")
    installed = subprocess.run(["helm", "plugin", "install", str(REPO)], env=env, capture_output=True, text=True,
                               timeout=120)
    assert installed.returncode == 0, installed.stderr
    code, checks = _doctor(env)
    assert code == 0
    assert checks["helm plugin"]["status"] == "ok"
    assert checks["helm plugin"]["detail"].startswith(f"conngen is installed in {plugins}")


def test_text_output_shows_each_fix(tmp_path: Path) -> None:
    env = _env(tmp_path, tools=())
    result = _conngen(env, "doctor")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failing = [i for i, line in enumerate(lines) if line.startswith("FAIL")]
    assert [lines[i].split(":")[0] for i in failing] == ["FAIL  kubectl/kustomize", "FAIL  plugin root", "FAIL  plugin"]
    assert all(lines[i + 1].startswith("      fix: ") for i in failing)
    assert lines[-1] == "not ready: fix the FAIL lines above"


def test_version_reports_the_plugin(tmp_path: Path) -> None:
    env = _env(tmp_path)
    missing = _conngen(env, "--version").stdout.splitlines()
    assert missing[0] == f"conngen {__version__}"
    assert missing[1].startswith("plugin: not installed") and "conngen install" in missing[1]
    target = _install(env)
    assert _conngen(env, "--version").stdout.splitlines()[1] == f"plugin: {__version__} at {target} (matches)"
    target.write_text(target.read_text(encoding="utf-8").replace(f"# conngen {__version__}", "# conngen 0.0.1"),
                      encoding="utf-8")
    stale = _conngen(env, "--version")
    assert stale.returncode == 0
    assert f"is from conngen 0.0.1, not {__version__}" in stale.stdout.splitlines()[1]


def test_changelog_has_this_version() -> None:
    """Keep a Changelog: an Unreleased section, then released versions newest first, known categories only."""
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert versions[0] == ("Unreleased", "")
    assert versions[1][0] == __version__ and versions[1][1], "add a dated entry for this version"
    categories = set(re.findall(r"^### (.+)$", text, re.MULTILINE))
    assert categories and categories <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
