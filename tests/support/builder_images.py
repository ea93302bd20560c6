"""Builder images made here, laid out as their upstream images are (no image can be pulled).

Why each fact matters: a Secret mounted over a path the image needs (kaniko's /kaniko), an ENV the
builder's lookup depends on (`DOCKER_CONFIG=/kaniko/.docker/`, `HOME=/home/user`), the user it runs
as (BuildKit's 1000:1000) decide whether the rendered Job works. So every image below repeats its
upstream Dockerfile's ENV, USER, WORKDIR and ENTRYPOINT, with the program built here:

* kaniko: nothing but the executor at /kaniko/executor (built by scripts/build-go-tools from
  the maintained fork), CA bundle at /kaniko/ssl/certs, empty /kaniko/.docker, /kaniko mode 0777
  (osscontainertools/kaniko deploy/Dockerfile; the credential-helper binaries are left out: the
  executor links ecr, acr and google keychains in).
* buildkit: the rootless image's user 1000:1000, HOME, XDG_RUNTIME_DIR, TMPDIR, BUILDKIT_HOST,
  /etc/subuid, `buildctl-daemonless.sh` from the same buildkit module version, ENTRYPOINT
  rootlesskit buildkitd (moby/buildkit Dockerfile, stage rootless); on Debian, with Debian's
  rootlesskit and runc instead of alpine's.
* dockerizer: `polyaxon docker` from the `polyaxon[docker]` package, ENTRYPOINT ["polyaxon", "docker"]
  so the Job's `args: [build-and-push, ...]` is Polyaxon's own command.
* buildah: Debian's buildah with `BUILDAH_ISOLATION=chroot` and cgroupfs (containers/image_build).

The Debian images share one root file system made with debootstrap, cached as a tarball keyed by
suite and package versions. Each image is its own root file system tarball, keyed by everything
that went into it and imported with `docker import --change` (one layer: with vfs storage every
`docker build` step would copy the whole file system), so a warm run only imports them.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine

TOOLS_DIR = Path(os.environ.get("CONNGEN_TOOLS") or Path.home() / ".cache" / "conngen-tools")
IMAGE_CACHE = TOOLS_DIR / "images"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
#: one root file system for every Debian-based builder image (buildah, buildkit's helpers, python)
BASE_PACKAGES = ("buildah", "containernetworking-plugins", "rootlesskit", "uidmap", "runc", "python3",
                 "python3-venv", "ca-certificates")
POLYAXON = "polyaxon[docker]==2.18.0"
LAYOUT = 2  # bump when how a file system is laid out changes (a key must change with the bytes)
KEY_LABEL = "dev.conngen.test.key"
VERSION_LABEL = "dev.conngen.test.version"


class ToolMissing(Exception):
    """A program an image needs has not been built (scripts/build-go-tools) or cannot be found."""


@dataclass
class Recipe:
    """An image as a root file system: the Debian base or nothing, files to add, commands to run in a
    chroot of it, and the image config (`docker import --change` instructions: ENV, USER, ENTRYPOINT).

    One layer, no `docker build`: with vfs storage every build step copies the whole file system.
    """

    changes: tuple[str, ...]
    # container path -> a program (Path, 0755), a file's bytes (0644), a directory (Path), or None (empty dir)
    files: dict[str, Path | bytes | None] = field(default_factory=dict)
    chroot: tuple[tuple[str, ...], ...] = ()
    capabilities: dict[str, str] = field(default_factory=dict)  # path -> file capabilities (setcap syntax)
    version: str = ""
    base: bool = False

    def key(self, base_key: str) -> str:
        digest = hashlib.sha256(json.dumps([LAYOUT, self.changes, self.chroot, self.capabilities,
                                               self.base and base_key]).encode())
        for name in sorted(self.files):
            content = self.files[name]
            digest.update(name.encode() + b"\0")
            if content is not None:
                digest.update(content if isinstance(content, bytes) else _file_digest(content).encode())
        return digest.hexdigest()[:20]


def _file_digest(path: Path) -> str:
    """A file's sha256; a directory (downloaded wheels) by its file names, which carry the versions."""
    if path.is_dir():
        return hashlib.sha256("\n".join(sorted(p.name for p in path.iterdir())).encode()).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _locked() -> Iterator[None]:
    """One builder of the cache at a time (another test session waits, then finds the result)."""
    IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    with open(IMAGE_CACHE / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(argv: list[str], what: str, **kwargs) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (rc={proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}")
    return proc.stdout


# ---- tools from scripts/build-go-tools --------------------------------------------------------


def tool(name: str) -> Path:
    """A binary scripts/build-go-tools put in $CONNGEN_TOOLS/bin (a link into its `<tool>-<version>/`)."""
    path = TOOLS_DIR / "bin" / name
    if not path.exists():
        raise ToolMissing(f"{path} is missing: run scripts/build-go-tools")
    return path


def tool_version(name: str) -> str:
    """`v1.2.3` of the `<tool>-<version>/` dir whose binary `bin/<name>` is (a symlink or a hard link)."""
    path = tool(name)
    for candidate in TOOLS_DIR.glob(f"*-v*/{name}"):
        if os.path.samefile(candidate, path):
            return candidate.parent.name.rsplit("-", 1)[1]
    raise ToolMissing(f"{path} is in no <tool>-<version>/ dir of {TOOLS_DIR}: run scripts/build-go-tools")


def _buildkit_script(version: str) -> Path:
    """buildctl-daemonless.sh from the module source the binaries were built from (Go module cache)."""
    script = (TOOLS_DIR / "go-mod" / "github.com" / "moby" / f"buildkit@{version}" / "examples"
              / "buildctl-daemonless" / "buildctl-daemonless.sh")
    if not script.exists():
        raise ToolMissing(f"{script} is missing: run scripts/build-go-tools")
    return script


# ---- the Debian root file system --------------------------------------------------------------


@functools.cache
def _candidates(packages: tuple[str, ...]) -> dict[str, str]:
    """The version apt would install of each package: what the debootstrap tarball is keyed by."""
    out = _run(["apt-cache", "policy", *packages], "apt-cache policy")
    versions, current = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.rstrip(":")
        elif current and line.strip().startswith("Candidate:"):
            versions[current] = line.split(":", 1)[1].strip()
    missing = [p for p in packages if versions.get(p) in (None, "(none)")]
    if missing:
        raise RuntimeError(f"apt knows no candidate for {missing}: run apt-get update")
    return versions


def base_key() -> str:
    debootstrap = _run(["debootstrap", "--version"], "debootstrap --version").strip()
    text = json.dumps({"suite": SUITE, "debootstrap": debootstrap, "packages": _candidates(BASE_PACKAGES)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def base_rootfs(key: str) -> Path:
    """The debootstrap tarball for `key`, made when missing (about 3 minutes, debs cached too)."""
    tarball = IMAGE_CACHE / f"debian-{SUITE}-{key}.tar"
    if tarball.exists():
        return tarball
    debs = IMAGE_CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=IMAGE_CACHE))
    try:
        rootfs = work / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", f"--include={','.join(BASE_PACKAGES)}",
              SUITE, str(rootfs), MIRROR], "debootstrap")
        shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
        shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(work / "rootfs.tar"), "."], "tar")
        for old in IMAGE_CACHE.glob(f"debian-{SUITE}-*.tar"):
            old.unlink()
        os.replace(work / "rootfs.tar", tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


# ---- recipes ----------------------------------------------------------------------------------

_NSSWITCH = b"hosts: files dns\n"
_CONTAINERS_CONF = b'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'


def kaniko_recipe() -> Recipe:
    return Recipe(
        changes=("ENV HOME=/root", "ENV USER=root", "ENV PATH=/usr/local/bin:/kaniko",
                 "ENV SSL_CERT_DIR=/kaniko/ssl/certs", "ENV DOCKER_CONFIG=/kaniko/.docker/",
                 "ENV DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json",
                 "WORKDIR /workspace", 'ENTRYPOINT ["/kaniko/executor"]'),
        files={"/kaniko/executor": tool("executor"), "/kaniko/.docker": None, "/workspace": None,
               "/kaniko/ssl/certs/ca-certificates.crt": Path("/etc/ssl/certs/ca-certificates.crt").read_bytes(),
               "/etc/nsswitch.conf": _NSSWITCH},
        version=f"kaniko executor {tool_version('executor')}",
    )


def buildkit_recipe() -> Recipe:
    version = tool_version("buildkitd")
    return Recipe(
        changes=("USER 1000:1000", "ENV HOME=/home/user", "ENV USER=user", "ENV XDG_RUNTIME_DIR=/run/user/1000",
                 "ENV TMPDIR=/home/user/.local/tmp", "ENV BUILDKIT_HOST=unix:///run/user/1000/buildkit/buildkitd.sock",
                 'ENTRYPOINT ["rootlesskit", "buildkitd"]'),
        files={"/usr/bin/buildkitd": tool("buildkitd"), "/usr/bin/buildctl": tool("buildctl"),
               "/usr/bin/buildctl-daemonless.sh": _buildkit_script(version)},
        chroot=(("useradd", "-u", "1000", "-U", "-m", "-d", "/home/user", "-s", "/bin/sh", "user"),
                ("mkdir", "-p", "/run/user/1000", "/home/user/.local/tmp", "/home/user/.local/share/buildkit"),
                ("chown", "-R", "user:user", "/run/user/1000", "/home/user"),
                ("sh", "-c", "echo user:100000:65536 > /etc/subuid && echo user:100000:65536 > /etc/subgid")),
        # file capabilities, as alpine's shadow-uidmap: Debian falls back to setuid root when setcap is
        # missing, and a setuid newuidmap is not the user namespace's owner, so writing uid_map would
        # need CAP_SYS_ADMIN, which the pod does not have
        capabilities={"/usr/bin/newuidmap": "cap_setuid=ep", "/usr/bin/newgidmap": "cap_setgid=ep"},
        version=f"buildkit {version}",
        base=True,
    )


def dockerizer_recipe() -> Recipe:
    return Recipe(
        # POLYAXON_SERVICE=init: polyaxon's CLI has its `docker` group only in its init service
        changes=("ENV PATH=/opt/polyaxon/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "ENV POLYAXON_SERVICE=init", "ENV HOME=/root", 'ENTRYPOINT ["polyaxon", "docker"]'),
        files={"/tmp/wheels": _polyaxon_wheels()},
        chroot=(("python3", "-m", "venv", "/opt/polyaxon"),
                ("/opt/polyaxon/bin/pip", "install", "--quiet", "--no-cache-dir", "--no-index", "--find-links",
                 "/tmp/wheels", POLYAXON),
                ("rm", "-rf", "/tmp/wheels")),
        version=POLYAXON,
        base=True,
    )


def buildah_recipe() -> Recipe:
    return Recipe(
        changes=("ENV BUILDAH_ISOLATION=chroot",),
        files={"/etc/containers/containers.conf": _CONTAINERS_CONF},
        version="buildah " + _candidates(("buildah",))["buildah"],
        base=True,
    )


def _polyaxon_wheels() -> Path:
    """The wheels of POLYAXON and its dependencies for the image's Python 3.11, downloaded once."""
    wheels = IMAGE_CACHE / "polyaxon-wheels" / hashlib.sha256(POLYAXON.encode()).hexdigest()[:12]
    if not (wheels / ".complete").exists():
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
              "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
              "--platform", "linux_x86_64", "--implementation", "cp", "-d", str(wheels), POLYAXON, "pip"],
             "pip download")
        (wheels / ".complete").touch()
    return wheels


