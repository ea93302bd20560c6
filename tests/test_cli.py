"""The CLI as users call it: explain, schema, render -o, install, version."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, REPO, load_stream, run_conngen
from generator import __version__


def test_explain_follows_each_build_from_registry_to_destination() -> None:
    result = run_conngen("explain", "fixtures/seed/generator.yaml")
    assert result.returncode == 0, result.stderr
    kaniko, dockerizer = result.stdout.split("\n\n")
    assert "builder reads      /kaniko/.docker/config.json" in kaniko
    assert "DOCKER_CONFIG      (image default /kaniko/.docker/)" in kaniko
    assert "destination        myregistry.com/org/repo/trainer:1.4.0" in kaniko
    assert "builder reads      /root/.docker/config.json" in dockerizer
    assert "volume             docker-conf (key .dockerconfigjson → config.json)" in dockerizer
    assert kaniko.rstrip().endswith("status             ok") and "example-password" not in result.stdout


def test_explain_flags_a_template_override_that_breaks_the_route(tmp_path: Path) -> None:
    """A user template that mounts the Secret elsewhere is caught: explain says MISMATCH, render refuses."""
    templates = tmp_path / "templates"
    templates.mkdir()
    original = (REPO / "templates" / "kaniko.yaml.j2").read_text()
    (templates / "kaniko.yaml.j2").write_text(original.replace(
        "volumeMounts: {{ job.volume_mounts | yaml }}",
        'volumeMounts: [{"name": "docker-conf", "mountPath": "/root/.docker", "readOnly": true}]'))
    explain = run_conngen("explain", "--templates", str(templates), "fixtures/seed/generator.yaml")
    assert explain.returncode == 1
    assert "status             MISMATCH" in explain.stdout
    assert "nothing is mounted where kaniko reads /kaniko/.docker/config.json" in explain.stdout
    render = run_conngen("render", "--templates", str(templates), "fixtures/seed/generator.yaml")
    assert render.returncode == 1 and render.stdout == ""
    assert re.search(r"Job trainer-kaniko-[0-9a-f]{10}: kaniko reads /kaniko/.docker/config.json", render.stderr)
    said = [line.split("problem", 1)[1].strip() for line in explain.stdout.splitlines() if line.strip().startswith("problem")]
    assert said and all(problem in render.stderr for problem in said)  # one check, in the same words


def test_explain_json_for_ci() -> None:
    result = run_conngen("explain", "--output", "json", "fixtures/custom-mount-path/generator.yaml")
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [b["dockerConfig"] for b in report["builds"]] == ["/home/builder/.docker", "/home/polyaxon/.docker"]


def test_schema_commands_print_json_schema() -> None:
    config = json.loads(run_conngen("schema", "config").stdout)
    catalog = json.loads(run_conngen("schema", "catalog").stdout)
    assert config["properties"]["kind"]["enum"] == ["ConnectionGenerator"]
    assert "connections" in catalog["properties"]
    assert config["additionalProperties"] is False


def test_render_to_a_directory_writes_one_file_per_object(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_conngen("render", "-o", str(out), "fixtures/seed/generator.yaml")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert [re.sub(r"-[0-9a-f]{10}\.yaml$", ".yaml", n) for n in names] == [
        "job-trainer-dockerizer.yaml", "job-trainer-kaniko.yaml", "secret-docker-conf.yaml"]
    combined = [yaml.safe_load(p.read_text()) for p in sorted(out.iterdir())]
    golden = load_stream((FIXTURES / "seed" / "expected.yaml").read_text())
    assert sorted(map(json.dumps, combined)) == sorted(map(json.dumps, golden))


def test_render_is_byte_identical_across_runs_and_hash_seeds() -> None:
    outputs = {run_conngen("render", "fixtures/shared-secret/generator.yaml", env={"PYTHONHASHSEED": seed}).stdout
               for seed in ("0", "1", "12345")}
    assert len(outputs) == 1


def test_install_writes_an_executable_plugin_where_kustomize_looks(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(xdg), "KUSTOMIZE_PLUGIN_HOME": ""}
    result = run_conngen("install", env=env)
    assert result.returncode == 0, result.stderr
    plugin = xdg / "kustomize" / "plugin" / "conngen.dev" / "v1" / "connectiongenerator" / "ConnectionGenerator"
    assert plugin.is_file() and plugin.stat().st_mode & stat.S_IXUSR
    assert f"installed {plugin}" in result.stdout
    assert "kubectl kustomize --enable-alpha-plugins" in result.stdout
    # started with -S (no site start-up on every build), it still finds conngen and its dependencies
    assert plugin.read_text().splitlines()[0].endswith(" -S")
    version = subprocess.run([str(plugin), "--version"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert version.returncode == 0 and version.stdout.strip() == __version__


def test_version_and_module_entry_point() -> None:
    result = run_conngen("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_usage_errors_exit_2() -> None:
    assert run_conngen("render").returncode == 2
    assert run_conngen("no-such-command").returncode == 2


def test_a_reader_that_leaves_early_is_not_reported_as_a_bug(tmp_path: Path) -> None:
    """`conngen install | true`: the pipe closes before conngen writes; no 'internal error'."""
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(tmp_path)}
    result = subprocess.run(f"{sys.executable} -m generator install | true", shell=True, env=env,
                            capture_output=True, text=True, cwd=REPO)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_the_console_entry_points_run_their_command_with_the_collector_paused(monkeypatch) -> None:
    """A conngen process lives for one command: collecting cycles during its imports and
    render found nothing and cost ~4% of a small render (speed/collector.py)."""
    import gc

    import generator.__main__ as console
    import generator.commands.cli
    import generator.kustomize.plugin

    seen = []
    monkeypatch.setattr(generator.commands.cli, "main", lambda: seen.append(gc.isenabled()))
    monkeypatch.setattr(generator.kustomize.plugin, "run", lambda *args: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    console.main()
    assert generator.kustomize.plugin.main(["ConnectionGenerator", "generator.yaml"]) == 0
    assert seen == [False, False] and gc.isenabled()


EXIT_PROBE = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))  # first in, so last out
sys.argv = {argv!r}
from {module} import main
try:
    main()
except SystemExit:
    pass
print("frozen before exit:", gc.get_freeze_count() > 0)
"""


