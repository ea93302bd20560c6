"""Polyaxon users migrate unchanged: every setup Polyaxon's docs teach renders, mounts and pushes right.

Each fixtures/polyaxon-* case holds a catalog as the docs print it and the Secret as the docs create it
(kubectl's own output, checked here against kubectl). Each rendered Job is laid out by the pod
simulator with that Secret; the builder's credentials file must exist where the builder's documented
lookup opens it, and the `auths` entry a docker client would pick for each destination (docker's
reference and lookup rules, tests/support/dockerref.py) must be there.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, first_container, load_stream, object_key, require_tool, run_conngen
from support.dockerref import auth_entry_key, registry_of
from support.podsim import MissingReferenceError, simulate_pod

#: the ENV of each builder image (its Dockerfile), given to the simulator as the image's defaults
IMAGE_ENV = {"kaniko": {"DOCKER_CONFIG": "/kaniko/.docker/", "HOME": "/root"}, "dockerizer": {"HOME": "/root"}}

#: how the docs (or the guide they link) create each Secret: the kubectl arguments, run in the fixture
SECRETS = {
    "polyaxon-dockerhub": {"secret-docker-conf.yaml": ["generic", "docker-conf", "--from-file=config.json=./config.json"]},
    "polyaxon-gcr": {"secret-docker-conf.yaml": ["generic", "docker-conf", "--from-file=config.json=./config.json"]},
    "polyaxon-acr": {"secret-docker-conf.yaml": ["generic", "docker-conf", "--from-file=config.json=./config.json"]},
    "polyaxon-overview": {"secret-docker-conf.yaml": ["generic", "docker-conf", "--from-file=config.json=./config.json"]},
    "polyaxon-specification": {"secret-docker-conf.yaml": ["generic", "docker-conf",
                                                           "--from-file=config.json=./config.json"]},
    "polyaxon-ecr": {"secret-aws-secret.yaml": ["generic", "aws-secret", "--from-file=credentials"]},
    "polyaxon-dockerconfigjson": {"secret-docker-conf.yaml": [
        "docker-registry", "docker-conf", "--docker-server=myregistry.com", "--docker-username=amurdaca",
        "--docker-password=supersecretpassword"]},
}

#: (case, Job) of every build that pushes with a docker config from an existing Secret
DOCKER_CONFIG_JOBS = [(case, job) for case in ("polyaxon-dockerhub", "polyaxon-gcr", "polyaxon-acr",
                                               "polyaxon-dockerconfigjson")
                      for job in ("trainer-kaniko", "trainer-dockerizer")] + [
    ("polyaxon-overview", "trainer"), ("polyaxon-specification", "trainer-hub"), ("polyaxon-specification", "trainer")]

ECR_HOST = re.compile(r"[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")  # the ecr-login helper's


def _render(case: str) -> dict[tuple[str, str], dict]:
    result = run_conngen("render", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stderr
    return {object_key(o): o for o in load_stream(result.stdout)}


def _cluster_secrets(case: str) -> list[dict]:
    """The Secrets the docs' commands left in the cluster (conngen renders none of them)."""
    return [yaml.safe_load((FIXTURES / case / name).read_text()) for name in SECRETS.get(case, {})]


def _builder(job: dict) -> str:
    return first_container(job)["name"]


def _credentials_file(builder: str, env: dict, exists) -> str | None:
    """kaniko (go-containerregistry): $DOCKER_CONFIG/config.json, else ~/.docker/config.json; the dockerizer
    (docker-py find_config_file): the first of those that exists."""
    home = posixpath.join(env.get("HOME", "/"), ".docker", "config.json")
    own = posixpath.join(env["DOCKER_CONFIG"], "config.json") if env.get("DOCKER_CONFIG") else None
    if builder == "kaniko":
        return own or home
    return next((c for c in (own, home) if c and exists(c)), None)


def _destinations(job: dict) -> list[str]:
    args = first_container(job)["args"]
    found = [a.split("=", 1)[1] for a in args if a.startswith("--destination=")]
    found += [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-d"]
    assert found, args
    return found


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(SECRETS))
def test_each_secret_is_what_the_docs_command_makes(case: str) -> None:
    kubectl = require_tool("kubectl")
    for name, args in SECRETS[case].items():
        made = subprocess.run([kubectl, "create", "secret", *args, "-n", "polyaxon", "--dry-run=client", "-o", "yaml"],
                              cwd=FIXTURES / case, capture_output=True, text=True, check=True)
        assert _comparable(made.stdout) == _comparable((FIXTURES / case / name).read_text()), \
            f"regenerate {case}/{name} with kubectl"


