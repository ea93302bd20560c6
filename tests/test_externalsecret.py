"""ExternalSecret mode: External Secrets Operator objects instead of Secrets with data.

kubernetes-validate has no schema for ESO's CRD, so the structure is checked against a schema
transcribed from external-secrets.io/v1 (apis/externalsecrets/v1/externalsecret_types.go). The
Go template is run for real: helm's `tpl` is text/template with sprig, the engine ESO v2 uses.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import FIXTURES, REGCRED_CATALOG, assert_valid_k8s, load_stream, require_tool, run_conngen

CASE = FIXTURES / "eso-credentials"
_NAME = {"type": "string", "minLength": 1, "maxLength": 253,
         "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}
_REMOTE_REF = {"type": "object", "required": ["key"], "additionalProperties": False, "properties": {
    "key": {"type": "string"}, "property": {"type": "string"}, "version": {"type": "string"},
    "metadataPolicy": {"enum": ["None", "Fetch"]}, "conversionStrategy": {"enum": ["Default", "Unicode"]},
    "decodingStrategy": {"enum": ["Auto", "Base64", "Base64URL", "None"]}}}
EXTERNAL_SECRET = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "external-secrets.io/v1"}, "kind": {"const": "ExternalSecret"},
        "metadata": {"type": "object", "required": ["name"], "properties": {"name": _NAME}},
        "spec": {"type": "object", "additionalProperties": False, "required": ["secretStoreRef", "target", "data"],
                 "properties": {
                     "secretStoreRef": {"type": "object", "required": ["name"], "additionalProperties": False,
                                        "properties": {"name": _NAME,
                                                       "kind": {"enum": ["SecretStore", "ClusterSecretStore"]}}},
                     "refreshInterval": {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$"},
                     "target": {"type": "object", "additionalProperties": False, "required": ["name", "template"],
                                "properties": {
                                    "name": _NAME, "creationPolicy": {"const": "Owner"},
                                    "template": {"type": "object", "additionalProperties": False,
                                                 "required": ["type", "engineVersion", "data"], "properties": {
                                                     "type": {"const": "kubernetes.io/dockerconfigjson"},
                                                     "engineVersion": {"const": "v2"},
                                                     "metadata": {"type": "object", "additionalProperties": False,
                                                                  "properties": {"labels": {"type": "object"},
                                                                                 "annotations": {"type": "object"}}},
                                                     "data": {"type": "object", "additionalProperties": False,
                                                              "required": [".dockerconfigjson"],
                                                              "properties": {".dockerconfigjson": {"type": "string"}}}}}}},
                     "data": {"type": "array", "minItems": 1, "items": {
                         "type": "object", "required": ["secretKey", "remoteRef"], "additionalProperties": False,
                         "properties": {"secretKey": {"type": "string", "pattern": r"^[-._a-zA-Z0-9]+$"},
                                        "remoteRef": _REMOTE_REF}}}}}}}


def _render(config: Path, **kw) -> list[dict]:
    result = run_conngen("render", str(config), **kw)
    assert result.returncode == 0, result.stderr
    return load_stream(result.stdout)


def _go_template(text: str, data: dict[str, str], tmp: Path) -> str:
    """Execute `text` with `data` as dot, through helm's tpl (Go text/template + sprig)."""
    chart = tmp / "gotpl"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: gotpl\nversion: 0.1.0\n")
    (chart / "templates/out.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: out\n"
                                              "data:\n  out: {{ tpl .Values.tmpl .Values.data | toJson }}\n")
    values = tmp / "values.json"
    values.write_text(json.dumps({"tmpl": text, "data": data}))
    done = subprocess.run([require_tool("helm"), "template", "x", str(chart), "-f", str(values)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)["data"]["out"]


def _kubectl_dockerconfigjson(server: str, user: str, password: str, email: str) -> str:
    done = subprocess.run([require_tool("kubectl"), "create", "secret", "docker-registry", "x", "--dry-run=client",
                           "-o", "json", f"--docker-server={server}", f"--docker-username={user}",
                           f"--docker-password={password}", f"--docker-email={email}"],
                          capture_output=True, text=True, check=True)
    return base64.b64decode(json.loads(done.stdout)["data"][".dockerconfigjson"]).decode("utf-8")


def test_golden_output_and_structure() -> None:
    result = run_conngen("render", str(CASE / "generator.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (CASE / "golden.yaml").read_text(encoding="utf-8")
    objects = load_stream(result.stdout)
    external = [o for o in objects if o["kind"] == "ExternalSecret"]
    assert [o["metadata"]["name"] for o in external] == ["acme-regcred", "dockerhub-regcred"]
    assert not [o for o in objects if o["kind"] == "Secret"], "no credential data may be rendered in this mode"
    for obj in external:
        jsonschema.validate(obj, EXTERNAL_SECRET)
        assert obj["spec"]["target"]["name"] == obj["metadata"]["name"]
        # ESO names the Secret: kustomize must not hash it, or the Jobs would mount a name nobody creates
        assert "kustomize.config.k8s.io/needs-hash" not in obj["metadata"].get("annotations", {})
    assert_valid_k8s([o for o in objects if o["kind"] != "ExternalSecret"])
    mounted = {v["secret"]["secretName"] for o in objects if o["kind"] == "Job"
               for v in o["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert mounted == {"acme-regcred", "dockerhub-regcred"}


@pytest.mark.parametrize("user,password", [
    ("robot$ml", "plain"),
    ("bot", 'quote" back\\slash <tag> & amp'),
    ("émile", "pässwörd\ttab %s {{ .username }}"),
])
def test_go_template_renders_what_kubectl_writes(tmp_path: Path, user: str, password: str) -> None:
    acme = next(o for o in _render(CASE / "generator.yaml") if o["metadata"]["name"] == "acme-regcred")
    template = acme["spec"]["target"]["template"]["data"][".dockerconfigjson"]
    got = _go_template(template, {"username": user, "password": password}, tmp_path)
    assert got == _kubectl_dockerconfigjson("registry.acme.example", user, password, "ml-bot@acme.example")
    assert {d["secretKey"] for d in acme["spec"]["data"]} == {"username", "password"}


def test_whole_docker_config_passes_through_unchanged(tmp_path: Path) -> None:
    hub = next(o for o in _render(CASE / "generator.yaml") if o["metadata"]["name"] == "dockerhub-regcred")
    config = json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"u:p<&>").decode()}}})
    got = _go_template(hub["spec"]["target"]["template"]["data"][".dockerconfigjson"], {"dockerconfigjson": config},
                       tmp_path)
    assert got == config
    assert hub["spec"]["data"] == [{"secretKey": "dockerconfigjson",
                                    "remoteRef": {"key": "ci/dockerhub-config", "version": "AWSCURRENT"}}]