LIBRARY_PROBE = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
from generator.commands.options import load_config_file
from generator.pipeline import generate
config, warnings = load_config_file({config!r}, None, None)
generate(config, {{"H_USER": "u", "H_PASS": "p"}}, warnings)
"""


def test_a_library_render_leaves_the_collector_to_the_caller_at_exit() -> None:
    """Only an entry point, which owns its process, may freeze: a library caller's objects stay collectable."""
    code = LIBRARY_PROBE.format(config=str(FIXTURES / "seed" / "generator.yaml"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.splitlines()[-1:] == ["frozen at exit: False"]


@pytest.mark.parametrize("module, argv", [("generator.__main__", ["conngen", "--help"]),
                                          ("generator.kustomize.plugin", ["ConnectionGenerator", "--version"])])
def test_entry_points_spare_the_interpreter_its_last_collection(module: str, argv: list[str]) -> None:
    """The interpreter collects again at exit, even with the collector off (~30 ms of a small
    render); entry points freeze what is left just before, and only then (speed/collector.py)."""
    code = EXIT_PROBE.format(module=module, argv=argv)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.splitlines()[-2:] == ["frozen before exit: False", "frozen at exit: True"]


def test_the_conngen_command_imports_click_only_once_the_collector_is_paused() -> None:
    code = "import sys, generator.__main__; print(sorted({'click', 'jinja2', 'yaml'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.strip() == "[]"


def test_rendering_leaves_the_cycle_collector_as_it_found_it() -> None:
    """generate() pauses the collector for speed; a library caller must get it back running."""
    import gc

    from generator.commands.options import load_config_file
    from generator.pipeline import generate

    config, warnings = load_config_file(str(FIXTURES / "seed" / "generator.yaml"), None, None)
    assert gc.isenabled()
    assert generate(config, {"H_USER": "u", "H_PASS": "p"}, warnings).objects
    assert gc.isenabled() and gc.get_freeze_count() == 0  # only a process entry point freezes, at exit
    gc.disable()
    try:
        generate(config, {"H_USER": "u", "H_PASS": "p"}, warnings)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_plugin_script_installed_before_the_move_still_renders(tmp_path: Path) -> None:
    """`conngen install` wrote `from generator.plugin import main` until the modules moved into
    folders; an upgrade must not break every kustomize build of such an install."""
    script = tmp_path / "ConnectionGenerator"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom generator.plugin import main\nsys.exit(main())\n")
    script.chmod(0o755)
    seed = FIXTURES / "seed"
    env = {**os.environ, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(seed), "CONNGEN_CACHE": "off"}
    done = subprocess.run([str(script), str(seed / "generator.yaml")], capture_output=True, text=True, cwd=seed,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (seed / "expected.yaml").read_text()
