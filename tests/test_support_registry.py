"""Prove the registry/OCI/client helpers: a kubectl-style config.json really pushes, a wrong one fails.

These run real binaries (docker-registry, htpasswd, openssl, skopeo, buildah); without them the tests
skip, except on CI where a missing binary is an install bug and fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support import clients
from support.clients import (
    HostFootprint,
    buildah_build_and_push,
    dockerconfigjson,
    isolated_env,
    require_binaries,
    skopeo_copy,
    skopeo_inspect_digest,
    write_docker_config,
)
from support.oci import build_oci_image
from support.registry import Registry, read_auth_report, registry_fixture, run_registry

pytestmark = pytest.mark.e2e

tls_registry = registry_fixture(scope="module")
http_registry = registry_fixture(tls=False, scope="module")


@pytest.fixture(scope="module", autouse=True)
def _host_footprint():
    """skopeo/buildah as root write /var/lib/containers/cache etc.; remove what this module added."""
    footprint = HostFootprint()
    yield footprint
    footprint.cleanup()


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return build_oci_image(tmp_path_factory.mktemp("oci") / "layout")


@pytest.fixture
def skopeo():
    require_binaries("skopeo")


def _config_env(tmp_path: Path, server: str, username: str, password: str, name: str = "cfg") -> dict[str, str]:
    """An isolated env whose only credentials are a kubectl-format config.json via DOCKER_CONFIG."""
    docker_dir = tmp_path / name / "docker"
    write_docker_config(docker_dir, dockerconfigjson(server, username, password))
    return isolated_env(tmp_path / name, docker_config=docker_dir)


# ---------------------------------------------------------------------------------------------
# OCI layout


def test_oci_layout_is_deterministic_and_self_consistent(tmp_path):
    a = build_oci_image(tmp_path / "a")
    b = build_oci_image(tmp_path / "b")
    c = build_oci_image(tmp_path / "c", files={"/hello.txt": b"other\n"})
    assert a.manifest_digest == b.manifest_digest
    assert c.manifest_digest != a.manifest_digest
    assert a.ref == f"oci:{tmp_path / 'a'}:v1"

    index = json.loads((a.path / "index.json").read_text())
    assert index["manifests"][0]["digest"] == a.manifest_digest
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "v1"
    assert json.loads((a.path / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    for blob in (a.path / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    manifest = json.loads((a.path / "blobs" / "sha256" / a.manifest_digest.split(":")[1]).read_bytes())
    assert manifest["layers"][0]["digest"] == a.layer_digest
    assert manifest["config"]["digest"] == a.config_digest


# ---------------------------------------------------------------------------------------------
# the registry itself


def test_tls_registry_answers_401_then_200_with_basic_auth(tls_registry: Registry):
    assert sorted(p.name for p in tls_registry.ca_dir.iterdir()) == ["ca.crt"]  # pitfall 7
    ctx = ssl.create_default_context(cafile=str(tls_registry.ca_file))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{tls_registry.url}/v2/", context=ctx, timeout=5)
    assert err.value.code == 401
    assert 'Basic realm="test-registry"' in err.value.headers["WWW-Authenticate"]

    token = base64.b64encode(f"{tls_registry.username}:{tls_registry.password}".encode()).decode()
    req = urllib.request.Request(f"{tls_registry.url}/v2/", headers={"Authorization": f"Basic {token}"})
    with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
        assert resp.status == 200
    assert tls_registry.host.startswith("127.0.0.1:")
    assert tls_registry.url == f"https://{tls_registry.host}"


def test_run_registry_stops_process_and_removes_files(tmp_path):
    require_binaries("docker-registry", "htpasswd", "openssl")
    with run_registry(tls=False, base_dir=tmp_path) as reg:
        workdir, pid, port = reg.workdir, reg.pid, reg.port
        assert reg.url.startswith("http://")
        assert reg.ca_dir is None
        os.kill(pid, 0)  # alive
    assert not workdir.exists()
    with pytest.raises(ProcessLookupError):  # reaped, not a zombie: it was our direct child
        os.kill(pid, 0)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


# ---------------------------------------------------------------------------------------------
# skopeo against the TLS registry


def test_push_with_kubectl_style_config_json_via_docker_config(tmp_path, skopeo, tls_registry, image):
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, tls_registry.password)
    mark = tls_registry.log_mark()

    pushed = skopeo_copy(image.ref, tls_registry.ref("org/img"), env, cert_dir=tls_registry.ca_dir)
    pushed.check()
    inspected = skopeo_inspect_digest(tls_registry.ref("org/img"), env, cert_dir=tls_registry.ca_dir)
    inspected.check()

    assert inspected.digest == image.manifest_digest
    report = tls_registry.auth_report(mark)
    assert report.outcome == "authenticated"
    assert report.authorized_users == (tls_registry.username,)


def test_wrong_password_is_unauthorized_and_log_says_authentication_failure(tmp_path, skopeo, tls_registry, image):
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, "not-the-password")
    mark = tls_registry.log_mark()

    result = skopeo_copy(image.ref, tls_registry.ref("org/wrong"), env, cert_dir=tls_registry.ca_dir)

    assert result.rc != 0
    assert "unauthorized: authentication required" in result.out
    report = tls_registry.auth_report(mark)
    assert report.outcome == "authentication-failure"
    assert report.auth_failures and set(report.auth_failures) == {tls_registry.username}


def test_key_for_another_host_sends_no_credentials(tmp_path, skopeo, tls_registry, image):
    """localhost:PORT is not 127.0.0.1:PORT (pitfall 4): same client error, different log."""
    env = _config_env(tmp_path, f"localhost:{tls_registry.port}", tls_registry.username, tls_registry.password)
    mark = tls_registry.log_mark()

    result = skopeo_copy(image.ref, tls_registry.ref("org/otherkey"), env, cert_dir=tls_registry.ca_dir)

    assert result.rc != 0
    assert "unauthorized: authentication required" in result.out
    assert tls_registry.auth_report(mark).outcome == "no-credentials"


def test_isolated_env_ignores_ambient_credentials(tmp_path, skopeo, tls_registry, image, monkeypatch):
    """Good credentials in the caller's DOCKER_CONFIG/REGISTRY_AUTH_FILE/HOME must not leak in."""
    ambient = tmp_path / "ambient"
    good = dockerconfigjson(tls_registry.host, tls_registry.username, tls_registry.password)
    write_docker_config(ambient / "docker", good)
    write_docker_config(ambient / "home" / ".docker", good)
    monkeypatch.setenv("DOCKER_CONFIG", str(ambient / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(ambient / "docker" / "config.json"))
    monkeypatch.setenv("HOME", str(ambient / "home"))
    env = isolated_env(tmp_path / "iso")
    assert "DOCKER_CONFIG" not in env and "REGISTRY_AUTH_FILE" not in env
    assert env["HOME"] != str(ambient / "home")

    result = skopeo_copy(image.ref, tls_registry.ref("org/ambient"), env, cert_dir=tls_registry.ca_dir)

    assert result.rc != 0
    assert "unauthorized: authentication required" in result.out


def test_without_ca_the_tls_registry_is_not_trusted(tmp_path, skopeo, tls_registry, image):
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, tls_registry.password)
    result = skopeo_copy(image.ref, tls_registry.ref("org/noca"), env)
    assert result.rc != 0
    assert "x509" in result.out


