"""Run skopeo and buildah the way a test can trust: with an isolated credential environment.

Why: containers/image falls back through REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json
(/run/containers/0/auth.json for root), $DOCKER_CONFIG/config.json and ~/.docker/config.json when the
file it was given has no matching key. A negative test ("wrong password is refused") can then pass or
fail because of a file somewhere on the machine. Every run here gets a fresh HOME, no inherited
DOCKER_CONFIG / REGISTRY_AUTH_FILE / XDG_RUNTIME_DIR, a permissive policy.json and an empty
registries.conf in that HOME (so /etc/containers cannot add mirrors or signature rules), a private
TMPDIR, and for buildah a private --root/--runroot with the vfs driver.

skopeo (1.9) as root still writes /var/lib/containers/cache/blob-info-cache-v1.boltdb and there is no
flag to move it; `HostFootprint` removes such paths afterwards, but only those that did not exist before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Variables that redirect where credentials/config come from; the isolated env is built from an
#: allowlist, and these may appear in it only when passed explicitly.
_SCRUBBED_PREFIXES = ("DOCKER_", "REGISTRY_", "CONTAINERS_", "XDG_", "BUILDAH_", "STORAGE_")

#: Paths outside the work folder that skopeo/buildah (as root) create on their own.
#: With the private containers.conf of `isolated_env`, only the first four appear; the /etc ones are
#: what buildah 1.28 creates (network lock files) when it runs with the machine's default config.
HOST_PATHS = (
    "/var/lib/containers",
    "/var/lib/containers/cache",
    "/run/containers",
    "/run/containers/networks",
    "/var/lib/containers/storage",
    "/etc/containers/networks",
    "/etc/cni",
    "/etc/cni/net.d",
)

#: The file containers/image reads for root when XDG_RUNTIME_DIR is unset (pitfall 1).
ROOT_RUNTIME_AUTH = f"/run/containers/{os.getuid()}/auth.json"

PERMISSIVE_POLICY = {"default": [{"type": "insecureAcceptAnything"}]}

# buildah 1.28 sets up its network backend even for a `FROM scratch` build; by default that writes
# lock files into /etc/containers/networks and /etc/cni/net.d. Move the backend's config dir. The
# backend itself is not pinned: a --no-install-recommends install gets CNI plugins, not netavark,
# and a pinned netavark then fails with 'could not find "netavark"'.
_CONTAINERS_CONF = """\
[network]
network_config_dir = "{network_dir}"
"""


# ---------------------------------------------------------------------------------------------
# binaries


def running_on_ci() -> bool:
    """CI sets CI=true; there a missing tool is a broken install, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_binaries(*names: str) -> dict[str, str]:
    """Return {name: path} for each tool, or skip the test (fail it on CI) naming what is missing."""
    found = {name: shutil.which(name) for name in names}
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        reason = f"missing binaries: {', '.join(missing)} (run scripts/install-test-deps)"
        if running_on_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return {name: str(path) for name, path in found.items()}


# ---------------------------------------------------------------------------------------------
# credentials in kubectl's format


def dockerconfigjson(server: str, username: str, password: str, email: str | None = None) -> dict:
    """The JSON `kubectl create secret docker-registry` stores under `.dockerconfigjson`.

    Every field is omitempty in kubectl; `auth` is base64(StdEncoding) of "user:pass" and is the only
    field containers/image actually reads (pitfall 3).
    """
    entry: dict[str, str] = {}
    if username:
        entry["username"] = username
    if password:
        entry["password"] = password
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"auths": {server: entry}}