def _comparable(text: str) -> dict:
    """A Secret as kubectl prints it, less `creationTimestamp: null` (which newer kubectl versions omit)."""
    secret = yaml.safe_load(text)
    if secret["metadata"].get("creationTimestamp") is None:
        secret["metadata"].pop("creationTimestamp", None)
    return secret


@pytest.mark.parametrize("case, job_name", DOCKER_CONFIG_JOBS)
def test_the_builder_opens_the_docs_secret_and_finds_the_destination_registry(tmp_path: Path, case: str,
                                                                               job_name: str) -> None:
    job = _render(case)[("Job", job_name)]
    builder = _builder(job)
    view = simulate_pod(job, _cluster_secrets(case), tmp_path, image_env=IMAGE_ENV[builder])
    path = _credentials_file(builder, view.env, view.exists)
    assert path is not None and view.exists(path), f"{builder} finds no credentials file"
    auths = view.read_json(path)["auths"]
    for destination in _destinations(job):
        assert auth_entry_key(auths, destination), f"no auths entry of {sorted(auths)} answers for {destination}"


@pytest.mark.parametrize("case, job_name", [("polyaxon-dockerhub", "trainer-kaniko"), ("polyaxon-gcr", "trainer-kaniko"),
                                            ("polyaxon-dockerconfigjson", "trainer-dockerizer")])
def test_the_other_key_would_not_start_the_pod(tmp_path: Path, case: str, job_name: str) -> None:
    """The harness can fail: projecting the key of the other Secret shape is what the kubelet refuses."""
    job = _render(case)[("Job", job_name)]
    volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if "secret" in v)
    (item,) = volume["secret"]["items"]
    item["key"] = {"config.json": ".dockerconfigjson", ".dockerconfigjson": "config.json"}[item["key"]]
    with pytest.raises(MissingReferenceError):
        simulate_pod(job, _cluster_secrets(case), tmp_path, image_env=IMAGE_ENV[_builder(job)])


def test_docker_hub_path_without_a_host_is_pushed_to_docker_hub() -> None:
    """`url: org/repo` (the overview) and `url: destination` (the provider pages) are Docker Hub paths."""
    for case, job, prefix in (("polyaxon-overview", "trainer", "docker.io/org/repo/"),
                              ("polyaxon-dockerhub", "trainer-kaniko", "docker.io/destination/"),
                              ("polyaxon-dockerhub", "trainer-dockerizer", "docker.io/destination/")):
        (destination,) = _destinations(_render(case)[("Job", job)])
        assert destination.startswith(prefix) and registry_of(destination) == "docker.io"
    result = run_conngen("validate", "fixtures/polyaxon-overview/agent.yaml")
    assert result.returncode == 0, result.stderr
    assert ("warning: connections[1].schema.url: url 'org/repo' names no registry host: like docker, conngen "
            "reads it as Docker Hub, docker.io/org/repo") in result.stderr
    assert ("hint: Docker Hub holds only <namespace>/<name>, so it refuses images under docker.io/org/repo: write "
            "docker.io/org and name the repository in the build's image, or put the registry's host first "
            "(registry.example.com/org/repo)") in result.stderr
    hub = run_conngen("validate", "fixtures/polyaxon-dockerhub/connections.yaml")
    assert "hint: write docker.io/destination to say so, or put the registry's host first" in hub.stderr


def test_ecr_page_mounts_the_aws_credentials_for_kaniko_ecr_login(tmp_path: Path) -> None:
    job = _render("polyaxon-ecr")[("Job", "trainer")]
    view = simulate_pod(job, _cluster_secrets("polyaxon-ecr"), tmp_path, image_env=IMAGE_ENV["kaniko"])
    assert view.read_bytes("/root/.aws/credentials") == (FIXTURES / "polyaxon-ecr" / "credentials").read_bytes()
    assert view.env["AWS_SDK_LOAD_CONFIG"] == "true"
    assert not view.exists("/kaniko/.docker/config.json")  # no docker config answers first
    (destination,) = _destinations(job)
    assert ECR_HOST.fullmatch(registry_of(destination))


