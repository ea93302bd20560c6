"""Planning through its public API: the Planner's steps, the wiring Helm reuses, contexts with explicit state."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.model.builders import PROFILES
from generator.plan.contexts import ContextPlanner
from generator.errors import Issue
from generator.pipeline import load, planned
from generator.plan.planner import registry_mount
from generator.plan.pod import Pod
from generator.read.yamlio import load_yaml_file

from conftest import FIXTURES


def _config(case: str):
    path = FIXTURES / case / "generator.yaml"
    return load(load_yaml_file(path, str(path)), str(path), path.parent)[0]


@pytest.mark.parametrize("case, build", [("seed", "trainer-kaniko"), ("seed", "trainer-dockerizer"),
                                         ("custom-mount-path", None), ("builder-buildah", None)])
def test_an_injected_workload_gets_the_credential_wiring_of_the_generated_job(case: str, build: str | None) -> None:
    """registry_mount (Helm) and a planned Job mount the same Secret, key and path, and point the builder at it."""
    config = _config(case)
    for job in planned(config).jobs:
        if build is not None and job.build != build:
            continue
        source = next(b for b in config.builds if b.name == job.build)
        mount = registry_mount(config, source.connection, job.builder)
        assert mount is not None
        assert mount.credential == job.credential
        assert set(map(repr, mount.volumes)) <= set(map(repr, job.volumes))
        assert set(map(repr, mount.mounts)) <= set(map(repr, job.volume_mounts))
        assert set(map(repr, mount.env)) <= set(map(repr, job.env))
        assert PROFILES[job.builder].reads({e["name"]: e["value"] for e in mount.env}) == job.credential.mounted_file


def test_a_name_that_is_no_registry_connection_has_no_mount() -> None:
    assert registry_mount(_config("git-context"), "not-in-the-catalog", "kaniko") is None


def test_the_context_planner_works_from_the_state_it_is_given() -> None:
    """No attribute contract with the Planner: a catalog index, image overrides and an issue list."""
    config = _config("git-context")
    build = config.builds[1]  # the dockerizer: its context comes through a clone step
    issues: list[Issue] = []
    contexts = ContextPlanner({}, {}, issues)  # an empty catalog: the build's git connection is missing
    context, step = contexts.context(Pod(build.origin, issues), build, PROFILES[build.builder])
    assert (context, step) == ("", None)
    assert [i.message for i in issues] == [f"context connection {build.context.connection!r} is not in the catalog"]
    connections = {c.name: c for c in config.connections}
    issues.clear()
    context, step = ContextPlanner(connections, {"git": "mirror/git:1"}, issues).context(
        Pod(build.origin, issues), build, PROFILES[build.builder])
    assert not issues and context == PROFILES["dockerizer"].workspace
    assert step is not None and step.image == "mirror/git:1"
