"""Registry providers: each gets what pushing to it needs, and impossible combinations are refused early.

Golden bytes of fixtures/providers-* are compared (and validated strictly) by test_golden.py; here
the facts each provider depends on are checked one by one, and every refusal must name the line.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from conftest import first_container, render_case, run_conngen
from generator.model.providers import detect, in_cluster

PROVIDER_CASES = ["providers-ghcr-quay", "providers-gcr", "providers-ecr", "providers-acr", "providers-private-ca",
                  "providers-in-cluster"]


def _env(job: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in first_container(job).get("env") or []}


def _auths(secret: dict) -> dict:
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]


def _login(entry: dict) -> tuple[str, str]:
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return user, password


@pytest.mark.parametrize("host, provider", [
    ("docker.io", "dockerhub"), ("index.docker.io", "dockerhub"), ("ghcr.io", "ghcr"), ("quay.io", "quay"),
    ("gcr.io", "gcr"), ("eu.gcr.io", "gcr"), ("europe-west4-docker.pkg.dev", "gcr"),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr"), ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "ecr"),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "ecr"), ("public.ecr.aws", "ecr"),
    ("acmeml.azurecr.io", "acr"), ("registry.acme.example:5000", "generic"),
    # look-alikes must not get a cloud helper's token (osscontainertools kaniko PR #1004)
    ("acmeml.azurecr.io.evil.example", "generic"), ("12345.dkr.ecr.eu-west-1.amazonaws.com", "generic"),
    ("notgcr.io", "generic"), ("gcr.io.evil.example", "generic"),
])
def test_provider_is_detected_from_the_host(host: str, provider: str) -> None:
    assert detect(host) == provider


def test_in_cluster_hosts() -> None:
    assert in_cluster("registry.registry.svc.cluster.local:5000") and in_cluster("registry.tools.svc:5000")
    assert not in_cluster("registry.acme.example:5000") and not in_cluster("svc.example.com")


def test_ghcr_and_quay_are_logins_keyed_by_host() -> None:
    objs = render_case("providers-ghcr-quay")
    assert _login(_auths(objs[("Secret", "ghcr-conf")])["ghcr.io"]) == ("acme-bot", "ghp_fakeFAKEfake0000000000000000000000")
    quay = _auths(objs[("Secret", "quay-conf")])
    assert list(quay) == ["quay.io"] and _login(quay["quay.io"])[0] == "acme+builder"
    assert "--destination=ghcr.io/acme/web:1.0.0" in first_container(objs[("Job", "web")])["args"]
    assert "--tag=quay.io/acme/worker:1.0.0" in first_container(objs[("Job", "worker")])["args"]


def test_gcr_json_key_login_and_helper_and_workload_identity() -> None:
    objs = render_case("providers-gcr")
    key = (Path("fixtures/providers-gcr/creds/sa-key.json")).read_text().rstrip("\n")
    auths = _auths(objs[("Secret", "gar-login")])
    assert list(auths) == ["europe-west4-docker.pkg.dev"]
    assert _login(auths["europe-west4-docker.pkg.dev"]) == ("_json_key", key)
    server = objs[("Job", "server")]
    assert _env(server) == {"GOOGLE_APPLICATION_CREDENTIALS": "/secret/key.json"}
    volume = server["spec"]["template"]["spec"]["volumes"][0]
    assert volume["secret"] == {"secretName": "gcr-sa-key", "items": [{"key": "sa.json", "path": "key.json"}]}
    batch = objs[("Job", "batch")]["spec"]["template"]["spec"]
    assert "volumes" not in batch and batch["serviceAccountName"] == "image-builder"
    assert ("Secret", "gcr-sa-key") not in objs  # the key Secret is the user's, never generated


def test_ecr_uses_the_built_in_helper_with_irsa_or_a_mounted_aws_credentials_file() -> None:
    objs = render_case("providers-ecr")
    assert not [k for k in objs if k[0] == "Secret"]
    irsa = objs[("Job", "trainer")]
    assert _env(irsa) == {"AWS_SDK_LOAD_CONFIG": "true"}
    assert irsa["spec"]["template"]["spec"]["serviceAccountName"] == "ecr-pusher"
    assert "volumeMounts" not in first_container(irsa)  # no docker config: kaniko >= 1.8 finds ECR by host
    api = objs[("Job", "api")]
    assert first_container(api)["volumeMounts"] == [{"name": "aws-secret", "mountPath": "/root/.aws", "readOnly": True}]
    moved = _env(objs[("Job", "api-custom-mount")])
    assert moved["AWS_SHARED_CREDENTIALS_FILE"] == "/etc/aws/credentials" and moved["AWS_CONFIG_FILE"] == "/etc/aws/config"
    assert "--destination=public.ecr.aws/acme/cli:1.0" in first_container(objs[("Job", "cli")])["args"]


def test_acr_service_principal_login_or_acr_env_helper() -> None:
    objs = render_case("providers-acr")
    auths = _auths(objs[("Secret", "acr-sp")])
    assert _login(auths["acmeml.azurecr.io"]) == ("00000000-0000-0000-0000-00000000fake", "fake~service~principal~password")
    helper = first_container(objs[("Job", "api-helper")])
    assert helper["envFrom"] == [{"secretRef": {"name": "acr-service-principal"}}]
    assert "volumeMounts" not in helper


def test_private_ca_reaches_each_builder_where_it_reads_cas() -> None:
    objs = render_case("providers-private-ca")
    host, ca = "harbor.corp.example:8443", "/etc/conngen/registry-ca/ca.crt"
    for name in ("kaniko-app", "buildah-app", "buildkit-app"):
        spec = objs[("Job", name)]["spec"]["template"]["spec"]
        mount = next(m for m in first_container(objs[("Job", name)])["volumeMounts"] if m["name"] == "registry-ca")
        assert mount["mountPath"] == "/etc/conngen/registry-ca"
        volume = next(v for v in spec["volumes"] if v["name"] == "registry-ca")
        assert volume["configMap"] == {"name": "corp-root-ca", "items": [{"key": "corp-root.pem", "path": "ca.crt"}]}
    assert f"--registry-certificate={host}={ca}" in first_container(objs[("Job", "kaniko-app")])["args"]
    assert _env(objs[("Job", "buildah-app")])["CERT_DIR"] == "/etc/conngen/registry-ca"
    buildkit = objs[("Job", "buildkit-app")]
    assert _env(buildkit)["REGISTRY_HOST"] == host and _env(buildkit)["REGISTRY_CA_FILE"] == ca
    assert 'ca = ["%s"]' in first_container(buildkit)["command"][2]


def test_in_cluster_insecure_registry_for_each_builder() -> None:
    objs = render_case("providers-in-cluster")
    host = "registry.registry.svc.cluster.local:5000"
    assert f"--insecure-registry={host}" in first_container(objs[("Job", "notebook")])["args"]
    assert _env(objs[("Job", "notebook-buildah")])["TLS_VERIFY"] == "false"
    assert first_container(objs[("Job", "notebook-buildkit")])["args"][-1].endswith(",push=true,registry.insecure=true")


@pytest.mark.parametrize("case", PROVIDER_CASES)
def test_explain_is_sound_for_every_provider(case: str) -> None:
    result = run_conngen("explain", "--output", "json", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["builds"]
    for row in report["builds"]:
        assert row["status"] == "ok" and row["destinations"]
        assert bool(row["helper"]) != bool(row["secret"]) or (not row["helper"] and not row["secret"])


def test_explain_names_the_helper_and_where_its_cloud_credentials_come_from() -> None:
    text = run_conngen("explain", "fixtures/providers-ecr/generator.yaml").stdout
    block = text.split("\n\n")[1]
    assert "helper             ecr-login" in block and "cloud creds        Secret aws-secret mounted at /root/.aws" in block
    assert "secret             none (credential helper)" in block


BASE = """\
apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata: {name: bad}
connections:
  - name: reg
    kind: registry
    schema: {url: "URL"SCHEMA}SECRET
  - name: corp-ca
    kind: custom
    configMap: {name: corp-root-ca}
