"""pullSecrets: ServiceAccounts whose imagePullSecrets name the generated registry Secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, assert_valid_k8s, load_stream, require_tool, run_conngen

CASE = FIXTURES / "pull-secrets"


def _kustomize(app: Path, plugin_home: dict) -> list[dict]:
    done = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(app)],
                          env={**os.environ, **plugin_home}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return load_stream(done.stdout)


def test_service_accounts_are_valid_and_the_patch_carries_only_the_pull_secrets() -> None:
    result = run_conngen("render", str(CASE / "generator.yaml"))
    assert result.returncode == 0, result.stderr
    objects = load_stream(result.stdout)
    assert_valid_k8s(objects)
    accounts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceAccount"}
    assert accounts["app-runner"]["imagePullSecrets"] == [{"name": "acme-regcred"}]
    assert accounts["app-runner"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "conngen"
    # a patch for an account that exists: nothing that would overwrite what the cluster already has
    assert accounts["default"] == {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"},
                                   "imagePullSecrets": [{"name": "acme-regcred"}]}


def _without_builds(app: Path) -> None:
    config = app / "generator.yaml"
    config.write_text(config.read_text().split("builds:")[0])


def test_a_secret_only_pull_secrets_list_is_hashed_and_the_accounts_follow(tmp_path: Path, plugin_home: dict) -> None:
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(CASE), str(app)], check=True)
    _without_builds(app)
    objects = _kustomize(app, plugin_home)
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    hashed = secret["metadata"]["name"]
    assert hashed.startswith("acme-regcred-") and hashed != "acme-regcred-"
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert sorted(o["metadata"]["name"] for o in accounts) == ["app-runner", "default"]
    for account in accounts:
        assert account["imagePullSecrets"] == [{"name": hashed}]
    assert_valid_k8s(objects)
    (app / "creds/password").write_text("another-password\n")
    rotated = {o["kind"]: o for o in _kustomize(app, plugin_home)}
    assert rotated["Secret"]["metadata"]["name"] != hashed
    assert rotated["ServiceAccount"]["imagePullSecrets"] == [{"name": rotated["Secret"]["metadata"]["name"]}]


def test_a_secret_a_job_mounts_keeps_its_name_through_a_rotation(tmp_path: Path, plugin_home: dict) -> None:
    """Renaming it would change the Job's immutable pod template (docs/lifecycle.md)."""
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(CASE), str(app)], check=True)
    first = _kustomize(app, plugin_home)
    (app / "creds/password").write_text("another-password\n")
    second = _kustomize(app, plugin_home)
    for objects in (first, second):
        by_kind = {o["kind"]: o for o in objects}
        assert by_kind["Secret"]["metadata"]["name"] == "acme-regcred"
        assert by_kind["ServiceAccount"]["imagePullSecrets"] == [{"name": "acme-regcred"}]
        assert {v["secret"]["secretName"] for v in by_kind["Job"]["spec"]["template"]["spec"]["volumes"]
                if "secret" in v} == {"acme-regcred"}
    assert [o for o in first if o["kind"] == "Job"] == [o for o in second if o["kind"] == "Job"]
    assert [o["data"] for o in first if o["kind"] == "Secret"] != [o["data"] for o in second if o["kind"] == "Secret"]


CONFIG = """\
apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata: {name: t}
catalog: connections.yaml
credentials:
  acme-regcred:
    username: {file: creds/username}
    password: {file: creds/password}
"""


@pytest.mark.parametrize("entries,where,message", [
    ("  - {serviceAccount: app, secrets: [acme-regcrd]}\n", "10:37",
     "'acme-regcrd' is not one of this config's credentials"),
    ("  - {serviceAccount: app, secrets: [acme-regcred, acme-regcred]}\n", "10:51", "secret 'acme-regcred' is listed twice"),
    ("  - {serviceAccount: app, secrets: [acme-regcred]}\n  - {serviceAccount: app, secrets: [acme-regcred]}\n",
     "11:6", "ServiceAccount 'app' is already listed in pullSecrets[0]"),
    ("  - {serviceAccount: app, secrets: []}\n", "10:27", "needs at least 1 item(s)"),
    ("  - {serviceAccount: App_1, secrets: [acme-regcred]}\n", "10:6", "'App_1' is not valid"),
    ("  - {serviceAccount: app, secrets: [acme-regcred], patch: yes}\n", "10:52", "expected true or false"),
])
def test_bad_pull_secrets_are_refused_with_a_location(tmp_path: Path, entries: str, where: str, message: str) -> None:
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(CASE), str(app)], check=True)
    (app / "generator.yaml").write_text(CONFIG + "pullSecrets:\n" + entries)
    result = run_conngen("render", "generator.yaml", cwd=app)
    assert result.returncode == 1, result.stderr
    assert f"generator.yaml:{where}: error:" in result.stderr and message in result.stderr, result.stderr
