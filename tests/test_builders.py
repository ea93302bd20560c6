"""Builders: each rendered Job hands its builder the registry credentials where that builder looks.

The golden bytes of fixtures/builder-* are compared by test_golden.py; here each Job is laid out
with the pod simulator and opened the way the builder's documented lookup order opens it (facts
from the builders reference, written out here, not taken from conngen's profiles).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tomllib
from msgspec.structs import replace
from pathlib import Path

import pytest

from conftest import FIXTURES, assert_valid_k8s, first_container, load_stream, render_case, run_conngen
from support.podsim import simulate_pod

BUILDKIT_IMAGE_ENV = {"HOME": "/home/user"}
BUILDAH_IMAGE_ENV = {"HOME": "/root", "BUILDAH_ISOLATION": "chroot"}


def _buildkit_reads(env: dict) -> str:
    """buildctl: $DOCKER_CONFIG/config.json, else ~/.docker/config.json (moby/buildkit README)."""
    return (env["DOCKER_CONFIG"].rstrip("/") if env.get("DOCKER_CONFIG") else env["HOME"] + "/.docker") + "/config.json"


def _buildah_reads(env: dict) -> str:
    """containers/image: REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else the XDG/run file."""
    if env.get("REGISTRY_AUTH_FILE"):
        return env["REGISTRY_AUTH_FILE"]
    if env.get("DOCKER_CONFIG"):
        return env["DOCKER_CONFIG"].rstrip("/") + "/config.json"
    return env.get("XDG_RUNTIME_DIR", "/run/containers/0") + "/containers/auth.json"


@pytest.mark.parametrize("case, job, host, reads_fn, image_env", [
    ("builder-buildkit", "trainer", "registry.acme.example", _buildkit_reads, BUILDKIT_IMAGE_ENV),
    ("builder-buildkit", "tools", "registry.acme.example", _buildkit_reads, BUILDKIT_IMAGE_ENV),
    ("builder-buildah", "api", "quay.io", _buildah_reads, BUILDAH_IMAGE_ENV),
])
def test_the_file_the_builder_opens_holds_the_registry_login(tmp_path: Path, case: str, job: str, host: str,
                                                              reads_fn, image_env: dict) -> None:
    objs = render_case(case)
    secrets = [o for o in objs.values() if o["kind"] == "Secret"]
    view = simulate_pod(objs[("Job", job)], secrets, tmp_path, image_env=image_env)
    config = view.read_json(reads_fn(view.env))
    user, _, password = base64.b64decode(config["auths"][host]["auth"]).decode().partition(":")
    builder = case.split("-", 1)[1]
    assert (user, password) == (f"robot-{builder}", f"fake-{builder}-password-not-real")


def test_buildkit_runs_rootless_as_its_example_does() -> None:
    objs = render_case("builder-buildkit")
    job = objs[("Job", "trainer")]
    container, spec = first_container(job), job["spec"]["template"]["spec"]
    assert container["image"] == "moby/buildkit:v0.32.2-rootless"
    assert container["command"] == ["buildctl-daemonless.sh"]
    assert container["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000,
                                            "seccompProfile": {"type": "Unconfined"},
                                            "appArmorProfile": {"type": "Unconfined"}}
    assert {"name": "BUILDKITD_FLAGS", "value": "--oci-worker-no-process-sandbox"} in container["env"]
    state = next(m for m in container["volumeMounts"] if m["mountPath"] == "/home/user/.local/share/buildkit")
    assert next(v for v in spec["volumes"] if v["name"] == state["name"]) == {"name": state["name"], "emptyDir": {}}
    # buildctl takes local directories only: the git context is cloned into the workspace first
    clone = spec["initContainers"][0]
    assert {"name": "GIT_URL", "value": "https://github.com/acme/trainer.git"} in clone["env"]
    args = container["args"]
    assert args[:2] == ["build", "--frontend=dockerfile.v0"]
    assert "--local=context=/workspace" in args and "--local=dockerfile=/workspace/docker" in args
    assert "--opt=filename=Dockerfile.gpu" in args and "--opt=build-arg:CUDA=12.4" in args
    assert args[-1] == ('--output=type=image,"name=registry.acme.example/ml/trainer:2.0.0,'
                        'registry.acme.example/ml/trainer:latest",push=true')


def test_buildkit_custom_mount_sets_docker_config_and_insecure_pushes_over_http() -> None:
    objs = render_case("builder-buildkit")
    tools = first_container(objs[("Job", "tools")])
    assert {"name": "DOCKER_CONFIG", "value": "/buildkit/auth"} in tools["env"]
    assert "--local=context=/workspace/cli" in tools["args"]
    lab = first_container(objs[("Job", "lab")])
    assert lab["args"][-1] == ("--output=type=image,name=lab-registry.builds.svc.cluster.local:5000/notebook:dev,"
                               "push=true,registry.insecure=true")
    assert not any(m["mountPath"].endswith(".docker") for m in lab["volumeMounts"])  # anonymous push


def test_buildah_builds_then_pushes_every_tag_with_the_auth_file() -> None:
    objs = render_case("builder-buildah")
    api = first_container(objs[("Job", "api")])
    assert api["image"] == "quay.io/buildah/stable:v1.43.0"
    assert api["command"][:2] == ["/bin/sh", "-c"] and api["command"][3] == "buildah"
    script = api["command"][2]
    assert "buildah --storage-driver=vfs bud --isolation=chroot" in script and "push" in script
    assert api["args"] == ["--file=/workspace/Dockerfile", "--tag=quay.io/acme/api:1.2.0", "--tag=quay.io/acme/api:stable",
                           "--build-arg=VERSION=1.2.0", "/workspace"]
    env = {e["name"]: e["value"] for e in api["env"]}
    assert env == {"REGISTRY_AUTH_FILE": "/root/.docker/config.json", "TLS_VERIFY": "true"}
    assert "privileged" not in api["securityContext"]
    assert api["securityContext"]["capabilities"] == {"add": ["SYS_ADMIN"]}
    storage = next(m for m in api["volumeMounts"] if m["mountPath"] == "/var/lib/containers")
    assert storage["name"] == "containers-storage"


def test_buildah_insecure_registry_and_local_context() -> None:
    loader = first_container(render_case("builder-buildah")[("Job", "loader")])
    env = {e["name"]: e["value"] for e in loader["env"]}
    assert env["TLS_VERIFY"] == "false"
    assert env["REGISTRY_AUTH_FILE"] == "/etc/containers/lab-auth/config.json"
    # dir:// is kaniko's URL form; buildah gets the path, the Dockerfile relative to the context
    assert loader["args"][0] == "--file=/contexts/loader/build/Containerfile" and loader["args"][-1] == "/contexts/loader"
    assert "--cache-from=10.0.0.5:5000/lab/loader/cache" in loader["args"]


@pytest.mark.parametrize("case", ["builder-buildkit", "builder-buildah"])
def test_explain_follows_each_builder_to_the_mounted_file(case: str) -> None:
    result = run_conngen("explain", "--output", "json", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"]
    for row in report["builds"]:
        if row["secret"]:
            assert row["reads"] == row["mountPath"].rstrip("/") + "/config.json"
            assert row["key"] == ".dockerconfigjson"
        assert row["destinations"]


def test_explain_catches_a_buildah_template_that_drops_the_auth_file(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    original = (Path(__file__).resolve().parent.parent / "templates" / "buildah.yaml.j2").read_text()
    broken = original.replace('{% for entry in job.env %}\n        - {{ entry | yaml }}\n{% endfor %}\n', "")
    assert broken != original
    (templates / "buildah.yaml.j2").write_text(broken)
    explain = run_conngen("explain", "--templates", str(templates), "fixtures/builder-buildah/generator.yaml")
    assert explain.returncode == 1
    assert "MISMATCH" in explain.stdout and "/run/containers/0/auth.json" in explain.stdout
    render = run_conngen("render", "--templates", str(templates), "fixtures/builder-buildah/generator.yaml")
    assert render.returncode == 1 and "buildah reads /run/containers/0/auth.json" in render.stderr


def test_buildah_lookup_order_follows_containers_image() -> None:
    from generator.model.builders import PROFILES

    buildah = PROFILES["buildah"]
    env = {"REGISTRY_AUTH_FILE": "/a/auth.json", "DOCKER_CONFIG": "/d", "XDG_RUNTIME_DIR": "/run/user/5"}
    assert buildah.reads(env) == "/a/auth.json"
    assert buildah.reads({k: v for k, v in env.items() if k != "REGISTRY_AUTH_FILE"}) == "/d/config.json"
    assert buildah.reads({"XDG_RUNTIME_DIR": "/run/user/5"}) == "/run/user/5/containers/auth.json"
    assert buildah.reads({}) == "/run/containers/0/auth.json"


@pytest.mark.parametrize("name", ["kaniko", "dockerizer", "buildkit", "buildah"])
def test_what_a_builder_reads_with_no_variable_set_is_what_its_image_env_makes_it_read(name: str) -> None:
    """`reads({})` is worked out once per builder; it must be the lookup under the image's own env."""
    from generator.model.builders import PROFILES

    profile = PROFILES[name]
    assert profile.reads({}) == profile.reads({**profile.image_env, "UNRELATED": "x"})
    assert profile.reads({}) == {"kaniko": "/kaniko/.docker/config.json", "dockerizer": "/root/.docker/config.json",
                                 "buildkit": "/home/user/.docker/config.json",
                                 "buildah": "/run/containers/0/auth.json"}[name]


