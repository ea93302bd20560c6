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


def test_kustomize_renames_the_pull_secret_with_the_hashed_secret(plugin_home: dict) -> None:
    objects = _kustomize(CASE, plugin_home)
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    hashed = secret["metadata"]["name"]
    assert hashed.startswith("acme-regcred-") and hashed != "acme-regcred-"
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    assert sorted(o["metadata"]["name"] for o in accounts) == ["app-runner", "default"]
    for account in accounts:
        assert account["imagePullSecrets"] == [{"name": hashed}]
    job = next(o for o in objects if o["kind"] == "Job")
    assert {v["secret"]["secretName"] for v in job["spec"]["template"]["spec"]["volumes"] if "secret" in v} == {hashed}
    assert_valid_k8s(objects)


def test_credential_change_rotates_the_name_everywhere(tmp_path: Path, plugin_home: dict) -> None:
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(CASE), str(app)], check=True)
    first = {o["kind"]: o for o in _kustomize(app, plugin_home)}
    (app / "creds/password").write_text("another-password\n")
    second = {o["kind"]: o for o in _kustomize(app, plugin_home)}
    assert first["Secret"]["metadata"]["name"] != second["Secret"]["metadata"]["name"]
    assert second["ServiceAccount"]["imagePullSecrets"] == [{"name": second["Secret"]["metadata"]["name"]}]


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