def test_in_cluster_page_pushes_anonymously_to_the_service_and_node_port(tmp_path: Path) -> None:
    objs = _render("polyaxon-in-cluster")
    assert not [k for k in objs if k[0] == "Secret"]
    for job_name, registry in (("trainer-kaniko", "private-repository-k8s.polyaxon.svc.cluster.local:5000"),
                               ("trainer-dockerizer", "127.0.0.1:31320")):
        job = objs[("Job", job_name)]
        builder = _builder(job)
        view = simulate_pod(job, [], tmp_path / job_name, image_env=IMAGE_ENV[builder])
        path = _credentials_file(builder, view.env, view.exists)
        assert path is None or not view.exists(path)
        assert [registry_of(d) for d in _destinations(job)] == [registry]
    result = run_conngen("render", "fixtures/polyaxon-in-cluster/generator.yaml")
    assert "in-cluster registry private-repository-k8s.polyaxon.svc.cluster.local:5000 is pushed to over HTTPS" \
        in result.stderr


def _explain(case: str) -> dict[str, dict]:
    result = run_conngen("explain", "--output", "json", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stderr
    return {b["build"]: b for b in json.loads(result.stdout)["builds"]}


def test_explain_says_which_key_of_an_existing_secret_is_mounted_and_how_to_change_it() -> None:
    hub = _explain("polyaxon-dockerhub")["trainer-kaniko"]
    assert (hub["key"], hub["keySource"], hub["secretType"]) == ("config.json", "default", None)
    text = run_conngen("explain", "fixtures/polyaxon-dockerhub/generator.yaml").stdout
    assert ("  key chosen by      default: an Opaque Secret with key config.json, as Polyaxon's docs create it "
            "(kubectl create secret generic --from-file=config.json=...)") in text
    assert ("  override           existingSecrets: {docker-conf: {type: kubernetes.io/dockerconfigjson}} in the "
            "generator config") in text
    typed = _explain("polyaxon-dockerconfigjson")["trainer-kaniko"]
    assert (typed["key"], typed["keySource"], typed["secretType"]) == (".dockerconfigjson", "existingSecrets",
                                                                       "kubernetes.io/dockerconfigjson")
    assert "key chosen by      existingSecrets.docker-conf (type kubernetes.io/dockerconfigjson)" in \
        run_conngen("explain", "fixtures/polyaxon-dockerconfigjson/generator.yaml").stdout
    items = _explain("agent-config")["trainer"]
    assert (items["key"], items["keySource"]) == ("config.json", "items")
    generated = _explain("seed")["trainer-kaniko"]
    assert (generated["key"], generated["keySource"]) == (".dockerconfigjson", "generated")
    assert "key chosen by" not in run_conngen("explain", "fixtures/seed/generator.yaml").stdout


def _config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "generator.yaml"
    path.write_text("apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\nconnections:\n"
                    "  - {name: hub, kind: registry, schema: {url: docker.io/acme}, secret: {name: regcred}}\n"
                    "  - {name: own, kind: registry, schema: {url: r.example.com}, secret: {name: own-conf,"
                    " items: [config.json]}}\n"
                    "  - {name: made, kind: registry, schema: {url: q.example.com}, secret: {name: made-conf}}\n"
                    "credentials:\n  made-conf: {username: {env: U}, password: {env: P}}\n" + extra)
    return path


@pytest.mark.parametrize("entry, message", [
    ("regcred: {key: docker.json}", None),
    ("regcred: {type: Opaque, key: config.json}", "existingSecrets.regcred: say either the Secret's type or its key"),
    ("regcred: {}", "existingSecrets.regcred: say which key holds the docker config"),
    ("regcred: {type: kubernetes.io/dockercfg}", "existingSecrets.regcred.type: 'kubernetes.io/dockercfg' is not one of"),
    ("made-conf: {type: Opaque}", "existingSecrets.made-conf: Secret 'made-conf' is generated from credentials"),
    ("nobody: {type: Opaque}", "no registry connection mounts a Secret named 'nobody'\n"
                               "  hint: existing registry Secrets in the catalog: own-conf, regcred"),
    ("own-conf: {type: Opaque}", "connection 'own' already says with secret.items which key of 'own-conf' to mount"),
])
def test_existing_secrets_entries_are_checked(tmp_path: Path, entry: str, message: str | None) -> None:
    result = run_conngen("validate", str(_config(tmp_path, f"existingSecrets:\n  {entry}\n")), env={"U": "u", "P": "p"})
    if message is None:
        assert result.returncode == 0, result.stderr
        explained = run_conngen("explain", "--output", "json", str(_config(tmp_path, f"existingSecrets:\n  {entry}\n"
                                                                         "builds: [{name: b, connection: hub, image: "
                                                                         "'a:1', context: 'dir:///w'}]\n")))
        assert json.loads(explained.stdout)["builds"][0]["key"] == "docker.json"
    else:
        assert result.returncode == 1 and message in result.stderr, result.stderr


BAD_URLS = [("a_b.io/x", "'a_b.io' is not a valid registry host[:port]"),
            ("ftp://x.io", "registry url scheme 'ftp' is not supported"),
            ("a b", "repository path component 'a b' is not valid"),
            ("user:pw@x.io", "registry url must not contain a user name or password"),
            ("https://org/repo", "registry host 'org' has no '.' or port, so docker reads it as a Docker Hub namespace"),
            ("Org/repo", "registry host 'Org' has no '.' or port")]


@pytest.mark.parametrize("url, message", BAD_URLS)
def test_validate_of_a_catalog_refuses_what_render_refuses(tmp_path: Path, url: str, message: str) -> None:
    entry = f"  - {{name: r, kind: registry, schema: {{url: {json.dumps(url)}}}}}\n"
    catalog = tmp_path / "connections.yaml"
    catalog.write_text("connections:\n" + entry)
    config = tmp_path / "generator.yaml"
    config.write_text("apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\n"
                      "catalog: connections.yaml\nbuilds: [{name: b, connection: r, image: 'a/b:1', context: 'dir:///w'}]\n")
    expected = f"connections.yaml:2:40: error: connections[0].schema.url: {message}"
    for command, target in (("validate", catalog), ("render", config), ("validate", config)):
        result = run_conngen(command, str(target), cwd=tmp_path)
        assert result.returncode == 1, (command, result.stderr)
        assert expected in result.stderr, (command, result.stderr)
        assert "pw" not in result.stderr.replace("password", "")


V0 = """# Polyaxon v0 deployment config
rbac: {enabled: true}
privateRegistries:
  - "my_username:my_password@registry.example.com"
  - "my_username2:my_password2@registry:5000"
  - host: "my.registry.com"
    user: "_json_key"
    password: '{"type": "service_account"}'
  - "malformed-login:123456"
"""


def test_legacy_private_registries_are_named_with_how_to_convert_them(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text(V0)
    (tmp_path / "generator.yaml").write_text("apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\n"
                                             "metadata: {name: t}\ncatalog: values.yaml\n")
    for command, target in (("validate", "values.yaml"), ("render", "generator.yaml")):
        result = run_conngen(command, target, cwd=tmp_path)
        assert result.returncode == 1
        assert ("values.yaml:3:1: error: privateRegistries: this is Polyaxon v0's registry list "
                "('user:password@host' or {host, user, password}), which conngen does not read") in result.stderr
        assert ("hint: write each entry as a registry connection in a catalog, connections: [{name: "
                "registry-example-com, kind: registry, schema: {url: registry.example.com}, secret: {name: "
                "registry-example-com}}], and its login as credentials in the generator config") in result.stderr
        assert "entries for registry.example.com, registry:5000, my.registry.com (docs/registries.md" in result.stderr
        for secret in ("my_username", "my_password", "_json_key", "service_account", "malformed-login", "123456"):
            assert secret not in result.stderr


def test_generated_secrets_keep_their_dockerconfigjson_projection() -> None:
    """conngen's own Secrets are unchanged: the same key, projected as config.json."""
    for case, job in (("seed", "trainer-kaniko"), ("dockerhub", "api")):
        objs = _render(case)
        volume = next(v for v in objs[("Job", job)]["spec"]["template"]["spec"]["volumes"] if "secret" in v)
        assert volume["secret"]["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
        secret = objs[("Secret", volume["secret"]["secretName"])]
        assert list(secret["data"]) == [".dockerconfigjson"]
        assert json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
