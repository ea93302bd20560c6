"""Helm post-renderer: generated names belong to the release, so two releases of a chart can share a namespace.

A chart labelled the conventional way (`app.kubernetes.io/instance: {{ .Release.Name }}`) is
installed twice through the real helm; the second release must not generate, and so fight
over, the first one's Secret or Job.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import assert_valid_k8s, load_stream, run_conngen
from support.clients import require_binaries

CREDS = {"CHART_REGISTRY_USER": "chart-bot", "CHART_REGISTRY_PASSWORD": "chart-pass-1"}
CATALOG = """\
connections:
  - name: registry
    kind: registry
    schema: {url: https://registry.example.com/team}
    secret: {name: registry-auth, mountPath: /kaniko/.docker}
  - name: existing
    kind: registry
    schema: {url: https://other.example.com/team}
    secret: {name: made-by-hand, mountPath: /kaniko/.docker}
"""
CONFIG = """\
apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata: {name: app}
lifecycle: helm
catalog: connections.yaml
credentials:
  registry-auth:
    username: {env: CHART_REGISTRY_USER}
    password: {env: CHART_REGISTRY_PASSWORD}
pullSecrets:
  - serviceAccount: puller
    secrets: [registry-auth]
builds:
  - name: app
    connection: registry
    image: app:1.0
    context: git://github.com/acme/app.git#refs/heads/main
"""
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app.kubernetes.io/instance: {{ .Release.Name | quote }}}
  annotations: {conngen.dev/registry-connection: registry}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/team/app:1.0}]
"""


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    root = tmp_path / "chart"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: two-releases\nversion: 0.1.0\n")
    (root / "templates" / "web.yaml").write_text(WORKLOAD)
    (root / "conngen").mkdir()
    (root / "conngen" / "generator.yaml").write_text(CONFIG)
    (root / "conngen" / "connections.yaml").write_text(CATALOG)
    return root


def helm_template(chart: Path, release: str, tmp_path: Path) -> list[dict]:
    helm = require_binaries("helm")["helm"]
    env = {**os.environ, **CREDS, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    for name in ("HELM_PLUGINS", "HELM_DATA_HOME", "HELM_CONFIG_HOME", "HELM_CACHE_HOME"):
        env[name] = str(tmp_path / name)
    result = subprocess.run([helm, "template", release, str(chart), "--post-renderer", "conngen",
                             "--post-renderer-args", "post-render", "--post-renderer-args",
                             str(chart / "conngen" / "generator.yaml")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    return load_stream(result.stdout)


def names(objects: list[dict]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


@pytest.mark.e2e
def test_two_releases_of_one_chart_generate_distinct_objects(chart: Path, tmp_path: Path) -> None:
    first, second = helm_template(chart, "blue", tmp_path), helm_template(chart, "green", tmp_path)
    assert_valid_k8s(first + second)
    assert names(first) == {("Deployment", "blue-web"), ("Secret", "blue-registry-auth"), ("Job", "blue-app"),
                            ("ServiceAccount", "blue-puller")}
    assert names(second) == {("Deployment", "green-web"), ("Secret", "green-registry-auth"), ("Job", "green-app"),
                             ("ServiceAccount", "green-puller")}
    for objects, release in ((first, "blue"), (second, "green")):
        by_kind = {o["kind"]: o for o in objects}
        # every reference follows the scoped name: the generated Job, the chart's annotated workload, the account
        for kind in ("Job", "Deployment"):
            pod = by_kind[kind]["spec"]["template"]["spec"]
            assert [v["secret"]["secretName"] for v in pod["volumes"]] == [f"{release}-registry-auth"]
        assert by_kind["ServiceAccount"]["imagePullSecrets"] == [{"name": f"{release}-registry-auth"}]
        # lifecycle: helm makes the build a hook that the next upgrade replaces
        assert by_kind["Job"]["metadata"]["annotations"] == {
            "helm.sh/hook": "post-install,post-upgrade", "helm.sh/hook-delete-policy": "before-hook-creation"}


def _post_render(chart: Path, manifests: str, *extra: str) -> subprocess.CompletedProcess:
    return run_conngen("post-render", str(chart / "conngen" / "generator.yaml"), *extra, stdin=manifests, env=CREDS)


def test_the_release_option_scopes_names_and_existing_secrets_keep_theirs(chart: Path) -> None:
    config = chart / "conngen" / "generator.yaml"
    config.write_text(CONFIG.replace("connection: registry\n", "connection: existing\n"))
    result = _post_render(chart, "", "--release", "r1")
    assert result.returncode == 0, result.stderr
    objects = load_stream(result.stdout)
    assert ("Secret", "r1-registry-auth") in names(objects) and ("Job", "r1-app") in names(objects)
    job = next(o for o in objects if o["kind"] == "Job")
    assert job["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "made-by-hand"


def test_without_a_release_name_the_user_is_warned(chart: Path) -> None:
    result = _post_render(chart, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "--release" in result.stderr
    assert ("Secret", "registry-auth") in names(load_stream(result.stdout))
    strict = _post_render(chart, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "--strict")
    assert strict.returncode == 1 and "error:" in strict.stderr and strict.stdout == ""


def test_objects_of_several_releases_are_refused(chart: Path) -> None:
    manifests = "".join(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": n, "labels": {"app.kubernetes.io/instance": n}}}, explicit_start=True) for n in ("a", "b"))
    result = _post_render(chart, manifests)
    assert result.returncode == 1
    assert "several releases" in result.stderr and "--release" in result.stderr
