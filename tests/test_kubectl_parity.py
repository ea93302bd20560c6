"""Our `.dockerconfigjson` equals (as JSON) what `kubectl create secret docker-registry` writes."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from conftest import load_stream, require_tool, run_conngen

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
