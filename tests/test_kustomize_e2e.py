"""End to end through the real `kubectl kustomize --enable-alpha-plugins` with `conngen install`."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, assert_valid_k8s, load_stream, require_tool

pytestmark = pytest.mark.e2e


def kustomize(directory: Path, env: dict) -> subprocess.CompletedProcess:
    kubectl = require_tool("kubectl")
    import os

    return subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", str(directory)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def _copy_seed(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed", app)
    return app


def test_kustomize_build_equals_golden(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    result = kustomize(app, plugin_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (FIXTURES / "seed" / "expected-kustomize.yaml").read_text(encoding="utf-8")
    assert_valid_k8s(load_stream(result.stdout))


def test_kustomize_output_is_the_rendered_golden(tmp_path: Path, plugin_home: dict) -> None:
    """Semantically: kustomize passes conngen's objects through; no Secret a Job mounts is renamed."""
    app = _copy_seed(tmp_path)
    built = {(o["kind"], o["metadata"]["name"]): o for o in load_stream(kustomize(app, plugin_home).stdout)}
    golden = load_stream((FIXTURES / "seed" / "expected.yaml").read_text(encoding="utf-8"))
    assert built == {(o["kind"], o["metadata"]["name"]): o for o in golden}


def _secret_and_refs(output: str) -> tuple[str, set[str], list[dict]]:
    objects = load_stream(output)
    secret = next(o for o in objects if o["kind"] == "Secret")
    jobs = [o for o in objects if o["kind"] == "Job"]
    refs = {v["secret"]["secretName"] for o in jobs for v in o["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    return secret["metadata"]["name"], refs, jobs


def test_rotating_a_password_updates_the_secret_and_changes_no_job(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    before, refs_before, jobs_before = _secret_and_refs(kustomize(app, plugin_home).stdout)
    (app / "creds" / "password").write_text("rotated-password\n")
    result = kustomize(app, plugin_home)
    after, refs_after, jobs_after = _secret_and_refs(result.stdout)
    assert before == after == "docker-conf" and refs_before == refs_after == {"docker-conf"}
    assert jobs_before == jobs_after  # the pod templates, immutable, are untouched: nothing rebuilds
    secret = next(o for o in load_stream(result.stdout) if o["kind"] == "Secret")
    auth = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]["myregistry.com"]["auth"]
    assert base64.b64decode(auth).decode() == "amurdaca:rotated-password"


def test_plugin_errors_reach_kustomize_with_location_and_no_secret(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    (app / "creds" / "password").write_text("canary-Zx81-do-not-print\n")
    text = (app / "connections.yaml").read_text().replace("mountPath: /root/.docker", "mountPath: root/.docker")
    (app / "connections.yaml").write_text(text)
    result = kustomize(app, plugin_home)
    assert result.returncode != 0
    assert "connections.yaml:16:7: error: connections[1].secret.mountPath:" in result.stderr
    assert "canary-Zx81" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_paths_resolve_against_the_kustomization_not_the_temp_copy(tmp_path: Path, plugin_home: dict) -> None:
    """kustomize passes a temporary copy of the config; catalogs are still found from the app dir."""
    app = _copy_seed(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(app)], cwd=outside,
                            env={**__import__("os").environ, **plugin_home}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "kind: Job" in result.stdout
