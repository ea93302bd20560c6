"""Our `.dockerconfigjson` equals (as JSON) what `kubectl create secret docker-registry` writes."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_stream, require_tool, run_conngen
from generator.render.dockerauth import go_json, login_config

CASES = [
    ("https://myregistry.com/org/repo", "myregistry.com", "amurdaca", "supersecretpassword", "user@acme.com"),
    ("localhost:5001", "localhost:5001", "ci", "p@ss:w0rd with spaces", None),
    ("https://index.docker.io/v1/", "https://index.docker.io/v1/", "acmebot", "dckr_pat_ünïcødé", "ml@acme.example"),
    ("registry.kube-system.svc.cluster.local:5000/ml", "registry.kube-system.svc.cluster.local:5000", "u", "\"quoted\"\\", None),
]


def kubectl_config(server: str, user: str, password: str, email: str | None) -> dict:
    kubectl = require_tool("kubectl")
    cmd = [kubectl, "create", "secret", "docker-registry", "x", f"--docker-server={server}",
           f"--docker-username={user}", f"--docker-password={password}", "--dry-run=client", "-o", "json"]
    if email:
        cmd.append(f"--docker-email={email}")
    secret = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))


@pytest.mark.parametrize("url, server, user, password, email", CASES)
def test_dockerconfigjson_matches_kubectl(tmp_path: Path, url: str, server: str, user: str, password: str,
                                          email: str | None) -> None:
    (tmp_path / "generator.yaml").write_text(json.dumps({
        "apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "parity"},
        "connections": [{"name": "reg", "kind": "registry", "schema": {"url": url},
                         "secret": {"name": "reg-conf", "mountPath": "/kaniko/.docker"}}],
        "credentials": {"reg-conf": {"username": {"env": "P_USER"}, "password": {"env": "P_PASS"},
                                     **({"email": email} if email else {})}},
    }))
    result = run_conngen("render", str(tmp_path / "generator.yaml"), env={"P_USER": user, "P_PASS": password})
    assert result.returncode == 0, result.stderr
    secret = load_stream(result.stdout)[0]
    ours = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert ours == kubectl_config(server, user, password, email)


@settings(max_examples=300, deadline=None)
@given(servers=st.lists(st.text(min_size=1), min_size=1, max_size=3), user=st.text(), password=st.text(),
       email=st.none() | st.text())
def test_a_login_is_written_byte_for_byte_as_go_json_writes_it(servers: list[str], user: str, password: str,
                                                               email: str | None) -> None:
    """login_config writes its fixed shape without the json module (a cached build's start-up);
    it must be the bytes go_json, on json.dumps, writes of the same object."""
    entry = {"username": user, "password": password, **({"email": email} if email else {}),
             "auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
    whole = {"auths": {server: entry for server in servers}}
    assert login_config(servers, user, password, email) == go_json(whole).encode("utf-8")
