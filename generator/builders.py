"""Builder profiles: the few facts about each builder image that decide where credentials go.

A builder is this profile plus one template (`templates/<name>.yaml.j2`). Planning reads
only these fields, so adding a builder adds a profile and a template, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class AuthLookup:
    """One place a builder looks for registry credentials, in the order it looks.

    `env_file`: an env var naming the file itself (REGISTRY_AUTH_FILE);
    `env_dir`: an env var naming the directory holding `file_name` (DOCKER_CONFIG);
    `home_dir`: a directory under $HOME holding `file_name` (~/.docker).
    """

    env_file: str | None = None
    env_dir: str | None = None
    home_dir: str | None = None


@dataclass(frozen=True)
class HostMount:
    """A node path the builder needs (the dockerizer talks to the node's docker daemon)."""

    name: str
    path: str
    type: str


@dataclass(frozen=True)
class BuilderProfile:
    name: str
    image: str
    default_mount_path: str
    file_name: str  # the credentials file name the builder reads inside that directory
    image_env: Mapping[str, str]  # variables the image sets that change where it looks
    lookup: tuple[AuthLookup, ...]
    dir_env: str  # the variable conngen sets to move the lookup to the mount path
    native_contexts: frozenset[str]  # context schemes the builder fetches itself
    workspace: str  # where a fetched context is placed when the builder cannot fetch it
    multiple_destinations: bool
    build_args: bool
    env: tuple[tuple[str, str], ...] = ()
    host_mounts: tuple[HostMount, ...] = ()
    description: str = ""
    notes: tuple[str, ...] = field(default=())

    def reads(self, env: Mapping[str, str]) -> str:
        """The credentials file this builder opens given its container environment."""
        merged = {**self.image_env, **env}
        for step in self.lookup:
            if step.env_file and merged.get(step.env_file):
                return merged[step.env_file]
            if step.env_dir and merged.get(step.env_dir):
                return merged[step.env_dir].rstrip("/") + "/" + self.file_name
            if step.home_dir and merged.get("HOME"):
                return merged["HOME"].rstrip("/") + "/" + step.home_dir + "/" + self.file_name
        return ""


_DOCKER_LOOKUP = (AuthLookup(env_dir="DOCKER_CONFIG"), AuthLookup(home_dir=".docker"))

PROFILES: dict[str, BuilderProfile] = {
    "kaniko": BuilderProfile(
        name="kaniko",
        # upstream GoogleContainerTools/kaniko is archived; osscontainertools publishes maintained releases
        image="ghcr.io/osscontainertools/kaniko:v1.28.3",
        default_mount_path="/kaniko/.docker",
        file_name="config.json",
        image_env={"DOCKER_CONFIG": "/kaniko/.docker/", "HOME": "/root"},
        lookup=_DOCKER_LOOKUP,
        dir_env="DOCKER_CONFIG",
        native_contexts=frozenset({"git", "gs", "s3", "https", "dir", "tar"}),
        workspace="/workspace",
        multiple_destinations=True,
        build_args=True,
        description="kaniko executor: reads $DOCKER_CONFIG/config.json (the image sets DOCKER_CONFIG=/kaniko/.docker/)",
    ),
    "dockerizer": BuilderProfile(
        name="dockerizer",
        image="polyaxon/polyaxon-dockerizer:1.12.0",
        default_mount_path="/root/.docker",
        file_name="config.json",
        image_env={"HOME": "/root"},
        lookup=_DOCKER_LOOKUP,
        dir_env="DOCKER_CONFIG",
        native_contexts=frozenset({"dir"}),
        workspace="/plx-context/artifacts",
        multiple_destinations=False,
        build_args=False,
        env=(("PYTHONUNBUFFERED", "true"),),
        host_mounts=(HostMount("docker-socket", "/var/run/docker.sock", "Socket"),),
        description="Polyaxon dockerizer (docker-py through the node's docker socket): reads "
                    "$DOCKER_CONFIG/config.json, else $HOME/.docker/config.json",
        notes=("pushes through the node's docker daemon: insecure registries must be listed in the daemon's "
               "insecure-registries",),
    ),
}

GIT_IMAGE = "alpine/git:v2.47.2"