def test_a_fifth_builder_is_a_profile_and_a_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning has no builder names in it: a new profile plus a template renders a sound Job."""
    from generator.model import builders
    from generator.pipeline import generate, load
    from generator.read.yamlio import load_yaml_file

    profile = replace(builders.PROFILES["buildah"], name="img", image="example.org/img:1.0",
                      default_mount_path="/home/img/.docker", image_env={"HOME": "/home/img"},
                      lookup=(builders.AuthLookup(env_dir="DOCKER_CONFIG"),), auth_env=builders.AuthLookup(env_dir="DOCKER_CONFIG"),
                      security_context=None, scratch=())
    monkeypatch.setitem(builders.PROFILES, "img", profile)
    (tmp_path / "img.yaml.j2").write_text(
        '{% extends "_job.yaml.j2" %}\n{% block containers %}\n'
        '        - name: img\n          image: {{ job.image | json }}\n'
        '          args: {{ (["build", "-f", job.dockerfile_file] + (job.destinations | list)) | json }}\n'
        '          env: {{ job.env | json }}\n          volumeMounts: {{ job.volume_mounts | json }}\n{% endblock %}\n')
    path = FIXTURES / "builder-buildah" / "generator.yaml"
    config, warnings = load(load_yaml_file(path, str(path)), str(path), path.parent, None, str(tmp_path))
    config = replace(config, builds=tuple(replace(b, builder="img") for b in config.builds[:1]))
    result = generate(config, {}, warnings)
    job = next(o for o in result.objects if o["kind"] == "Job")
    assert_valid_k8s([job])
    container = first_container(job)
    assert container["image"] == "example.org/img:1.0"
    assert {"name": "DOCKER_CONFIG", "value": "/root/.docker"} not in container["env"]
    assert any(m["mountPath"] == "/home/img/.docker" for m in container["volumeMounts"])
    assert result.plan.jobs[0].credential.reads == "/home/img/.docker/config.json"


def test_a_builder_security_context_can_be_replaced(tmp_path: Path) -> None:
    """Clusters that need `privileged` (or SELinux spc_t) say so once, per builder."""
    source = (FIXTURES / "builder-buildah" / "generator.yaml").read_text()
    config = source.replace("credentials:", "builders:\n  buildah:\n    securityContext: {privileged: true}\n"
                                           "credentials:", 1)
    assert config != source
    shutil.copytree(FIXTURES / "builder-buildah" / "creds", tmp_path / "creds")
    (tmp_path / "generator.yaml").write_text(config)
    result = run_conngen("render", "generator.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    jobs = [o for o in load_stream(result.stdout) if o["kind"] == "Job"]
    assert [first_container(j)["securityContext"] for j in jobs] == [{"privileged": True}] * 2
    assert_valid_k8s(jobs)


def _run_job_script(tmp_path: Path, container: dict, fake: str, extra_env: dict) -> list[list[str]]:
    """Run the container's own `sh -c` script with `fake` on PATH recording each call's argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    calls = tmp_path / "calls.jsonl"
    recorder = bin_dir / fake
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\n"
                        f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    recorder.chmod(0o755)
    env = {e["name"]: e["value"] for e in container.get("env") or []}
    env.update(extra_env, PATH=f"{bin_dir}:/usr/bin:/bin")
    subprocess.run(["/bin/sh", *container["command"][1:], *container["args"]], env=env, check=True, timeout=30)
    return [json.loads(line) for line in calls.read_text().splitlines()]


