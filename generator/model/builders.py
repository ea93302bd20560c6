"""Builder profiles: the few facts about each builder image that decide where credentials go.

A builder is this profile plus one template (`templates/<name>.yaml.j2`). Planning reads
only these fields, so adding a builder adds a profile and a template, nothing else.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

from msgspec import Struct, field


class AuthLookup(Struct, frozen=True):
    """One place a builder looks for registry credentials, in the order it looks.

    `env_file`: an env var naming the file itself (REGISTRY_AUTH_FILE);
    `env_dir`: an env var naming the directory holding `file` (DOCKER_CONFIG, XDG_RUNTIME_DIR);
    `home_dir`: a directory under $HOME holding `file` (~/.docker);
    `path`: a fixed file, reached when nothing before it is set (/run/containers/0/auth.json).
    `file` defaults to the profile's `file_name`.
    """

    env_file: str | None = None
    env_dir: str | None = None
    home_dir: str | None = None
    path: str | None = None
    file: str | None = None

    @property
    def variable(self) -> str | None:
        return self.env_file or self.env_dir


#: the volume of the node's Docker socket; `builders.dockerizer.dockerSocket` moves its node side
DOCKER_SOCKET = "docker-socket"


class HostMount(Struct, frozen=True):
    """A node path the builder needs (the dockerizer talks to the node's docker daemon)."""

    name: str
    path: str
    type: str


class Scratch(Struct, frozen=True):
    """An emptyDir the builder writes to (layer storage, daemon state)."""

    name: str
    path: str


class BuilderProfile(Struct, frozen=True, dict=True):  # dict: room for the cached properties
    """How one builder finds its credentials (lookup order, default path, file name) and what it can do itself."""

    name: str
    image: str
    default_mount_path: str
    file_name: str  # the credentials file name the builder reads inside that directory
    image_env: Mapping[str, str]  # variables the image sets that change where it looks
    lookup: tuple[AuthLookup, ...]
    auth_env: AuthLookup  # the lookup step conngen sets to point the builder at the mount
    native_contexts: frozenset[str]  # context schemes the builder fetches itself
    workspace: str  # where a fetched context is placed when the builder cannot fetch it
    multiple_destinations: bool
    build_args: bool
    dockerfile_path: bool = True  # takes a Dockerfile path (the dockerizer always reads <context>/Dockerfile)
    context_urls: bool = False  # passes `dir://` contexts through as URLs (kaniko); others get a plain path
    native_buckets: frozenset[str] = frozenset()  # bucket connection kinds whose context tarball it fetches itself
    cluster_dns: bool = True  # pushes from the pod; False: from the node, which cannot resolve Service names
    env: tuple[tuple[str, str], ...] = ()
    host_mounts: tuple[HostMount, ...] = ()
    scratch: tuple[Scratch, ...] = ()
    security_context: Mapping[str, Any] | None = None
    helpers: frozenset[str] = frozenset()  # providers whose credential helper is built into the image
    ca_dir: str | None = None  # where a registry CA is mounted; None: the builder cannot take one
    image_user: tuple[int, int] = (0, 0)  # uid, gid the image runs as when the securityContext does not say
    # files and dirs of the image the builder needs: a mount at or above one of them hides it
    image_paths: tuple[str, ...] = ()
    cache_note: str = ""  # what `cache: true` really does with this builder, when that surprises
    description: str = ""
    notes: tuple[str, ...] = field(default=())

    @functools.cached_property
    def template(self) -> str:
        """The template its Jobs are rendered with (asked for every Job)."""
        return f"{self.name}.yaml.j2"

    @property
    def dir_env(self) -> str:
        """The variable conngen sets to move the lookup to the mount path."""
        return self.auth_env.variable or ""

    @property
    def home(self) -> str:
        return self.image_env.get("HOME", "/root")

    def reads(self, env: Mapping[str, str]) -> str:
        """The credentials file this builder opens given its container environment.

        The first step whose variable is set decides; fallbacks that depend on whether a
        file exists are not modelled, which is why conngen always sets `auth_env` itself
        when the mount is not where the image already looks.
        """
        return self._lookup({**self.image_env, **env}) if env else self.own_reads

    @functools.cached_property
    def own_reads(self) -> str:
        """The file the image opens with no variable set in the pod: most pods, so once per builder."""
        return self._lookup(self.image_env)

    @functools.cached_property
    def own_paths(self) -> frozenset[str]:
        """Where conngen mounts for the builder itself (scratch, node paths, the CA), not the catalog."""
        paths = [*(s.path for s in self.scratch), *(h.path for h in self.host_mounts), self.ca_dir]
        return frozenset(p for p in paths if p)

    def _lookup(self, merged: Mapping[str, str]) -> str:
        for step in self.lookup:
            name = step.file or self.file_name
            if step.env_file and merged.get(step.env_file):
                return merged[step.env_file]
            if step.env_dir and merged.get(step.env_dir):
                return merged[step.env_dir].rstrip("/") + "/" + name
            if step.home_dir and merged.get("HOME"):
                return merged["HOME"].rstrip("/") + "/" + step.home_dir + "/" + name
            if step.path:
                return step.path
        return ""

    def run_as(self, security_context: Mapping[str, Any] | None) -> tuple[int, int]:
        """The uid and gid the builder runs as: the securityContext's, else the image's (gid -1: unknown,
        the image's entry for that uid)."""
        context = security_context or {}
        uid = context.get("runAsUser", self.image_user[0])
        return uid, context.get("runAsGroup", self.image_user[1] if "runAsUser" not in context else -1)

    def auth_env_value(self, mount_path: str) -> str:
        """The value of `auth_env` that makes the builder read `file_name` under `mount_path`."""
        base = mount_path.rstrip("/")
        return f"{base}/{self.file_name}" if self.auth_env.env_file else base


_DOCKER_LOOKUP = (AuthLookup(env_dir="DOCKER_CONFIG"), AuthLookup(home_dir=".docker"))
#: what every image with a shell and libc needs, and the kernel's file systems
_SYSTEM_PATHS = ("/bin/sh", "/usr/bin", "/usr/lib", "/lib", "/etc/passwd", "/etc/ssl/certs", "/dev", "/proc", "/sys",
                 "/tmp")
_DOCKER_CONFIG = AuthLookup(env_dir="DOCKER_CONFIG")
_UNCONFINED = {"type": "Unconfined"}
CA_DIR = "/etc/conngen/registry-ca"  # a fresh directory: mounting over the image's own CA bundle would hide it

PROFILES: dict[str, BuilderProfile] = {
    "kaniko": BuilderProfile(
        name="kaniko",
        # upstream GoogleContainerTools/kaniko is archived; osscontainertools publishes maintained releases
        image="ghcr.io/osscontainertools/kaniko:v1.28.3",
        default_mount_path="/kaniko/.docker",
        file_name="config.json",
        image_env={"DOCKER_CONFIG": "/kaniko/.docker/", "HOME": "/root"},
        lookup=_DOCKER_LOOKUP,
        auth_env=_DOCKER_CONFIG,
        native_contexts=frozenset({"git", "gs", "s3", "https", "dir", "tar"}),
        workspace="/workspace",
        multiple_destinations=True,
        build_args=True,
        context_urls=True,
        # s3:// and gs:// via the cloud SDKs, Azure blob https URLs with AZURE_STORAGE_ACCESS_KEY (README contexts)
        native_buckets=frozenset({"s3", "gcs", "wasb"}),
        # ecr-login, acr-env and the google keychain are linked into the executor (kaniko >= 1.8.0)
        helpers=frozenset({"ecr", "acr", "gcr"}),
        ca_dir=CA_DIR,
        # FROM scratch: the executor and its CA bundle (SSL_CERT_DIR) are all there is, besides the kernel's
        image_paths=("/kaniko/executor", "/kaniko/ssl/certs/ca-certificates.crt", "/etc/nsswitch.conf",
                     "/dev", "/proc", "/sys"),
        description="kaniko executor: reads $DOCKER_CONFIG/config.json (the image sets DOCKER_CONFIG=/kaniko/.docker/)",
    ),
    "dockerizer": BuilderProfile(
        name="dockerizer",
        image="polyaxon/polyaxon-dockerizer:1.12.0",
        default_mount_path="/root/.docker",
        file_name="config.json",
        image_env={"HOME": "/root"},
        lookup=_DOCKER_LOOKUP,
        auth_env=_DOCKER_CONFIG,
        native_contexts=frozenset({"dir"}),
        workspace="/plx-context/artifacts",
        multiple_destinations=False,
        build_args=False,
        dockerfile_path=False,
        cluster_dns=False,
        env=(("PYTHONUNBUFFERED", "true"),),
        host_mounts=(HostMount(DOCKER_SOCKET, "/var/run/docker.sock", "Socket"),),
        image_paths=(*_SYSTEM_PATHS, "/usr/local/bin/polyaxon"),
        # polyaxon's build skips `docker build` when the node already has an image with that tag
        cache_note="cache: true makes the dockerizer reuse any image the node's docker daemon already has under "
                   "the destination tag, built from whatever context it was built from; it is not a layer cache",
        description="Polyaxon dockerizer (docker-py through the node's docker socket): reads "
                    "$DOCKER_CONFIG/config.json, else $HOME/.docker/config.json",
        notes=("pushes through the node's docker daemon: insecure registries must be listed in the daemon's "
               "insecure-registries",),
    ),
    "buildkit": BuilderProfile(
        name="buildkit",
        # rootless image: USER 1000:1000, HOME=/home/user (moby/buildkit Dockerfile, stage rootless)
        image="moby/buildkit:v0.32.2-rootless",
        default_mount_path="/home/user/.docker",
        file_name="config.json",
        image_env={"HOME": "/home/user"},
        lookup=_DOCKER_LOOKUP,
        auth_env=_DOCKER_CONFIG,
        native_contexts=frozenset({"dir"}),
        workspace="/workspace",
        multiple_destinations=True,
        build_args=True,
        # the Kubernetes examples need this: there is no equivalent of systempaths=unconfined
        env=(("BUILDKITD_FLAGS", "--oci-worker-no-process-sandbox"),),
        # the image's VOLUME fails on nosuid,nodev filesystems (COS); an emptyDir does not
        scratch=(Scratch("buildkit-state", "/home/user/.local/share/buildkit"),),
        security_context={"runAsUser": 1000, "runAsGroup": 1000, "seccompProfile": _UNCONFINED,
                          "appArmorProfile": _UNCONFINED},
        ca_dir=CA_DIR,
        image_user=(1000, 1000),
        # the rootless image's programs, its TMPDIR and the runtime dir buildkitd puts its socket in
        image_paths=(*_SYSTEM_PATHS, "/usr/bin/buildctl-daemonless.sh", "/usr/bin/buildctl", "/usr/bin/buildkitd",
                     "/usr/bin/rootlesskit", "/etc/subuid", "/home/user/.local/tmp", "/run/user/1000"),
        description="BuildKit rootless (buildctl-daemonless.sh): reads $DOCKER_CONFIG/config.json, "
                    "else $HOME/.docker/config.json (HOME=/home/user)",
    ),
    "buildah": BuilderProfile(
        name="buildah",
        image="quay.io/buildah/stable:v1.43.0",
        default_mount_path="/root/.docker",
        file_name="config.json",
        image_env={"HOME": "/root", "BUILDAH_ISOLATION": "chroot"},
        # containers/image: --authfile/REGISTRY_AUTH_FILE, else only $DOCKER_CONFIG/config.json when set,
        # else ${XDG_RUNTIME_DIR}/containers/auth.json or /run/containers/<uid>/auth.json (uid 0 here)
        lookup=(AuthLookup(env_file="REGISTRY_AUTH_FILE"), AuthLookup(env_dir="DOCKER_CONFIG"),
                AuthLookup(env_dir="XDG_RUNTIME_DIR", file="containers/auth.json"),
                AuthLookup(path="/run/containers/0/auth.json")),
        auth_env=AuthLookup(env_file="REGISTRY_AUTH_FILE"),
        native_contexts=frozenset({"dir"}),
        workspace="/workspace",
        multiple_destinations=True,
        build_args=True,
        scratch=(Scratch("containers-storage", "/var/lib/containers"),),
        # rootful, not privileged: RUN steps under chroot isolation bind-mount /dev, /proc and /sys,
        # which needs CAP_SYS_ADMIN and no AppArmor/seccomp filter on mount (docs/builders.md)
        security_context={"runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]},
                          "seccompProfile": _UNCONFINED, "appArmorProfile": _UNCONFINED},
        ca_dir=CA_DIR,
        # containers/image refuses to push without /etc/containers/policy.json
        image_paths=(*_SYSTEM_PATHS, "/etc/containers/policy.json", "/usr/share/containers"),
        description="buildah bud + push (vfs, chroot isolation): reads $REGISTRY_AUTH_FILE, else "
                    "$DOCKER_CONFIG/config.json, else ${XDG_RUNTIME_DIR}/containers/auth.json",
    ),
}

GIT_IMAGE = "alpine/git:v2.47.2"  # git with openssh-client, for HTTPS and SSH clones
# fetches bucket contexts for builders that cannot (one image for s3, gcs and Azure blob; sh and tar inside)
FETCH_IMAGE = "rclone/rclone:1.68.2"
GIT_SSH_DIR = "/etc/conngen/git-ssh"  # where the clone step finds the SSH key and known_hosts
