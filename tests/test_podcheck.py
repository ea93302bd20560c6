"""The pod checks against each builder image's facts: mounts that hide its files or sit in the build
context, env that moves its credential lookup, fsGroup for non-root builders (issue 17).

tests/test_builders_run.py shows with the builders' own programs why each refusal is needed; these
pin the rules on every builder profile, through `conngen render` as users run it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import run_conngen
from generator.model.builders import PROFILES
from generator.errors import Origin
from generator.plan.pod import Pod
from generator.plan.podcheck import check_mounts, covers

BUILDERS = sorted(PROFILES)


def render(tmp_path: Path, builder: str, secret: dict | None = None, env: dict | None = None,
           build: dict | None = None, extra: list | None = None):
    conn = {"name": "reg", "kind": "registry", "schema": {"url": "https://registry.example.com/org"},
            "secret": {"name": "regcred", **(secret or {})}}
    if env:
        conn["env"] = env
    (tmp_path / "connections.yaml").write_text(yaml.safe_dump({"connections": [conn, *(extra or [])]}))
    (tmp_path / "generator.yaml").write_text(yaml.safe_dump({
        "apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "t"},
        "catalog": ["connections.yaml"],
        "builds": [{"name": "app", "connection": "reg", "builder": builder, "image": "app:v1",
                    "context": "dir:///workspace", **(build or {})}]}))
    return run_conngen("render", str(tmp_path / "generator.yaml"))


def test_covers_is_about_path_components() -> None:
    assert covers("/kaniko", "/kaniko/executor") and covers("/kaniko/", "/kaniko/executor")
    assert covers("/", "/bin/sh") and covers("/usr/bin", "/usr/bin")
    assert not covers("/kaniko/.docker", "/kaniko/executor") and not covers("/kan", "/kaniko/executor")


@pytest.mark.parametrize("builder", BUILDERS)
def test_every_image_path_is_refused_as_a_mount(builder) -> None:
    profile = PROFILES[builder]
    for path in profile.image_paths:
        for mount in (path, path.rsplit("/", 1)[0] or "/"):  # the path itself, and its directory
            pod = Pod(Origin("connections.yaml"), [])
            pod.mount("regcred", {"secret": {"secretName": "regcred"}}, mount, True, Origin("connections.yaml", ("m",)))
            check_mounts(pod, profile, None)
            assert [i.origin for i in pod.issues] == [Origin("connections.yaml", ("m",))], f"{builder}: {mount}"
            assert f"mountPath {mount} hides" in pod.issues[0].message


@pytest.mark.parametrize("builder", ["kaniko", "buildkit"])
def test_a_mount_hiding_the_image_is_refused_located(tmp_path, builder) -> None:
    mount = {"kaniko": "/kaniko", "buildkit": "/usr/bin"}[builder]
    result = render(tmp_path, builder, secret={"mountPath": mount})
    assert result.returncode == 1 and f"mountPath {mount} hides" in result.stderr, result.stderr
    assert "connections.yaml:" in result.stderr, result.stderr


@pytest.mark.parametrize("builder", BUILDERS)
def test_the_default_mount_and_a_fresh_directory_are_accepted(tmp_path, builder) -> None:
    for mount in (None, "/etc/registry-auth"):
        result = render(tmp_path, builder, secret={"mountPath": mount} if mount else None)
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("mount, words", [
    ("/workspace", "hides the build context /workspace"),
    ("/", "hides /"),
    ("/workspace/.docker", "is inside the build context /workspace"),
])
def test_a_secret_overlapping_the_context_is_refused(tmp_path, mount, words) -> None:
    result = render(tmp_path, "kaniko", secret={"mountPath": mount})
    assert result.returncode == 1 and words in result.stderr, result.stderr


def test_a_config_map_in_the_context_is_refused_too(tmp_path) -> None:
    extra = [{"name": "settings", "kind": "custom", "configMap": {"name": "settings", "mountPath": "/workspace/conf"}}]
    result = render(tmp_path, "buildah", build={"connections": ["settings"]}, extra=extra)
    assert result.returncode == 1 and "inside the build context" in result.stderr, result.stderr


@pytest.mark.parametrize("builder", ["kaniko", "buildkit", "dockerizer"])
def test_env_moving_the_lookup_off_the_mount_is_located(tmp_path, builder) -> None:
    result = render(tmp_path, builder, env={"DOCKER_CONFIG": "/elsewhere"})
    assert result.returncode == 1, result.stderr
    assert f"DOCKER_CONFIG=/elsewhere makes {builder} read /elsewhere/config.json" in result.stderr, result.stderr
    assert "connections.yaml:" in result.stderr and "None" not in result.stderr, result.stderr


def test_buildah_lookup_variables_from_the_catalog(tmp_path) -> None:
    """conngen sets REGISTRY_AUTH_FILE, which buildah reads before DOCKER_CONFIG: one clash, one no-op."""
    clash = render(tmp_path, "buildah", env={"REGISTRY_AUTH_FILE": "/elsewhere/auth.json"})
    assert clash.returncode == 1 and "REGISTRY_AUTH_FILE is set twice" in clash.stderr, clash.stderr
    assert render(tmp_path, "buildah", env={"DOCKER_CONFIG": "/elsewhere"}).returncode == 0


def test_env_agreeing_with_the_mount_is_fine(tmp_path) -> None:
    result = render(tmp_path, "kaniko", secret={"mountPath": "/etc/auth"}, env={"DOCKER_CONFIG": "/etc/auth"})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("builder, secret, refused", [
    ("buildkit", {"defaultMode": "0400"}, True),
    ("buildkit", {"defaultMode": "0440"}, True),
    ("buildkit", {"items": [{"key": ".dockerconfigjson", "path": "config.json", "mode": 0o600}]}, True),
    ("buildkit", {"defaultMode": "0444"}, False),
    ("kaniko", {"defaultMode": "0400"}, False),
    ("buildah", {"defaultMode": "0400"}, False),
])
def test_modes_a_non_root_builder_cannot_read_are_refused(tmp_path, builder, secret, refused) -> None:
    result = render(tmp_path, builder, secret=secret)
    assert (result.returncode == 1) == refused, result.stderr
    if refused:
        assert "runs as uid 1000" in result.stderr and "connections.yaml:" in result.stderr, result.stderr
        job = yaml.safe_load(result.stdout) if result.stdout else None
        assert job is None


def test_run_as_follows_an_overridden_security_context() -> None:
    buildkit = PROFILES["buildkit"]
    assert buildkit.run_as(None) == (1000, 1000)
    assert buildkit.run_as({"runAsUser": 2000, "runAsGroup": 0}) == (2000, 0)
    assert buildkit.run_as({"runAsUser": 0}) == (0, -1)
    assert PROFILES["kaniko"].run_as(None) == (0, 0)


def test_dockerizer_cache_is_warned_about(tmp_path) -> None:
    result = render(tmp_path, "dockerizer", build={"cache": True, "context": "/workspace"})
    assert result.returncode == 0, result.stderr
    assert "not a layer cache" in result.stderr and "generator.yaml:" in result.stderr, result.stderr