RECIPES = {"kaniko": kaniko_recipe, "buildkit": buildkit_recipe, "dockerizer": dockerizer_recipe,
           "buildah": buildah_recipe}


# ---- building and caching ---------------------------------------------------------------------


_XATTRS = ("--xattrs", "--xattrs-include=security.capability")


def _rootfs(recipe: Recipe, bkey: str, out: Path) -> None:
    """Lay out the recipe's file system in a temp dir (as root: owners kept) and tar it to `out`."""
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=IMAGE_CACHE) as work:
        root = Path(work) / "root"
        root.mkdir()
        if recipe.base:
            _run(["tar", "-C", str(root), "--numeric-owner", *_XATTRS, "-xf", str(base_rootfs(bkey))], "tar -x")
        for name, content in recipe.files.items():
            target = root / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                target.mkdir(exist_ok=True)
            elif isinstance(content, bytes):
                target.write_bytes(content)
                target.chmod(0o644)
            elif content.is_dir():
                shutil.copytree(content, target)
            else:
                shutil.copyfile(content, target)
                target.chmod(0o755)
        if (root / "kaniko").is_dir():
            (root / "kaniko").chmod(0o777)  # kaniko's Dockerfile: world-writable, for non-root runs
        for argv in recipe.chroot:
            _run(["chroot", str(root), *argv], f"chroot {argv[0]}", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                                         "HOME": "/root", "LANG": "C.UTF-8"})
        for path, caps in recipe.capabilities.items():
            target = root / path.lstrip("/")
            target.chmod(0o755)  # no setuid bit: the capability is the privilege
            _run(["setcap", caps, str(target)], "setcap")
        _run(["tar", "-C", str(root), "--numeric-owner", *_XATTRS, "-cf", str(out) + ".part", "."], "tar -c")
        os.replace(str(out) + ".part", out)


def ensure_image(engine: Engine, builder: str, tag: str) -> str:
    """Make `tag` (the name the rendered Job uses) this builder's image on `engine`; return its version.

    The root file system is built once per key and kept under IMAGE_CACHE; each run imports it.
    """
    recipe = RECIPES[builder]()
    with _locked():
        bkey = base_key() if recipe.base else ""
        key = recipe.key(bkey)
        if (engine.image_labels(tag) or {}).get(KEY_LABEL) == key:
            return recipe.version
        saved = IMAGE_CACHE / f"{builder}-{key}.tar"
        if not saved.exists():
            for old in IMAGE_CACHE.glob(f"{builder}-*.tar"):
                old.unlink()
            _rootfs(recipe, bkey, saved)
        changes = [*recipe.changes, f"LABEL {KEY_LABEL}={key}", f'LABEL {VERSION_LABEL}="{recipe.version}"']
        engine.docker("import", *[a for change in changes for a in ("--change", change)], str(saved), tag)
    return recipe.version