def test_buildah_script_builds_once_and_pushes_each_tag_with_the_same_tls_settings(tmp_path: Path) -> None:
    api = first_container(render_case("builder-buildah")[("Job", "api")])
    calls = _run_job_script(tmp_path, api, "buildah", {})
    assert calls[0] == ["--storage-driver=vfs", "bud", "--isolation=chroot", "--tls-verify=true", *api["args"]]
    assert calls[1:] == [["--storage-driver=vfs", "push", "--tls-verify=true", "--digestfile=/dev/termination-log", ref]
                         for ref in ("quay.io/acme/api:1.2.0", "quay.io/acme/api:stable")]
    ca_job = first_container(render_case("providers-private-ca")[("Job", "buildah-app")])
    pushes = [c for c in _run_job_script(tmp_path / "ca", ca_job, "buildah", {}) if c[1] == "push"]
    assert pushes == [["--storage-driver=vfs", "push", "--tls-verify=true", "--cert-dir=/etc/conngen/registry-ca",
                       "--digestfile=/dev/termination-log", "harbor.corp.example:8443/ml/app:1.0"]]


def test_buildkit_ca_script_writes_buildkitd_toml_then_runs_buildctl_unchanged(tmp_path: Path) -> None:
    job = first_container(render_case("providers-private-ca")[("Job", "buildkit-app")])
    home = tmp_path / "home"
    home.mkdir()
    calls = _run_job_script(tmp_path, job, "buildctl-daemonless.sh", {"HOME": str(home)})
    assert calls == [job["args"]]
    toml = tomllib.loads((home / ".config" / "buildkit" / "buildkitd.toml").read_text())
    # http = false: buildkit would otherwise push to a loopback registry over plain HTTP, CA or not
    assert toml == {"registry": {"harbor.corp.example:8443": {"ca": ["/etc/conngen/registry-ca/ca.crt"], "http": False}}}
