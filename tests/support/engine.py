"""A Docker engine of our own (Debian's docker.io) for running builder images in tests.

Why our own: no engine runs on these machines, and the builders' own programs must run in containers
laid out as their images are. Started as container-runtime.md shows: its own data root, exec root,
pidfile, config and socket under one temp dir, vfs storage, no iptables and no bridge (containers
use `--network host`). It is a direct child of the test process and is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .clients import HostFootprint, require_binaries
from .registry import _stop  # SIGTERM by PID, then SIGKILL

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # Debian's CLI, the engine's own version (another may be first on PATH)
ENGINE_TOOLS = ("dockerd", "containerd", "runc")
#: what dockerd makes outside its own dirs whatever the flags say; removed if it was not there before
ENGINE_HOST_PATHS = ("/run/docker", "/var/run/docker", "/etc/docker/key.json")


@dataclass(frozen=True)
class Engine:
    """A running dockerd. `env` is what a docker client needs to talk to it and to nothing else."""

    socket: Path
    workdir: Path
    pid: int

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        # DOCKER_CONFIG: the CLI's own config dir, so it never reads or writes the user's ~/.docker
        return {"PATH": path, "DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.workdir / "cli"),
                "HOME": str(self.workdir / "home")}

    def docker(self, *args: str, check: bool = True, timeout: float = 600, input: bytes | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run the docker CLI against this engine; output captured as text."""
        proc = subprocess.run([DOCKER, *args], env=self.env, capture_output=True, timeout=timeout, input=input,
                              cwd=cwd, check=False)
        out = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(errors="replace"),
                                          proc.stderr.decode(errors="replace"))
        if check and out.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args[:3])} failed (rc={out.returncode}): "
                               f"{out.stderr.strip() or out.stdout.strip()}")
        return out

    def image_labels(self, image: str) -> dict[str, str] | None:
        """The labels of a local image, or None when there is no such image."""
        result = self.docker("image", "inspect", "--format", "{{json .Config.Labels}}", image, check=False)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout) or {}


def _dockerd_argv(workdir: Path, storage_driver: str = "vfs") -> list[str]:
    # never the machine's /etc/docker/daemon.json; the trust key dockerd 20.10 makes goes here, not to /etc/docker
    (workdir / "daemon.json").write_text(json.dumps({"deprecated-key-path": str(workdir / "key.json")}))
    return [
        DOCKERD,
        "--data-root", str(workdir / "data"),
        "--exec-root", str(workdir / "exec"),
        "--pidfile", str(workdir / "dockerd.pid"),
        "--config-file", str(workdir / "daemon.json"),
        "-H", f"unix://{workdir / 'docker.sock'}",
        "--iptables=false", "--ip6tables=false", "--bridge=none",
        f"--storage-driver={storage_driver}",
    ]


@contextmanager
def run_engine(base_dir: Path | None = None, start_timeout: float = 60, storage_driver: str = "vfs") -> Iterator[Engine]:
    """Start dockerd, wait until `docker version` shows a server, yield it, always stop and clean up.

    The socket lives under a short /tmp path (a unix socket path has a 108-byte limit), so the dir
    is made with `tempfile` even when `base_dir` is given for the data root.
    """
    require_binaries(*ENGINE_TOOLS)
    workdir = Path(tempfile.mkdtemp(prefix="conngen-dockerd-", dir=base_dir))
    sockdir = Path(tempfile.mkdtemp(prefix="cgd-"))
    footprint = HostFootprint(ENGINE_HOST_PATHS)
    (workdir / "cli").mkdir()
    (workdir / "home").mkdir()
    log_path = workdir / "dockerd.log"
    proc: subprocess.Popen | None = None
    try:
        argv = _dockerd_argv(workdir, storage_driver)
        argv[argv.index("-H") + 1] = f"unix://{sockdir / 'docker.sock'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        engine = Engine(sockdir / "docker.sock", workdir, proc.pid)
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with {proc.returncode}; log:\n{_tail(log_path)}")
            if engine.socket.exists() and engine.docker("version", "--format", "{{.Server.Version}}",
                                                        check=False, timeout=10).returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not answer within {start_timeout}s; log:\n{_tail(log_path)}")
            time.sleep(0.2)
        yield engine
    finally:
        if proc is not None:
            _stop(proc, timeout=30)  # dockerd stops its containers and containerd first
        _unmount_under(workdir)
        subprocess.run(["rm", "-rf", "--one-file-system", str(workdir)], check=False)  # faster than rmtree on vfs
        shutil.rmtree(sockdir, ignore_errors=True)
        footprint.cleanup()


def _unmount_under(directory: Path) -> None:
    """Unmount what dockerd left mounted below `directory` (its exec root's netns), deepest first."""
    prefix = str(directory.resolve()) + "/"
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4] for line in fh]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


def engine_fixture(scope: str = "session", name: str | None = None, storage_driver: str = "vfs") -> Callable:
    """A pytest fixture yielding a running `Engine`; a start failure is an error, never a skip.

    Missing binaries skip locally and fail under CI=true (`require_binaries`).
    """

    def _fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
        with run_engine(tmp_path_factory.mktemp("engine"), storage_driver=storage_driver) as engine:
            yield engine

    kwargs: dict = {"scope": scope}
    if name is not None:
        kwargs["name"] = name
    return pytest.fixture(**kwargs)(_fixture)

