"""The exec plugin's render cache, through the real `kubectl kustomize --enable-alpha-plugins`.

A repeated build must give the same bytes as a full render, with credentials read fresh, and
the cache directory must never hold a credential in any form.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, load_stream, require_tool

pytestmark = pytest.mark.e2e

CANARY = "canary-Qm47-never-on-disk"
ENV_CREDS = ("username: {file: creds/username}\n    password: {file: creds/password}",
             "username: {env: CACHE_TEST_USER}\n    password: {env: CACHE_TEST_PASS}")


@pytest.fixture
def env(tmp_path: Path, plugin_home: dict) -> dict:
    """kustomize's environment: conngen installed in a scratch plugin home, a scratch cache."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CONNGEN_CACHE", "CACHE_TEST_USER", "CACHE_TEST_PASS")}
    return {**environ, **plugin_home, "XDG_CACHE_HOME": str(tmp_path / "xdg")}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed", app)
    return app


def kustomize(directory: Path, env: dict, **more: str) -> subprocess.CompletedProcess:
    kubectl = require_tool("kubectl")
    return subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", str(directory)],
                          env={**env, **more}, capture_output=True, text=True, timeout=120)


def build(directory: Path, env: dict, **more: str) -> str:
    result = kustomize(directory, env, **more)
    assert result.returncode == 0, result.stderr
    return result.stdout


def entries(env: dict) -> list[Path]:
    return sorted((Path(env["XDG_CACHE_HOME"]) / "conngen").glob("*.json"))


def only_entry(env: dict) -> os.stat_result:
    """The one stored entry's inode: a hit only reads it, a store replaces the file."""
    found = entries(env)
    assert len(found) == 1, found
    return found[0].stat()


def secret(output: str) -> dict:
    return next(o for o in load_stream(output) if o["kind"] == "Secret")


def login(output: str) -> str:
    config = json.loads(base64.b64decode(secret(output)["data"][".dockerconfigjson"]))
    return base64.b64decode(config["auths"]["myregistry.com"]["auth"]).decode()


def use_env_credentials(app: Path) -> None:
    config = app / "generator.yaml"
    text = config.read_text()
    assert ENV_CREDS[0] in text
    config.write_text(text.replace(*ENV_CREDS))


def test_second_build_is_a_hit_with_the_same_bytes_as_the_first_and_as_no_cache(app: Path, env: dict) -> None:
    first = build(app, env)
    stored = only_entry(env)
    second = build(app, env)
    assert only_entry(env).st_ino == stored.st_ino  # replayed, not rendered and stored again
    assert second == first
    assert build(app, env, CONNGEN_CACHE="off") == first
    assert secret(first)["metadata"]["name"].startswith("docker-conf-")


def test_cache_off_stores_nothing(app: Path, env: dict) -> None:
    build(app, env, CONNGEN_CACHE="off")
    assert entries(env) == []


def test_cache_directory_and_entries_are_private(app: Path, env: dict) -> None:
    build(app, env)
    directory = Path(env["XDG_CACHE_HOME"]) / "conngen"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert [p.stat().st_mode & 0o777 for p in directory.glob("*.json")] == [0o600]
    # the compiled templates beside the entries (render.CompiledTemplates) are just as closed
    modes = {p.relative_to(directory).as_posix(): p.stat().st_mode & 0o777 for p in directory.rglob("*")}
    assert modes and all(mode == (0o700 if (directory / name).is_dir() else 0o600) for name, mode in modes.items())


HIT_PROBE = """
import contextlib, io, json, sys
sys.argv = ["ConnectionGenerator", "generator.yaml"]
from generator.plugin import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main()
print(json.dumps({"code": code, "modules": sorted(sys.modules), "out": out.getvalue()}))
"""


def test_hit_path_imports_neither_yaml_nor_jinja(app: Path, env: dict) -> None:
    def probe() -> dict:
        result = subprocess.run([sys.executable, "-c", HIT_PROBE], cwd=app, env=env, capture_output=True,
                                text=True, check=True)
        found = json.loads(result.stdout.splitlines()[-1])
        found["modules"] = {m.split(".")[0] for m in found["modules"]} | set(found["modules"])
        return found

    cold, warm = probe(), probe()
    assert cold["code"] == warm["code"] == 0
    assert {"yaml", "jinja2"} <= cold["modules"]  # the first call did render, so the check below can fail
    slow = {"yaml", "jinja2", "ruamel", "click", "msgspec", "dataclasses", "generator.render", "generator.pipeline"}
    assert not warm["modules"] & slow, sorted(warm["modules"] & slow)
    assert warm["out"] == cold["out"] and "kind: Secret" in warm["out"]