CREDENTIALS
builds:
  - name: app
    connection: reg
    builder: BUILDER
    image: IMAGE
    context: git://github.com/acme/app.git
"""


def _config(tmp_path: Path, url: str, builder: str = "kaniko", schema: str = "", secret: str = "",
            credentials: str = "", image: str = "app:1") -> Path:
    text = (BASE.replace("URL", url).replace("SCHEMA", schema).replace("SECRET", secret)
            .replace("CREDENTIALS", credentials).replace("BUILDER", builder).replace("IMAGE", image))
    (tmp_path / "generator.yaml").write_text(text)
    (tmp_path / "key").write_text("not-a-real-value\n")
    return tmp_path


REFUSALS = [
    ("buildah-ecr", dict(url="123456789012.dkr.ecr.eu-west-1.amazonaws.com", builder="buildah"),
     15, 5, "buildah cannot use the ecr-login credential helper"),
    ("buildkit-acr-helper", dict(url="acmeml.azurecr.io", builder="buildkit", schema=", auth: helper"),
     15, 5, "buildkit cannot use the acr-env credential helper"),
    ("dockerizer-gcr-helper", dict(url="gcr.io/acme", builder="dockerizer", schema=", auth: helper"),
     15, 5, "dockerizer cannot use the google credential helper"),
    ("dockerizer-ca", dict(url="harbor.corp.example/ml", builder="dockerizer", schema=", ca: corp-ca"),
     15, 5, "dockerizer cannot take a registry CA"),
    ("dockerizer-in-cluster", dict(url="registry.tools.svc.cluster.local:5000", builder="dockerizer",
                                   schema=", insecure: true"),
     15, 5, "cannot resolve the cluster Service name"),
    ("ecr-generated-password", dict(url="123456789012.dkr.ecr.eu-west-1.amazonaws.com", schema=", auth: dockerConfig",
                                    secret="\n    secret: {name: ecr-conf}",
                                    credentials="credentials:\n  ecr-conf: {username: AWS, password: {file: key}}"),
     13, 3, "Amazon ECR has no static password"),
    ("helper-with-generated-secret", dict(url="acmeml.azurecr.io", schema=", auth: helper",
                                          secret="\n    secret: {name: sp}",
                                          credentials="credentials:\n  sp: {username: {file: key}, password: {file: key}}"),
     13, 3, "uses the acr-env credential helper, so its secret 'sp' holds AZURE_CLIENT_ID"),
    ("ghcr-helper", dict(url="ghcr.io/acme", schema=", auth: helper"), 7, 35, "GitHub Container Registry has no credential helper"),
    ("helper-lookalike-host", dict(url="registry.acme.example", schema=", provider: ecr"), 7, 44,
     "the ecr-login credential helper answers only for Amazon ECR hosts"),
    ("ghcr-no-owner", dict(url="ghcr.io", secret=""), 16, 5, "GitHub Container Registry images need a namespace"),
    ("artifact-registry-no-repository", dict(url="europe-west4-docker.pkg.dev/acme-ml"), 16, 5,
     "Google Container/Artifact Registry images need a namespace"),
    ("missing-ca-connection", dict(url="harbor.corp.example/ml", schema=", ca: nope"), 7, 45,
     "CA connection 'nope' is not in the catalog"),
    ("acr-helper-mounted", dict(url="acmeml.azurecr.io", schema=", auth: helper",
                                secret="\n    secret: {name: sp, mountPath: /azure}"), 8, 24,
     "acr-env reads AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID of a service principal from environment"),
    ("unknown-provider", dict(url="registry.acme.example", schema=", provider: harbor"), 7, 44,
     "'harbor' is not one of: dockerhub, ghcr, quay, gcr, ecr, acr, generic"),
    ("json-key-and-username", dict(url="gcr.io/acme", secret="\n    secret: {name: gcr-conf}",
                                   credentials="credentials:\n  gcr-conf: {gcpServiceAccountKey: {file: key}, "
                                               "username: {file: key}}"),
     13, 3, "gcpServiceAccountKey is the password of user _json_key"),
]


@pytest.mark.parametrize("case, settings, line, column, message", REFUSALS, ids=[r[0] for r in REFUSALS])
@pytest.mark.parametrize("command", ["render", "validate"])
def test_impossible_combinations_are_refused_with_a_location(tmp_path: Path, command: str, case: str, settings: dict,
                                                             line: int, column: int, message: str) -> None:
    app = _config(tmp_path, **settings)
    result = run_conngen(command, "generator.yaml", cwd=app)
    assert result.returncode == 1, result.stdout + result.stderr
    located = [ln for ln in result.stderr.splitlines() if message in ln]
    assert located, result.stderr
    assert re.match(rf"generator\.yaml:{line}:{column}: error: ", located[0]), located[0]
    assert "not-a-real-value" not in result.stdout + result.stderr


def test_in_cluster_registry_over_https_without_a_ca_is_a_warning(tmp_path: Path) -> None:
    app = _config(tmp_path, "registry.tools.svc.cluster.local:5000")
    result = run_conngen("render", "generator.yaml", cwd=app)
    assert result.returncode == 0, result.stderr
    assert re.search(r"generator\.yaml:7:\d+: warning: .*in-cluster registry registry\.tools\.svc\.cluster\.local:5000 "
                     r"is pushed to over HTTPS", result.stderr)


def test_explicit_provider_overrides_detection(tmp_path: Path) -> None:
    """A registry on a Docker Hub host declared generic gets no namespace check; ECR declared generic
    takes a docker config like any registry."""
    app = _config(tmp_path, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", schema=", provider: generic",
                  secret="\n    secret: {name: ecr-conf}",
                  credentials="credentials:\n  ecr-conf: {username: AWS, password: {file: key}}")
    result = run_conngen("explain", "--output", "json", "generator.yaml", cwd=app)
    assert result.returncode == 0, result.stdout + result.stderr
    row = json.loads(result.stdout)["builds"][0]
    assert row["provider"] == "generic" and row["helper"] is None and row["secret"] == "ecr-conf"


def test_a_connection_warning_is_given_once_however_many_builds_use_it(tmp_path: Path) -> None:
    app = _config(tmp_path, "registry.tools.svc.cluster.local:5000")
    text = (app / "generator.yaml").read_text()
    (app / "generator.yaml").write_text(text + text[text.index("  - name: app"):].replace("name: app", "name: app2"))
    result = run_conngen("render", "generator.yaml", cwd=app)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("in-cluster registry registry.tools.svc.cluster.local:5000") == 1


def test_workload_injection_wires_a_helper_connection_like_a_generated_job() -> None:
    """planner.registry_mount (Helm post-renderer injection) must not mount an AWS credentials Secret as config.json."""
    from generator.errors import UserError
    from generator.pipeline import load
    from generator.plan.planner import registry_mount
    from generator.read.yamlio import load_yaml_file

    path = Path("fixtures/providers-ecr/generator.yaml")
    config, _ = load(load_yaml_file(path, str(path)), str(path), path.resolve().parent)
    volumes, mounts, env, credential = registry_mount(config, "ecr-keys", "kaniko")
    assert volumes == ({"name": "aws-secret", "secret": {"secretName": "aws-secret"}},)
    assert mounts == ({"name": "aws-secret", "mountPath": "/root/.aws", "readOnly": True},)
    assert env == ({"name": "AWS_SDK_LOAD_CONFIG", "value": "true"},)
    assert credential.helper == "ecr-login" and credential.secret is None
    with pytest.raises(UserError, match="buildah cannot use the credential helper"):
        registry_mount(config, "ecr-keys", "buildah")