def test_several_registries_share_one_external_secret(tmp_path: Path) -> None:
    app = _app(tmp_path, extra_registry=True, credential=LOGIN)
    (obj,) = [o for o in _render(app / "generator.yaml") if o["kind"] == "ExternalSecret"]
    got = json.loads(_go_template(obj["spec"]["target"]["template"]["data"][".dockerconfigjson"],
                                  {"username": "u", "password": "p"}, tmp_path))
    entry = {"username": "u", "password": "p", "auth": base64.b64encode(b"u:p").decode()}
    assert got == {"auths": {"ghcr.io": entry, "registry.acme.example": entry}}


def test_kustomize_keeps_the_plain_secret_name(tmp_path: Path, plugin_home: dict) -> None:
    app = _app(tmp_path, extra_registry=False, credential=LOGIN)
    (app / "kustomization.yaml").write_text("generators: [generator.yaml]\n")
    with (app / "generator.yaml").open("a") as fh:
        fh.write("pullSecrets:\n  - {serviceAccount: runner, secrets: [regcred]}\n")
    done = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(app)],
                          env={**os.environ, **plugin_home}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = load_stream(done.stdout)
    external = next(o for o in objects if o["kind"] == "ExternalSecret")
    job = next(o for o in objects if o["kind"] == "Job")
    volumes = {v["secret"]["secretName"] for v in job["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    assert external["metadata"]["name"] == external["spec"]["target"]["name"] == "regcred"
    assert volumes == {"regcred"}
    account = next(o for o in objects if o["kind"] == "ServiceAccount")
    assert account["imagePullSecrets"] == [{"name": "regcred"}]


CATALOG = REGCRED_CATALOG
GHCR = """\
  - name: ghcr
    kind: registry
    schema: {url: https://ghcr.io/acme}
    secret: {name: regcred, mountPath: /kaniko/.docker}
"""
LOGIN = """\
    externalSecret:
      storeRef: {name: vault}
      remoteRefs:
        username: {key: reg, property: user}
        password: {key: reg, property: pass}
"""


def _app(tmp_path: Path, extra_registry: bool, credential: str, mode: str = "externalSecret") -> Path:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "connections.yaml").write_text(CATALOG + (GHCR if extra_registry else ""))
    (app / "generator.yaml").write_text(
        "apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\ncatalog: connections.yaml\n"
        f"generatorOptions: {{secretMode: {mode}}}\ncredentials:\n  regcred:\n{credential}"
        "builds:\n  - {name: app, connection: reg, image: 'app:1', context: 'git://github.com/acme/app.git'}\n")
    return app


@pytest.mark.parametrize("mode,credential,where,message", [
    ("externalSecret", "    username: {env: U}\n    password: {env: P}\n", "7:3",
     "secretMode is externalSecret, so every credential needs externalSecret"),
    ("secret", LOGIN, "8:5", "externalSecret needs generatorOptions.secretMode: externalSecret"),
    ("externalSecret", "    username: {env: U}\n" + LOGIN, "8:5",
     "an externalSecret credential takes its values from the secret store"),
    ("externalSecret", LOGIN.replace("        password: {key: reg, property: pass}\n",
                                     "        dockerConfig: {key: reg}\n"), "10:7",
     "give remoteRefs.dockerConfig or remoteRefs.username/password, not both"),
    ("externalSecret", LOGIN.replace("        password: {key: reg, property: pass}\n", ""), "10:7",
     "remoteRefs need username and password (or dockerConfig)"),
    ("externalSecret", LOGIN.replace("{name: vault}", "{name: vault, kind: Vault}"), "9:31",
     "'Vault' is not one of: SecretStore, ClusterSecretStore"),
    ("externalSecret", LOGIN.replace("storeRef", "refreshInterval: 1 hour\n      storeRef"), "9:7",
     "'1 hour' is not valid"),
    ("externalSecret", "    email: 'a}}{{ .password }}@b'\n" + LOGIN, "8:5",
     "which would be read as Go template code in the ExternalSecret"),
    ("sealed", LOGIN, "5:20", "'sealed' is not one of: secret, externalSecret"),
])
def test_bad_combinations_are_refused_with_a_location(tmp_path: Path, mode: str, credential: str, where: str,
                                                      message: str) -> None:
    app = _app(tmp_path, extra_registry=False, credential=credential, mode=mode)
    result = run_conngen("render", "generator.yaml", cwd=app)
    assert result.returncode == 1, result.stderr
    assert f"generator.yaml:{where}: error:" in result.stderr and message in result.stderr, result.stderr


def test_explain_says_the_secret_comes_from_the_external_secret() -> None:
    result = run_conngen("explain", "fixtures/eso-credentials/generator.yaml")
    assert result.returncode == 0, result.stderr
    assert "(made in the cluster by an ExternalSecret)" in result.stdout
    assert "(generated)" not in result.stdout


@pytest.mark.parametrize("email", ["müller@acme.example", "a&b<c>@acme.example"])
def test_the_email_is_escaped_as_kubectl_escapes_it(tmp_path: Path, email: str) -> None:
    """Go's json.Marshal keeps UTF-8 and writes `<>&` as \\u003c...: the template must hold those same bytes."""
    config = tmp_path / "generator.yaml"
    config.write_text((CASE / "generator.yaml").read_text(encoding="utf-8")
                      .replace("ml-bot@acme.example", json.dumps(email)), encoding="utf-8")
    (tmp_path / "connections.yaml").write_bytes((CASE / "connections.yaml").read_bytes())
    acme = next(o for o in _render(config) if o["metadata"]["name"] == "acme-regcred")
    got = _go_template(acme["spec"]["target"]["template"]["data"][".dockerconfigjson"],
                       {"username": "bot", "password": "pw"}, tmp_path)
    assert got == _kubectl_dockerconfigjson("registry.acme.example", "bot", "pw", email)
