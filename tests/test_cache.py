"""The exec plugin's render cache, through the real `kubectl kustomize --enable-alpha-plugins`.

A repeated build must give the same bytes as a full render, with credentials read fresh, and
the cache directory must never hold a credential in any form.
"""

from __future__ import annotations

import base64
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, REPO, load_stream, require_tool
from generator.speed.cache import FORMAT

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
    return sorted((Path(env["XDG_CACHE_HOME"]) / "conngen").glob("*.entry"))


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


def jobs(output: str) -> list[dict]:
    return [o for o in load_stream(output) if o["kind"] == "Job"]


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
    assert secret(first)["metadata"]["name"] == "docker-conf"  # mounted by Jobs: kustomize must not rename it


def test_cache_off_stores_nothing(app: Path, env: dict) -> None:
    build(app, env, CONNGEN_CACHE="off")
    assert entries(env) == []


def test_cache_directory_and_entries_are_private(app: Path, env: dict) -> None:
    build(app, env)
    directory = Path(env["XDG_CACHE_HOME"]) / "conngen"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert [p.stat().st_mode & 0o777 for p in directory.glob("*.entry")] == [0o600]
    # the compiled templates beside the entries (speed/compiled.py) are just as closed
    modes = {p.relative_to(directory).as_posix(): p.stat().st_mode & 0o777 for p in directory.rglob("*")}
    assert modes and all(mode == (0o700 if (directory / name).is_dir() else 0o600) for name, mode in modes.items())


HIT_PROBE = """
import io, sys
sys.argv = ["ConnectionGenerator", "generator.yaml"]
from generator.kustomize.plugin import main
stdout, sys.stdout = sys.stdout, io.StringIO()
code = main()
out, sys.stdout = sys.stdout.getvalue(), stdout
modules = sorted(sys.modules)  # before json is imported to print them
import json
print(json.dumps({"code": code, "modules": modules, "out": out}))
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
    assert "yaml" in cold["modules"]  # the first call did render, so the check below can fail
    assert "jinja2" not in cold["modules"]  # built-in templates render without Jinja
    slow = {"yaml", "jinja2", "ruamel", "click", "msgspec", "dataclasses", "generator.render.renderer", "generator.pipeline"}
    assert not warm["modules"] & slow, sorted(warm["modules"] & slow)
    # pathlib (with re, enum, urllib.parse) and typing cost ~15 ms of a ~30 ms cached build; the
    # installed plugin starts Python with -S, so site's own imports do not hide them
    def bare(code: str) -> dict:
        done = subprocess.run([sys.executable, "-S", "-c", code], cwd=app, env={**env, "PYTHONPATH": str(REPO)},
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])

    started = set(bare("import sys; m = sorted(sys.modules); import json; print(json.dumps(m))"))
    # json and base64 bring re, enum, functools and collections: ~10 ms more
    unneeded = {"pathlib", "typing", "re", "urllib", "json", "base64", "functools", "collections"} - started
    loaded = set(bare(HIT_PROBE)["modules"])
    assert unneeded and not loaded & unneeded, sorted(loaded & unneeded)
    assert warm["out"] == cold["out"] and "kind: Secret" in warm["out"]


def test_rotating_a_file_password_changes_data_not_names_on_a_hit(app: Path, env: dict) -> None:
    first = build(app, env)
    stored = only_entry(env)
    (app / "creds" / "password").write_text("rotated-password\n")
    rotated = build(app, env)
    assert only_entry(env).st_ino == stored.st_ino
    assert login(rotated) == "amurdaca:rotated-password"
    assert secret(rotated)["metadata"]["name"] == secret(first)["metadata"]["name"]
    assert jobs(rotated) == jobs(first)  # a rotation re-runs no build
    assert rotated == build(app, env, CONNGEN_CACHE="off")


def test_rotating_an_env_password_changes_data_not_names_on_a_hit(app: Path, env: dict) -> None:
    use_env_credentials(app)
    first = build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS="first-password")
    stored = only_entry(env)
    rotated = build(app, env, CACHE_TEST_USER="robot", CACHE_TEST_PASS="second-password")
    assert only_entry(env).st_ino == stored.st_ino
    assert (login(first), login(rotated)) == ("robot:first-password", "robot:second-password")
    assert secret(rotated)["metadata"]["name"] == secret(first)["metadata"]["name"]
    assert jobs(rotated) == jobs(first)  # a rotation re-runs no build
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
    assert "generator.yaml:10:5: error: credentials.docker-conf.password: " \
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


def read_entry(path: Path) -> dict:
    """An entry's body (the line before it is its HMAC)."""
    return marshal.loads(path.read_bytes().partition(b"\n")[2])