def test_authfile_and_registry_auth_file_variants(tmp_path, skopeo, tls_registry, image):
    cfg = write_docker_config(
        tmp_path / "af", dockerconfigjson(tls_registry.host, tls_registry.username, tls_registry.password)
    )
    plain = isolated_env(tmp_path / "plain")
    skopeo_copy(image.ref, tls_registry.ref("org/af"), plain, cert_dir=tls_registry.ca_dir, authfile=cfg).check()
    via_env = isolated_env(tmp_path / "viaenv", registry_auth_file=cfg)
    got = skopeo_inspect_digest(tls_registry.ref("org/af"), via_env, cert_dir=tls_registry.ca_dir).check()
    assert got.digest == image.manifest_digest


# ---------------------------------------------------------------------------------------------
# plain HTTP (insecure: true registries)


def test_plain_http_registry_with_tls_verify_false(tmp_path, skopeo, http_registry, image):
    assert http_registry.url.startswith("http://") and not http_registry.tls
    env = _config_env(tmp_path, http_registry.host, http_registry.username, http_registry.password)
    ref = http_registry.ref("org/http")

    skopeo_copy(image.ref, ref, env, **http_registry.client_tls()).check()
    assert skopeo_inspect_digest(ref, env, tls_verify=False).check().digest == image.manifest_digest

    refused = skopeo_copy(image.ref, http_registry.ref("org/http2"), env)  # tls_verify defaults to True
    assert refused.rc != 0
    assert "server gave HTTP response to HTTPS client" in refused.out

    bad_env = _config_env(tmp_path, http_registry.host, http_registry.username, "nope", name="bad")
    bad = skopeo_copy(image.ref, http_registry.ref("org/http3"), bad_env, tls_verify=False)
    assert bad.rc != 0 and "unauthorized: authentication required" in bad.out


