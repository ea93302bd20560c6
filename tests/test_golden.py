"""Golden fixtures: each fixtures/<case>/generator.yaml renders to exactly expected.yaml."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from conftest import assert_valid_k8s, first_container, golden_cases, load_stream, render_case, run_conngen


@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_render_matches_golden(case: Path) -> None:
    result = run_conngen("render", str(case / "generator.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (case / "expected.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_golden_objects_are_valid_kubernetes(case: Path) -> None:
    objects = load_stream((case / "expected.yaml").read_text(encoding="utf-8"))
    assert objects
    assert_valid_k8s(objects)


def _docker_config(secret: dict) -> dict:
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))


def test_seed_mounts_config_json_where_each_builder_reads_it() -> None:
    objs = render_case("seed")
    kaniko, dockerizer = objs[("Job", "trainer-kaniko")], objs[("Job", "trainer-dockerizer")]
    for job, path in ((kaniko, "/kaniko/.docker"), (dockerizer, "/root/.docker")):
        spec = job["spec"]["template"]["spec"]
        mount = next(m for m in first_container(job)["volumeMounts"] if m["mountPath"] == path)
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert volume["secret"] == {"secretName": "docker-conf",
                                    "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}
        assert mount["readOnly"] is True
        # both paths are where the image already looks, so DOCKER_CONFIG must not be overridden
        assert "DOCKER_CONFIG" not in {e["name"] for e in first_container(job).get("env", [])}
    assert ("Secret", "docker-conf") in objs
    assert objs[("Secret", "docker-conf")]["type"] == "kubernetes.io/dockerconfigjson"


def test_destination_has_no_scheme_and_keeps_the_url_path() -> None:
    args = first_container(render_case("seed")[("Job", "trainer-kaniko")])["args"]
    assert "--destination=myregistry.com/org/repo/trainer:1.4.0" in args
    assert "--destination=myregistry.com/org/repo/trainer:latest" in args
    assert not any("://" in a for a in args if a.startswith("--destination"))


def test_custom_mount_path_sets_docker_config_to_the_mount() -> None:
    objs = render_case("custom-mount-path")
    for name, path in (("kaniko-custom", "/home/builder/.docker"), ("dockerizer-custom", "/home/polyaxon/.docker")):
        container = first_container(objs[("Job", name)])
        assert {"name": "DOCKER_CONFIG", "value": path} in container["env"]
        assert any(m["mountPath"] == path for m in container["volumeMounts"])
    volume = objs[("Job", "kaniko-custom")]["spec"]["template"]["spec"]["volumes"][0]
    assert volume["secret"]["defaultMode"] == 0o440


def test_shared_secret_holds_every_registry_that_names_it() -> None:
    objs = render_case("shared-secret")
    auths = _docker_config(objs[("Secret", "team-conf")])["auths"]
    assert sorted(auths) == ["ghcr.io", "registry.acme.example:5000"]
    for entry in auths.values():
        assert base64.b64decode(entry["auth"]).decode() == "robot$ml:not-a-real-token-123"
    assert all(o["metadata"]["namespace"] == "builds" for o in objs.values())


def test_docker_hub_is_keyed_with_the_v1_endpoint() -> None:
    objs = render_case("dockerhub")
    assert list(_docker_config(objs[("Secret", "hub-conf")])["auths"]) == ["https://index.docker.io/v1/"]
    assert "--destination=docker.io/acme/api:3.1.0" in first_container(objs[("Job", "api")])["args"]


def test_insecure_registry_gets_per_registry_flags_and_no_secret_when_uncredentialed() -> None:
    objs = render_case("insecure-registry")
    args = first_container(objs[("Job", "notebook")])["args"]
    host = "registry.kube-system.svc.cluster.local:5000"
    assert f"--insecure-registry={host}" in args and f"--skip-tls-verify-registry={host}" in args
    assert not [k for k in objs if k[0] == "Secret"]  # lab-conf exists in the cluster: mounted, not generated
    lab = objs[("Job", "lab-image")]["spec"]["template"]["spec"]
    assert lab["volumes"][0]["secret"]["secretName"] == "lab-conf"


def test_git_connection_context_uses_its_secret_through_secret_key_refs() -> None:
    objs = render_case("git-context")
    kaniko = first_container(objs[("Job", "trainer")])
    assert "--context=git://github.com/acme/trainer.git#refs/heads/main" in kaniko["args"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in kaniko["env"]}
    assert refs == {"GIT_USERNAME": {"name": "github-basic-auth", "key": "username"},
                    "GIT_PASSWORD": {"name": "github-basic-auth", "key": "password"}}
    spec = objs[("Job", "tools")]["spec"]["template"]["spec"]
    clone = spec["initContainers"][0]
    env = {e["name"]: e for e in clone["env"]}
    assert env["GIT_URL"]["value"] == "https://gitlab.example.com/ml/tools.git"
    assert env["GIT_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "gitlab-token", "key": "token"}
    # the clone lands in the volume the dockerizer builds from
    assert clone["volumeMounts"][0]["mountPath"] == first_container(objs[("Job", "tools")])["args"][2]


def test_agent_config_connections_reach_the_pod_as_polyaxon_means_them() -> None:
    job = render_case("agent-config")[("Job", "trainer")]
    pod = job["spec"]["template"]
    container = first_container(job)
    assert pod["metadata"]["annotations"] == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    assert {"configMapRef": {"name": "build-settings"}} in container["envFrom"]
    assert {"name": "HTTP_PROXY", "value": "http://proxy.acme.example:3128"} in container["env"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/plx-context/store"] == "store" and mounts["/root/.config/pip"] == "pip-conf"
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["store"]["persistentVolumeClaim"] == {"claimName": "polyaxon-artifacts"}
    assert volumes["docker-conf"]["secret"]["items"] == [{"key": "config.json", "path": "config.json"}]
    assert pod["spec"]["serviceAccountName"] == "builder" and job["spec"]["backoffLimit"] == 1