def write_signed(path: Path, entry: dict) -> None:
    """An entry as conngen itself would sign it, with the user's key (stdlib hmac)."""
    import hmac

    key = (path.parent / "hmac-key").read_bytes()
    body = marshal.dumps(entry)
    path.write_bytes(hmac.new(key, body, "sha256").hexdigest().encode() + b"\n" + body)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not an entry")


def _wrong_shape(path: Path) -> None:
    write_signed(path, {"format": FORMAT, "key": path.stem, "stream": "---\nkind: Secret\n"})


def _bad_placeholder(path: Path) -> None:
    entry = read_entry(path)
    entry["secrets"][0]["password"] = {"file": 7}
    write_signed(path, entry)


@pytest.mark.parametrize("corrupt", [_truncate, _garbage, _wrong_shape, _bad_placeholder])
def test_corrupt_entry_falls_back_to_a_full_render(app: Path, env: dict, corrupt) -> None:
    first = build(app, env)
    (path,) = entries(env)
    corrupt(path)
    result = kustomize(app, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == first and result.stderr == ""
    assert read_entry(path)["secrets"]  # stored again, whole
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


# Round two (#15): a hit is decided on what a fresh render would read; entries cannot be forged --

def plugin_call(app: Path, env: dict, **more: str) -> tuple[int, str, str]:
    """The exec plugin in-process, as kustomize calls it (the root from KUSTOMIZE_PLUGIN_CONFIG_ROOT)."""
    import io

    from generator.kustomize.plugin import run

    out, err = io.StringIO(), io.StringIO()
    code = run(str(app / "generator.yaml"), out, err, {**env, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(app), **more})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    return make_linked(tmp_path)


def make_linked(tmp_path: Path) -> Path:
    """The seed app with its catalog, templates and password behind symlinks, and variants to point them at."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed", app)
    catalog = (app / "connections.yaml").read_text()
    for version, host in (("v1", "myregistry.com"), ("v2", "other-registry.example.com")):
        (app / "cat" / version).mkdir(parents=True)
        (app / "cat" / version / "connections.yaml").write_text(catalog.replace("myregistry.com", host))
    (app / "connections.yaml").unlink()
    os.symlink("cat/v1/connections.yaml", app / "connections.yaml")
    os.symlink("v1", app / "cat" / "current")
    builtin = Path(__file__).resolve().parent.parent / "templates" / "kaniko.yaml.j2"
    source = builtin.read_text()
    assert "- --digest-file=/dev/termination-log\n" in source
    for variant, extra in (("a", ""), ("b", "        - --verbosity=debug\n")):
        (app / "variants").mkdir(exist_ok=True)
        (app / "variants" / f"{variant}.j2").write_text(source.replace(
            "- --digest-file=/dev/termination-log\n", "- --digest-file=/dev/termination-log\n" + extra))
        (app / f"tpl-{variant}").mkdir()
        shutil.copy(app / "variants" / f"{variant}.j2", app / f"tpl-{variant}" / "kaniko.yaml.j2")
    (app / "tpl").mkdir()
    os.symlink("../variants/a.j2", app / "tpl" / "kaniko.yaml.j2")
    os.symlink("tpl-a", app / "tpl-current")
    (app / "creds" / "other-password").write_text("other-password\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "connections.yaml").write_text(catalog)
    (outside / "password").write_text("outside-password\n")
    return app


def repoint(link: Path, target: str) -> None:
    tmp = link.with_name(link.name + ".new")
    os.symlink(target, tmp)
    os.replace(tmp, link)  # ln -sfn


REPOINTS = {  # config change, link, new target, and whether a fresh render then refuses (outside the root)
    "catalog file": ("", "connections.yaml", "cat/v2/connections.yaml", False),
    "catalog directory": ("catalog: [cat/current/connections.yaml]", "cat/current", "v2", False),
    "templates directory": ("templates: tpl-current", "tpl-current", "tpl-b", False),
    "template file": ("templates: tpl", "tpl/kaniko.yaml.j2", "../variants/b.j2", False),
    "catalog outside the root": ("", "connections.yaml", "../outside/connections.yaml", True),
    "template outside the root": ("templates: tpl", "tpl/kaniko.yaml.j2", "../../outside/password", True),
}


@pytest.mark.parametrize("case", sorted(REPOINTS))
def test_a_repointed_symlink_is_never_served_stale(linked: Path, env: dict, case: str) -> None:
    change, link, target, refused = REPOINTS[case]
    config = linked / "generator.yaml"
    text = config.read_text()
    if change.startswith("catalog:"):
        text = text.replace("catalog: [connections.yaml]", change)
    elif change:
        text += change + "\n"
    config.write_text(text)
    first = plugin_call(linked, env)
    assert first[0] == 0, first[2]
    assert plugin_call(linked, env) == first and len(entries(env)) == 1  # stored, then a hit
    repoint(linked / link, target)
    fresh = plugin_call(linked, env, CONNGEN_CACHE="off")
    assert fresh[0] == (1 if refused else 0) and fresh != first, fresh[2]
    assert plugin_call(linked, env) == fresh
    assert plugin_call(linked, env) == fresh  # and whatever was stored for the new state is right too


def test_a_repointed_catalog_through_kustomize(linked: Path, env: dict) -> None:
    """The issue's reproduction, with the real kubectl kustomize."""
    first = build(linked, env)
    assert build(linked, env) == first
    repoint(linked / "connections.yaml", "cat/v2/connections.yaml")
    second = build(linked, env)
    assert "other-registry.example.com" in second and second == build(linked, env, CONNGEN_CACHE="off")


def _as_another_user(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("planting a file owned by another user needs root (CI runs as root)")
    os.chown(path, 65534, 65534)


def _plant(path: Path, original: bytes, sign_with: bytes | None) -> Path:
    """The issue's attack: the stored entry with its stream swapped for another Job and nothing to
    re-check, in the stored layout (signed with `sign_with`, or a key of the planter's own)."""
    import hmac

    entry = marshal.loads(original.partition(b"\n")[2])
    entry.update(stream="---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: planted\n", secrets=[])
    body = marshal.dumps(entry)
    path.write_bytes(hmac.new(sign_with or os.urandom(32), body, "sha256").hexdigest().encode() + b"\n" + body)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("how", ["another user's file", "our file, forged MAC", "symlink", "hard link",
                                 "another user's key"])
def test_a_planted_entry_is_never_served(app: Path, env: dict, how: str) -> None:
    first = plugin_call(app, env)
    (stored,) = entries(env)
    directory = stored.parent
    original = stored.read_bytes()
    key_file = directory / "hmac-key"
    key = key_file.read_bytes() if key_file.exists() else None
    stored.unlink()
    directory.chmod(0o777)  # the mistake that let someone else write here
    if how == "another user's file":  # even one that knew the key
        _as_another_user(_plant(stored, original, key))
    elif how == "our file, forged MAC":  # copied in by anything that does not have the key
        _plant(stored, original, None)
    elif how == "symlink":
        os.symlink(_plant(app / "planted.entry", original, key), stored)
    elif how == "hard link":
        os.link(_plant(app / "planted.entry", original, key), stored)
    else:
        forged = os.urandom(32)
        if key_file.exists():
            key_file.unlink()
        key_file.write_bytes(forged)
        _as_another_user(key_file)
        _plant(stored, original, forged)
    served = plugin_call(app, env)
    assert served == first and "planted" not in served[1]
    assert directory.stat().st_mode & 0o777 == 0o700
    assert plugin_call(app, env) == first  # stored afresh, whole, and served


def test_entries_are_signed_with_hmac_sha256(app: Path, env: dict) -> None:
    """The MAC is written on the builtin sha256 to keep OpenSSL off the hit path; it must be HMAC both ways."""
    import hmac

    code, first, warned = plugin_call(app, env)
    assert code == 0, warned
    (path,) = entries(env)
    mac, _, body = path.read_bytes().partition(b"\n")
    assert mac == hmac.new((path.parent / "hmac-key").read_bytes(), body, "sha256").hexdigest().encode()
    entry = read_entry(path)
    entry["stream"] += "# signed with the hmac module\n"
    write_signed(path, entry)
    assert plugin_call(app, env) == (0, first + "# signed with the hmac module\n", warned)  # accepted and served


def _set_config(app: Path, catalog: str | None = None, templates: str | None = None, password: str | None = None) -> None:
    path = app / "generator.yaml"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("templates:")]
    text = "\n".join(lines) + "\n"
    if catalog is not None:
        text = re.sub(r"^catalog: .*$", f"catalog: [{catalog}]", text, flags=re.M)
    if password is not None:
        text = re.sub(r"password: \{(?:file|env): [^}]*\}", f"password: {password}", text)
    path.write_text(text + (f"templates: {templates}\n" if templates else ""))


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


EDITS = {
    "catalog link to v2": lambda app: repoint(app / "connections.yaml", "cat/v2/connections.yaml"),
    "catalog link to v1": lambda app: repoint(app / "connections.yaml", "cat/v1/connections.yaml"),
    "catalog link outside": lambda app: repoint(app / "connections.yaml", "../outside/connections.yaml"),
    "catalog directory link to v2": lambda app: repoint(app / "cat" / "current", "v2"),
    "catalog directory link to v1": lambda app: repoint(app / "cat" / "current", "v1"),
    "catalog through the directory link": lambda app: _set_config(app, catalog="cat/current/connections.yaml"),
    "catalog as written": lambda app: _set_config(app, catalog="connections.yaml"),
    "catalog content": lambda app: _append(app / "cat" / "v1" / "connections.yaml", "  - {name: extra, kind: git, "
                                           "schema: {url: 'https://github.com/a/b.git'}}\n"),
    "templates directory link": lambda app: _set_config(app, templates="tpl-current"),
    "templates directory with a file link": lambda app: _set_config(app, templates="tpl"),
    "no templates": lambda app: _set_config(app),
    "templates link to b": lambda app: repoint(app / "tpl-current", "tpl-b"),
    "templates link to a": lambda app: repoint(app / "tpl-current", "tpl-a"),
    "template file link to b": lambda app: repoint(app / "tpl" / "kaniko.yaml.j2", "../variants/b.j2"),
    "template file link outside": lambda app: repoint(app / "tpl" / "kaniko.yaml.j2", "../../outside/password"),
    "template content": lambda app: _append(app / "variants" / "a.j2", "{# edited #}\n"),
    "a template added": lambda app: shutil.copy(app / "variants" / "b.j2", app / "tpl-a" / "dockerizer.yaml.j2"),
    "password file content": lambda app: (app / "creds" / "password").write_text("edited-password\n"),
    "password file with CRLF": lambda app: (app / "creds" / "password").write_bytes(b"crlf-password\r\n"),
    "password file link": lambda app: (os.replace(app / "creds" / "password", app / "creds" / "real-password"),
                                       os.symlink("real-password", app / "creds" / "password")),
    "password from the environment": lambda app: _set_config(app, password="{env: CACHE_TEST_PASS}"),
    "password from a file": lambda app: _set_config(app, password="{file: creds/password}"),
    "kustomization edited": lambda app: _append(app / "kustomization.yaml", "namePrefix: x-\n"),
}
ENV_EDITS = ("set the variable", "change the variable", "unset the variable", "another version")


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(sorted(EDITS) + list(ENV_EDITS)), min_size=1, max_size=5))
def test_cache_on_miss_hit_and_off_give_the_same_bytes(edits: list[str]) -> None:
    """After any edits, a cold cache, the shared cache (twice) and no cache give identical results."""
    import tempfile

    from generator.speed import cache

    version = cache.__version__
    with tempfile.TemporaryDirectory() as scratch:
        app = make_linked(Path(scratch))
        env = {"HOME": scratch, "XDG_CACHE_HOME": f"{scratch}/shared", "PATH": os.environ.get("PATH", ""),
               "CACHE_TEST_PASS": "first"}
        try:
            for step, edit in enumerate(["nothing"] + edits):
                if edit in EDITS:
                    try:
                        EDITS[edit](app)
                    except OSError:
                        continue  # an edit that does not apply to this state (a link made twice)
                elif edit == "set the variable":
                    env["CACHE_TEST_PASS"] = "first"
                elif edit == "change the variable":
                    env["CACHE_TEST_PASS"] = f"changed-{step}"
                elif edit == "unset the variable":
                    env.pop("CACHE_TEST_PASS", None)
                elif edit == "another version":
                    cache.__version__ = f"{version}+{step}"
                results = [plugin_call(app, env, XDG_CACHE_HOME=f"{scratch}/cold-{step}"), plugin_call(app, env),
                           plugin_call(app, env), plugin_call(app, env, CONNGEN_CACHE="off")]
                assert all(r == results[-1] for r in results), (edit, [r[0] for r in results])
        finally:
            cache.__version__ = version