def write_docker_config(directory: Path, config: Mapping) -> Path:
    """Write `config.json` into `directory` (the form DOCKER_CONFIG must point at: a directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


# ---------------------------------------------------------------------------------------------
# isolated environment


def isolated_env(
    base_dir: Path,
    *,
    docker_config: Path | None = None,
    registry_auth_file: Path | None = None,
    xdg_runtime_dir: Path | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build an environment for skopeo/buildah in which only the credentials passed in exist.

    `base_dir` gets `home/` (HOME, with a permissive policy.json and an empty registries.conf under
    ~/.config/containers), `tmp/` (TMPDIR, where skopeo/buildah buffer big blobs instead of
    /var/tmp) and `containers.conf` (CONTAINERS_CONF, keeps buildah's network files out of /etc).

    XDG_RUNTIME_DIR stays unset unless passed; but if the root fallback file
    /run/containers/<uid>/auth.json exists on this machine, it is pointed at an empty private dir
    instead, because unset would make containers/image read that machine-wide file.
    """
    home = base_dir / "home"
    tmp = base_dir / "tmp"
    conf = home / ".config" / "containers"
    conf.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    (conf / "policy.json").write_text(json.dumps(PERMISSIVE_POLICY))
    (conf / "registries.conf").write_text("# isolated: no mirrors, no search registries\n")
    containers_conf = base_dir / "containers.conf"
    containers_conf.write_text(_CONTAINERS_CONF.format(network_dir=base_dir / "networks"))

    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "LANG", "LC_ALL", "TZ"}
    }
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env["HOME"] = str(home)
    env["TMPDIR"] = str(tmp)
    env["CONTAINERS_CONF"] = str(containers_conf)
    if docker_config is not None:
        env["DOCKER_CONFIG"] = str(docker_config)
    if registry_auth_file is not None:
        env["REGISTRY_AUTH_FILE"] = str(registry_auth_file)
    if xdg_runtime_dir is not None:
        env["XDG_RUNTIME_DIR"] = str(xdg_runtime_dir)
    elif os.path.exists(ROOT_RUNTIME_AUTH):
        private_runtime = base_dir / "run"
        private_runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(private_runtime)
    if extra:
        env.update(extra)
    leaked = [k for k in env if k.startswith(_SCRUBBED_PREFIXES)]
    allowed = {"DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "CONTAINERS_CONF", *(extra or {})}
    assert set(leaked) <= allowed, f"unexpected credential variables in isolated env: {leaked}"
    return env


# ---------------------------------------------------------------------------------------------
# host footprint


class HostFootprint:
    """Remember which of HOST_PATHS exist, and later remove the ones that appeared since.

    Use one per test session or module rather than per call: removing /var/lib/containers/cache while
    another skopeo is using it would be rude. Nothing that existed before is ever touched.
    """

    def __init__(self, paths: Sequence[str] = HOST_PATHS) -> None:
        self.paths = tuple(paths)
        self.before = {p for p in self.paths if os.path.lexists(p)}

    def created(self) -> list[str]:
        """Watched paths that exist now but did not at construction time."""
        return [p for p in self.paths if p not in self.before and os.path.lexists(p)]

    def cleanup(self) -> list[str]:
        """Remove what appeared (shallowest first; a removed parent takes its children along)."""
        removed = []
        for path in sorted(self.created(), key=lambda p: p.count("/")):
            if not os.path.lexists(path):
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
            removed.append(path)
        return removed


@contextmanager
def host_footprint(paths: Sequence[str] = HOST_PATHS) -> Iterator[HostFootprint]:
    """Context manager around HostFootprint that always cleans up on exit."""
    fp = HostFootprint(paths)
    try:
        yield fp
    finally:
        fp.cleanup()


# ---------------------------------------------------------------------------------------------
# running the tools


@dataclass
class Result:
    """What a tool run returned; `out` is stdout+stderr for assertions on error messages."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    digest: str | None = None
    raw_stdout: bytes = b""

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def out(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> Result:
        """Raise with the full output if the run failed; return self so calls can be chained."""
        if self.rc != 0:
            raise AssertionError(
                f"command failed (rc={self.rc}): {' '.join(self.argv)}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


def run(argv: Sequence[str], env: Mapping[str, str], *, timeout: float = 120, cwd: Path | None = None) -> Result:
    """Run one command with exactly `env` (nothing inherited) and capture its output."""
    proc = subprocess.run(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Result(
        argv=list(argv),
        rc=proc.returncode,
        stdout=proc.stdout.decode(errors="replace"),
        stderr=proc.stderr.decode(errors="replace"),
        raw_stdout=proc.stdout,
    )


def _tls_flags(prefix: str, cert_dir: Path | None, tls_verify: bool) -> list[str]:
    flags = [f"--{prefix}tls-verify={'true' if tls_verify else 'false'}"]
    if cert_dir is not None:
        flags.append(f"--{prefix}cert-dir={cert_dir}")
    return flags


def skopeo_copy(
    src: str,
    dest: str,
    env: Mapping[str, str],
    cert_dir: Path | None = None,
    tls_verify: bool = True,
    *,
    authfile: Path | None = None,
    creds: str | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 120,
) -> Result:
    """`skopeo copy src dest`; TLS/auth options go to whichever side is `docker://`.

    Without `authfile`/`creds` skopeo finds credentials the normal way, i.e. through env (DOCKER_CONFIG,
    REGISTRY_AUTH_FILE) — which is what a test of a generated config.json wants.
    """
    argv = ["skopeo", "copy", "--retry-times=0"]
    for side, ref in (("src-", src), ("dest-", dest)):
        if not ref.startswith("docker://"):
            continue
        argv += _tls_flags(side, cert_dir, tls_verify)
        if authfile is not None:
            argv.append(f"--{side}authfile={authfile}")
        if creds is not None:
            argv.append(f"--{side}creds={creds}")
    argv += [*extra_args, src, dest]
    return run(argv, env, timeout=timeout)


def skopeo_inspect_digest(
    ref: str,
    env: Mapping[str, str],
    cert_dir: Path | None = None,
    tls_verify: bool = True,
    *,
    authfile: Path | None = None,
    creds: str | None = None,
    timeout: float = 60,
) -> Result:
    """`skopeo inspect --raw` of `ref`; on success `result.digest` is sha256 of the manifest bytes.

    The digest is computed from the raw manifest rather than read from `Digest`, so it is exactly
    what a pull by digest would fetch and needs no config blob download.
    """
    argv = ["skopeo", "inspect", "--raw", "--retry-times=0"]
    if ref.startswith("docker://"):
        argv += _tls_flags("", cert_dir, tls_verify)
        if authfile is not None:
            argv.append(f"--authfile={authfile}")
        if creds is not None:
            argv.append(f"--creds={creds}")
    argv.append(ref)
    result = run(argv, env, timeout=timeout)
    if result.ok:
        result.digest = "sha256:" + hashlib.sha256(result.raw_stdout).hexdigest()
    return result


@dataclass
class BuildResult:
    """Outcome of `buildah bud` followed (if it worked) by `buildah push`."""

    build: Result
    push: Result | None = None
    storage: Path | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return self.build.ok and self.push is not None and self.push.ok

    @property
    def rc(self) -> int:
        return self.push.rc if self.build.ok and self.push is not None else self.build.rc

    @property
    def stdout(self) -> str:
        return self.build.stdout + (self.push.stdout if self.push else "")

    @property
    def stderr(self) -> str:
        return self.build.stderr + (self.push.stderr if self.push else "")

    @property
    def out(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> BuildResult:
        self.build.check()
        if self.push is not None:
            self.push.check()
        return self


def buildah_base_args(storage: Path) -> list[str]:
    """Global buildah flags that keep images and state inside `storage` (vfs: no mounts to undo)."""
    return [
        "buildah",
        "--root", str(storage / "root"),
        "--runroot", str(storage / "runroot"),
        "--storage-driver", "vfs",
    ]


def buildah_build_and_push(
    context_dir: Path,
    dest: str,
    env: Mapping[str, str],
    *,
    cert_dir: Path | None = None,
    tls_verify: bool = True,
    authfile: Path | None = None,
    creds: str | None = None,
    dockerfile: Path | None = None,
    storage: Path | None = None,
    keep_storage: bool = False,
    timeout: float = 300,
) -> BuildResult:
    """Build `context_dir` with `--isolation chroot` into private vfs storage and push it to `dest`.

    `dest` is a transport reference such as `docker://127.0.0.1:PORT/org/img:v1`. Storage is a fresh
    temp dir removed afterwards unless `storage`/`keep_storage` say otherwise. The push reads
    credentials from `env` unless `authfile`/`creds` are given.
    """
    own_storage = storage is None
    if storage is None:
        storage = Path(tempfile.mkdtemp(prefix="conngen-buildah-", dir=env.get("TMPDIR")))
    base = buildah_base_args(storage)
    local_tag = "localhost/conngen-tests/build:latest"
    try:
        bud = [*base, "bud", "--isolation", "chroot", "--layers=false", "--pull=false", "-t", local_tag]
        if dockerfile is not None:
            bud += ["-f", str(dockerfile)]
        bud.append(str(context_dir))
        build = run(bud, env, timeout=timeout)
        result = BuildResult(build=build, storage=storage if keep_storage or not own_storage else None)
        if not build.ok:
            return result
        digest_file = storage / "pushed.digest"
        push = [*base, "push", "--retry", "0", "--digestfile", str(digest_file)]
        push += _tls_flags("", cert_dir, tls_verify)
        if authfile is not None:
            push.append(f"--authfile={authfile}")
        if creds is not None:
            push.append(f"--creds={creds}")
        push += [local_tag, dest]
        result.push = run(push, env, timeout=timeout)
        if result.push.ok and digest_file.exists():
            result.digest = digest_file.read_text().strip()
        return result
    finally:
        if own_storage and not keep_storage:
            shutil.rmtree(storage, ignore_errors=True)