# ---------------------------------------------------------------------------------------------
# buildah


@pytest.fixture
def build_context(tmp_path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello from buildah\n")
    (ctx / "Dockerfile").write_text('FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["/hello.txt"]\n')
    return ctx


def test_buildah_build_and_push_with_docker_config(tmp_path, tls_registry, build_context):
    require_binaries("buildah", "skopeo")
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, tls_registry.password)
    ref = tls_registry.ref("org/buildah")

    result = buildah_build_and_push(build_context, ref, env, cert_dir=tls_registry.ca_dir)

    result.check()
    assert result.digest and result.digest.startswith("sha256:")
    assert result.storage is None  # private storage removed
    remote = skopeo_inspect_digest(ref, env, cert_dir=tls_registry.ca_dir).check()
    assert remote.digest == result.digest


def test_buildah_push_with_wrong_password_fails(tmp_path, tls_registry, build_context):
    require_binaries("buildah")
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, "wrong")
    mark = tls_registry.log_mark()

    result = buildah_build_and_push(build_context, tls_registry.ref("org/buildah-bad"), env, cert_dir=tls_registry.ca_dir)

    assert result.build.ok, result.build.out
    assert result.rc == 125
    assert "unauthorized: authentication required" in result.out
    assert read_auth_report(tls_registry.log_path, mark).outcome == "authentication-failure"


def test_isolated_buildah_writes_nothing_to_etc(tmp_path, tls_registry, build_context):
    """With the private containers.conf, buildah's network lock files stay out of /etc (pitfall 10)."""
    require_binaries("buildah")
    watched = ("/etc/containers/networks", "/etc/cni")
    footprint = HostFootprint(watched)
    env = _config_env(tmp_path, tls_registry.host, tls_registry.username, tls_registry.password)
    buildah_build_and_push(build_context, tls_registry.ref("org/etc"), env, cert_dir=tls_registry.ca_dir).check()
    created = footprint.created()
    footprint.cleanup()
    assert created == []


# ---------------------------------------------------------------------------------------------
# helper behaviour without binaries


def test_host_footprint_removes_only_new_paths(tmp_path):
    old, new, nested = tmp_path / "old", tmp_path / "new", tmp_path / "old" / "inner"
    old.mkdir()
    (old / "keep.txt").write_text("x")
    fp = HostFootprint([str(old), str(new), str(nested)])
    new.mkdir()
    (new / "file").write_text("y")
    nested.mkdir()
    assert sorted(fp.created()) == sorted([str(new), str(nested)])
    fp.cleanup()
    assert old.exists() and (old / "keep.txt").exists()
    assert not new.exists() and not nested.exists()


def test_require_binaries_skips_locally_and_fails_on_ci(monkeypatch):
    missing = "conngen-no-such-binary-xyz"
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_binaries("sh", missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=missing):
        require_binaries(missing)
    assert require_binaries("sh")["sh"].endswith("/sh")


def test_dockerconfigjson_matches_kubectl_format():
    cfg = dockerconfigjson("127.0.0.1:5000", "testuser", "s3cret-Pa55")
    assert cfg == {
        "auths": {
            "127.0.0.1:5000": {
                "username": "testuser",
                "password": "s3cret-Pa55",
                "auth": "dGVzdHVzZXI6czNjcmV0LVBhNTU=",
            }
        }
    }
    assert "email" in dockerconfigjson("h", "u", "p", email="e@x")["auths"]["h"]


def test_isolated_env_points_xdg_runtime_dir_away_from_root_fallback(tmp_path, monkeypatch):
    fallback = tmp_path / "run-containers-auth.json"
    monkeypatch.setattr(clients, "ROOT_RUNTIME_AUTH", str(fallback))
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/0")
    assert "XDG_RUNTIME_DIR" not in isolated_env(tmp_path / "a")
    fallback.write_text("{}")
    env = isolated_env(tmp_path / "b")
    assert env["XDG_RUNTIME_DIR"] == str(tmp_path / "b" / "run")
    assert isolated_env(tmp_path / "c", xdg_runtime_dir=tmp_path / "x")["XDG_RUNTIME_DIR"] == str(tmp_path / "x")