def test_rotating_a_file_password_changes_data_and_hash_suffix_on_a_hit(app: Path, env: dict) -> None:
    first = build(app, env)
    stored = only_entry(env)
    (app / "creds" / "password").write_text("rotated-password\n")
    rotated = build(app, env)
    assert only_entry(env).st_ino == stored.st_ino
    assert login(rotated) == "amurdaca:rotated-password"
    assert secret(rotated)["metadata"]["name"] != secret(first)["metadata"]["name"]
    assert rotated == build(app, env, CONNGEN_CACHE="off")


def test_rotating_an_env_password_changes_data_and_hash_suffix_on_a_hit(app: Path, env: dict) -> None:
    use_env_credentials(app)
    first = build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS="first-password")
    stored = only_entry(env)
    rotated = build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS="second-password")
    assert only_entry(env).st_ino == stored.st_ino
    assert (login(first), login(rotated)) == ("robot:first-password", "robot:second-password")
    assert secret(rotated)["metadata"]["name"] != secret(first)["metadata"]["name"]
    assert rotated == build(app, env, CONNGEN_CACHE="off", CACHE_TEST_USER="robot", CACHE_TEST_PASS="second-password")


def _copy_job_templates(app: Path) -> None:
    """Override every Job template (not secret.yaml.j2, whose override is never cached)."""
    shutil.copytree(Path(__file__).resolve().parent.parent / "templates", app / "templates",
                    ignore=shutil.ignore_patterns("__*", "secret.yaml.j2"))
    config = app / "generator.yaml"
    config.write_text(config.read_text() + "templates: templates\n")


def _edit_catalog(app: Path) -> None:
    path = app / "connections.yaml"
    path.write_text(path.read_text().replace("mountPath: /root/.docker", "mountPath: /home/builder/.docker"))


def _override_template(app: Path) -> None:
    path = app / "templates" / "kaniko.yaml.j2"
    path.write_text(path.read_text().replace("- --digest-file=/dev/termination-log\n",
                                             "- --digest-file=/dev/termination-log\n        - --verbosity=debug\n"))


def _edit_config(app: Path) -> None:
    path = app / "generator.yaml"
    path.write_text(path.read_text().replace("tags: [latest]", "tags: [latest, stable]"))


@pytest.mark.parametrize("edit", [_edit_catalog, _override_template, _edit_config])
def test_editing_an_input_invalidates_the_entry(app: Path, env: dict, edit) -> None:
    if edit is _override_template:
        _copy_job_templates(app)
    first = build(app, env)
    stored = only_entry(env)
    assert build(app, env) == first and only_entry(env).st_ino == stored.st_ino  # a hit before the edit
    edit(app)
    edited = build(app, env)
    assert edited != first
    assert edited == build(app, env, CONNGEN_CACHE="off")
    assert build(app, env) == edited  # and the new state is cached in turn


def test_the_template_override_check_is_real(app: Path, env: dict) -> None:
    """The template edit above does change the Job, so its test can fail."""
    _copy_job_templates(app)
    before = build(app, env, CONNGEN_CACHE="off")
    _override_template(app)
    after = build(app, env, CONNGEN_CACHE="off")
    assert "--verbosity=debug" in after and "--verbosity=debug" not in before


