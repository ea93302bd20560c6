"""Shared test helpers: run conngen as users do (a subprocess), find fixtures, validate objects."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from support.engine import engine_fixture

# the render cache must not leak between tests, nor into the user's ~/.cache
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="conngen-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
K8S_VERSION = "1.31"

#: one registry whose Secret `regcred` is mounted for kaniko: the catalog the credential-source tests share
REGCRED_CATALOG = """\
connections:
  - name: reg
    kind: registry
    schema: {url: https://registry.acme.example/ml}
    secret: {name: regcred, mountPath: /kaniko/.docker}
"""


#: one Docker engine per session for every test that runs containers (tests/support/engine.py)
engine = engine_fixture()


def golden_cases() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/expected.yaml"))


def run_conngen(*args: str, cwd: Path | None = None, env: dict | None = None,
                stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd or REPO, env=full_env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def object_key(obj: dict) -> tuple[str, str]:
    """(kind, name), a Job named by its build: its own name carries a hash of its inputs (docs/lifecycle.md)."""
    if obj["kind"] == "Job" and "app.kubernetes.io/instance" in (obj["metadata"].get("labels") or {}):
        return "Job", obj["metadata"]["labels"]["app.kubernetes.io/instance"]
    return obj["kind"], obj["metadata"]["name"]


def render_case(case: str) -> dict[tuple[str, str], dict]:
    """`conngen render` of fixtures/<case>, objects keyed by `object_key`."""
    result = run_conngen("render", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stderr
    return dict((object_key(o), o) for o in load_stream(result.stdout))


def first_container(job: dict) -> dict:
    """The builder container of a rendered Job."""
    return job["spec"]["template"]["spec"]["containers"][0]


def load_stream(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def assert_valid_k8s(objects: list[dict]) -> None:
    """Every object passes the Kubernetes OpenAPI schema, strictly (unknown fields refused)."""
    import kubernetes_validate

    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def require_tool(name: str) -> str:
    """The path of a real tool; on CI a missing tool fails instead of skipping."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required on CI but not installed (see scripts/install-test-deps)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def plugin_home(tmp_path: Path) -> dict:
    """A temporary kustomize plugin home with conngen installed by `conngen install`."""
    home = tmp_path / "plugin-home"
    home.mkdir()
    env = {"KUSTOMIZE_PLUGIN_HOME": str(home)}
    result = run_conngen("install", env=env)
    assert result.returncode == 0, result.stderr
    return env
