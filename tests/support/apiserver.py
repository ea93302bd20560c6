"""A real Kubernetes API server (kube-apiserver on Debian's etcd) on 127.0.0.1 for apply tests.

Why a real one: whether a second `kubectl apply` of a Job is refused ("field is immutable") is the
API server's own validation; a Python copy of the rule can drift from it. Only the API server and
its store run — no controller-manager, no scheduler — so Jobs are stored and never run, which is all
an immutability check needs. Both are direct children of the test process, stopped by PID; etcd's
data, the serving certificate, the service-account key pair, the token file and the kubeconfig live
in one temp dir. kube-apiserver comes from scripts/build-apiserver (PATH, else the tools cache).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .clients import require_binaries, running_on_ci
from .registry import free_port, make_self_signed_cert


@dataclass(frozen=True)
class ApiServer:
    """A running API server and a kubeconfig that reaches it as a member of system:masters."""

    url: str
    kubeconfig: Path
    workdir: Path

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        return subprocess.run(["kubectl", *args], input=stdin, env=env, capture_output=True, text=True,
                              timeout=120)


def find_apiserver() -> str:
    """kube-apiserver on PATH, else where scripts/build-apiserver links it; skip (fail on CI) if neither."""
    tools = Path(os.environ.get("CONNGEN_TOOLS") or Path.home() / ".cache" / "conngen-tools")
    found = shutil.which("kube-apiserver") or shutil.which("kube-apiserver", path=str(tools / "bin"))
    if found is None:
        reason = f"kube-apiserver is neither on PATH nor in {tools}/bin (run scripts/build-apiserver)"
        if running_on_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float, **request) -> None:
    """Poll `url` until it answers 200; raise with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=request.get("headers", {})),
                                        timeout=2, context=request.get("context")) as resp:  # noqa: S310
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError, OSError):
            status = None
        if status == 200:
            return
        time.sleep(0.2)
    state = f"exited with {proc.returncode}" if proc.poll() is not None else f"last status {status}"
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s ({state}); log:\n"
                       + log.read_text(errors="replace")[-3000:])


@contextmanager
def _child(argv: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A child process with its output in `log`, terminated by PID (killed after 10 s) on exit."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _env(drop: str) -> dict[str, str]:
    """The environment without variables the child reads as configuration (ETCD_*, KUBE*)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


@contextmanager
def run_apiserver(workdir: Path, *, start_timeout: float = 240) -> Iterator[ApiServer]:
    """Start etcd and kube-apiserver in `workdir`, wait for /readyz, yield, stop both."""
    apiserver = find_apiserver()
    require_binaries("etcd", "openssl", "kubectl")
    token = secrets.token_hex(16)
    (workdir / "tokens.csv").write_text(f"{token},admin,admin,system:masters\n")
    crt, key = make_self_signed_cert(workdir / "serving")
    sa_key, sa_pub = workdir / "sa.key", workdir / "sa.pub"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", str(sa_key)], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", str(sa_key), "-pubout", "-out", str(sa_pub)],
                   check=True, capture_output=True)
    etcd_url, peer_url = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    with ExitStack() as stack:
        etcd_log = workdir / "etcd.log"
        etcd = stack.enter_context(_child([
            "etcd", "--name", "test", "--data-dir", str(workdir / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"test={peer_url}",
        ], etcd_log, _env("ETCD_")))
        _wait_ready(f"{etcd_url}/health", etcd, etcd_log, start_timeout)
        log = workdir / "kube-apiserver.log"
        proc = stack.enter_context(_child([
            apiserver, "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", f"--secure-port={port}",
            "--tls-cert-file", str(crt), "--tls-private-key-file", str(key),
            "--token-auth-file", str(workdir / "tokens.csv"), "--anonymous-auth=false",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(sa_pub), "--service-account-signing-key-file", str(sa_key),
            "--service-cluster-ip-range=10.96.0.0/24",
            # the `kubernetes` Service's Endpoints may not hold a loopback address: do not write them
            "--endpoint-reconciler-type=none",
            # pods are never created (no controller-manager); ServiceAccount admission would also wait
            # for a `default` ServiceAccount that only the controller-manager makes
            "--disable-admission-plugins=ServiceAccount",
        ], log, _env("KUBE")))
        _wait_ready(f"{url}/readyz", proc, log, start_timeout, headers={"Authorization": f"Bearer {token}"},
                    context=ssl.create_default_context(cafile=str(crt)))
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": url, "certificate-authority": str(crt)}}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
        }))
        kubeconfig.chmod(0o600)
        yield ApiServer(url=url, kubeconfig=kubeconfig, workdir=workdir)


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One API server for the session. A failure to start is an error, never a skip."""
    with run_apiserver(tmp_path_factory.mktemp("apiserver")) as server:
        yield server