def test_unset_variable_on_the_hit_path_is_the_normal_located_error(app: Path, env: dict) -> None:
    use_env_credentials(app)
    build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS=CANARY)
    result = kustomize(app, env, CACHE_TEST_USER="robot")
    assert result.returncode != 0
    assert "generator.yaml:10:5: error: credentials.docker-conf.password: credentials docker-conf.password: " \
           "environment variable CACHE_TEST_PASS is not set" in result.stderr
    assert CANARY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_plugin_exit_code_for_an_unset_variable_is_1(app: Path, env: dict) -> None:
    """kustomize hides the plugin's exit code, so run the installed plugin itself."""
    use_env_credentials(app)
    build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS=CANARY)
    plugin = Path(env["KUSTOMIZE_PLUGIN_HOME"], "conngen.dev", "v1", "connectiongenerator", "ConnectionGenerator")
    environ = {**env, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(app), "CACHE_TEST_USER": "robot"}
    result = subprocess.run([str(plugin), "generator.yaml"], cwd=app, env=environ, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert "CACHE_TEST_PASS is not set" in result.stderr
    ok = subprocess.run([str(plugin), "generator.yaml"], cwd=app, env={**environ, "CACHE_TEST_PASS": CANARY},
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "kind: Secret" in ok.stdout


@pytest.mark.parametrize("source", ["file", "env"])
def test_no_credential_in_the_cache_in_any_form(app: Path, env: dict, source: str) -> None:
    if source == "env":
        use_env_credentials(app)
        values = {"CACHE_TEST_USER": "amurdaca", "CACHE_TEST_PASS": CANARY}
    else:
        (app / "creds" / "password").write_text(CANARY + "\n")
        values = {}
    first = build(app, env, **values)
    assert build(app, env, **values) == first and login(first) == f"amurdaca:{CANARY}"
    data = secret(first)["data"][".dockerconfigjson"]
    forbidden = [CANARY, base64.b64encode(CANARY.encode()).decode(), base64.b64encode(f"amurdaca:{CANARY}".encode()).decode(),
                 data, data[:40], base64.b64decode(data).decode()]
    stored = b"".join(p.read_bytes() for p in (Path(env["XDG_CACHE_HOME"])).rglob("*") if p.is_file())
    assert stored, "nothing was cached, so nothing was checked"
    for text in forbidden:
        assert text.encode() not in stored


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not json")


def _wrong_shape(path: Path) -> None:
    path.write_text(json.dumps({"format": 1, "key": path.stem, "stream": "---\nkind: Secret\n"}))


def _bad_placeholder(path: Path) -> None:
    entry = json.loads(path.read_text())
    entry["secrets"][0]["password"] = {"file": 7}
    path.write_text(json.dumps(entry))


@pytest.mark.parametrize("corrupt", [_truncate, _garbage, _wrong_shape, _bad_placeholder])
def test_corrupt_entry_falls_back_to_a_full_render(app: Path, env: dict, corrupt) -> None:
    first = build(app, env)
    (path,) = entries(env)
    corrupt(path)
    result = kustomize(app, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == first and result.stderr == ""
    assert json.loads(path.read_text())["secrets"]  # stored again, whole
    assert build(app, env) == first


def _literal_password(app: Path) -> None:
    path = app / "generator.yaml"
    path.write_text(path.read_text().replace("password: {file: creds/password}", f"password: {CANARY}"))


def _docker_config(app: Path) -> None:
    (app / "creds" / "config.json").write_text(json.dumps({"auths": {"myregistry.com": {
        "auth": base64.b64encode(f"amurdaca:{CANARY}".encode()).decode()}}}))
    path = app / "generator.yaml"
    path.write_text(path.read_text().replace(ENV_CREDS[0], "dockerConfig: {file: creds/config.json}"))


def _secret_template_override(app: Path) -> None:
    (app / "templates").mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "templates" / "secret.yaml.j2", app / "templates")
    path = app / "generator.yaml"
    path.write_text(path.read_text() + "templates: templates\n")


@pytest.mark.parametrize("setup", [_literal_password, _docker_config, _secret_template_override])
def test_configs_that_would_need_parsing_or_could_leak_are_never_cached(app: Path, env: dict, setup) -> None:
    setup(app)
    first = build(app, env)
    assert "kind: Secret" in first and build(app, env) == first
    assert entries(env) == []


def test_external_secret_mode_is_never_cached(tmp_path: Path, env: dict) -> None:
    app = tmp_path / "eso"
    shutil.copytree(FIXTURES / "eso-credentials", app)
    (app / "kustomization.yaml").write_text("generators: [generator.yaml]\n")
    assert "kind: ExternalSecret" in build(app, env)
    assert entries(env) == []


def test_the_plugins_exit_codes_are_the_documented_ones() -> None:
    from generator import errors, plugin

    assert (plugin.EXIT_OK, plugin.EXIT_USER, plugin.EXIT_USAGE, plugin.EXIT_BUG) == \
        (errors.EXIT_OK, errors.EXIT_USER, errors.EXIT_USAGE, errors.EXIT_BUG)


def test_warnings_are_replayed_on_a_hit(app: Path, env: dict) -> None:
    path = app / "connections.yaml"
    path.write_text(path.read_text().replace("url: https://myregistry.com/org/repo", "url: http://myregistry.com/org/repo", 1))
    plugin = Path(env["KUSTOMIZE_PLUGIN_HOME"], "conngen.dev", "v1", "connectiongenerator", "ConnectionGenerator")
    environ = {**env, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(app)}
    cold = subprocess.run([str(plugin), "generator.yaml"], cwd=app, env=environ, capture_output=True, text=True)
    stored = only_entry(env)
    warm = subprocess.run([str(plugin), "generator.yaml"], cwd=app, env=environ, capture_output=True, text=True)
    assert cold.returncode == warm.returncode == 0
    assert "connections.yaml:6:7: warning: connections[0].schema.url: url says http://" in cold.stderr
    assert (warm.stdout, warm.stderr) == (cold.stdout, cold.stderr)
    assert only_entry(env).st_ino == stored.st_ino
