"""A real docker registry (Debian's distribution v2.8) on 127.0.0.1 for end-to-end credential tests.

Why a real one: the only convincing proof that a generated `.dockerconfigjson` works is a client
pushing with it to a registry that checks passwords. The registry runs as a direct child of the test
process (so it is reaped by PID, pitfall 9), on a free loopback port, with bcrypt htpasswd auth
(MD5 entries are accepted at start and then refuse every login, pitfall 6) and, by default, TLS with a
self-signed certificate made here. Everything lives in one temp dir that is removed on exit.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .clients import require_binaries

REGISTRY_BIN = "/usr/bin/docker-registry"
DEFAULT_USERNAME = "testuser"
DEFAULT_PASSWORD = "s3cret-Pa55"
REGISTRY_TOOLS = ("docker-registry", "htpasswd", "openssl")

_AUTH_FAILURE = re.compile(r'error authenticating user \\?"(?P<user>[^"\\]*)\\?": authentication failure')
_NO_CREDENTIALS = re.compile(r"invalid authorization credential")
_AUTHORIZED = re.compile(r'auth\.user\.name="?(?P<user>[^" ]+)')


@dataclass(frozen=True)
class AuthReport:
    """What the registry log says about logins since a mark.

    The client error is the same `unauthorized: authentication required` for a wrong password, a
    config keyed to another host and no credentials at all (pitfall 5); the log is what differs:

    * wrong password: `error authenticating user "testuser": authentication failure`;
    * nothing sent (no matching key): only `invalid authorization credential` warnings — logged for
      *every* anonymous `/v2/` ping too (pitfall 12) — and, from skopeo 1.9, an
      `error authenticating user "": authentication failure` for an empty user name;
    * success: `auth.user.name="testuser"` on the authorized requests.
    """

    auth_failures: tuple[str, ...]
    empty_user_attempts: int
    anonymous_requests: int
    authorized_users: tuple[str, ...]

    @property
    def outcome(self) -> str:
        """'authentication-failure' | 'authenticated' | 'no-credentials' | 'no-requests'.

        A wrong password wins over a success: a client that tried a bad secret is what tests look for.
        """
        if self.auth_failures:
            return "authentication-failure"
        if self.authorized_users:
            return "authenticated"
        if self.anonymous_requests or self.empty_user_attempts:
            return "no-credentials"
        return "no-requests"


def read_auth_report(log_path: Path, since: int = 0) -> AuthReport:
    """Parse the registry log from byte offset `since` (see `Registry.log_mark`)."""
    with open(log_path, "rb") as fh:
        fh.seek(since)
        text = fh.read().decode(errors="replace")
    users = [m.group("user") for m in _AUTH_FAILURE.finditer(text)]
    authorized = tuple(sorted({m.group("user") for m in _AUTHORIZED.finditer(text)}))
    return AuthReport(
        auth_failures=tuple(u for u in users if u),
        empty_user_attempts=sum(1 for u in users if not u),
        anonymous_requests=len(_NO_CREDENTIALS.findall(text)),
        authorized_users=authorized,
    )


@dataclass(frozen=True)
class Registry:
    """A running registry. `host` is what goes into config.json `auths` and image references."""

    host: str
    url: str
    tls: bool
    ca_dir: Path | None
    ca_file: Path | None
    log_path: Path
    username: str
    password: str
    workdir: Path
    pid: int

    @property
    def port(self) -> int:
        return int(self.host.rsplit(":", 1)[1])

    def ref(self, repo: str, tag: str = "v1") -> str:
        """`docker://HOST/repo:tag`, the skopeo/buildah transport reference."""
        return f"docker://{self.host}/{repo}:{tag}"

    def client_tls(self) -> dict:
        """Keyword arguments for the clients module: cert dir (TLS) or tls_verify=False (plain HTTP)."""
        if self.tls:
            return {"cert_dir": self.ca_dir, "tls_verify": True}
        return {"cert_dir": None, "tls_verify": False}

    def log_mark(self) -> int:
        """Current size of the log, to read only what a later step adds."""
        return self.log_path.stat().st_size

    def log_text(self, since: int = 0) -> str:
        with open(self.log_path, "rb") as fh:
            fh.seek(since)
            return fh.read().decode(errors="replace")

    def auth_report(self, since: int = 0) -> AuthReport:
        return read_auth_report(self.log_path, since)


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (racy by nature; start_registry retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_checked(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed (rc={proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def make_self_signed_cert(cert_dir: Path, days: int = 2) -> tuple[Path, Path]:
    """EC P-256 self-signed cert for 127.0.0.1/localhost; returns (crt, key)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    crt, key = cert_dir / "domain.crt", cert_dir / "domain.key"
    _run_checked([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", str(days), "-keyout", str(key), "-out", str(crt),
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ])
    key.chmod(0o600)
    return crt, key


def make_htpasswd(path: Path, username: str, password: str) -> Path:
    """bcrypt entry via `htpasswd -Bbn` (Python has no bcrypt here; MD5 would silently refuse all)."""
    proc = _run_checked(["htpasswd", "-Bbn", username, password])
    entry = proc.stdout.strip()
    if not entry.startswith(f"{username}:$2"):
        raise RuntimeError(f"htpasswd did not produce a bcrypt entry: {entry[:20]!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(entry + "\n")
    return path


def _registry_config(workdir: Path, port: int, tls: tuple[Path, Path] | None, htpasswd: Path) -> dict:
    http: dict = {"addr": f"127.0.0.1:{port}", "secret": "not-a-secret-test-only"}
    if tls is not None:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}, "delete": {"enabled": True}},
        "http": http,
        "auth": {"htpasswd": {"realm": "test-registry", "path": str(htpasswd)}},
    }


def _probe(url: str, ctx: ssl.SSLContext | None) -> int | None:
    """HTTP status of GET url, or None if nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=1, context=ctx) as resp:  # noqa: S310 - loopback only
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError, OSError):
        return None


def _stop(proc: subprocess.Popen, timeout: float = 5) -> None:
    """Terminate by PID, wait, kill if it does not go (the registry exits on SIGTERM in ~5 ms)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _child_env() -> dict[str, str]:
    """The registry reads REGISTRY_* variables as config overrides; never let any leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "OTEL_"))}


@contextmanager
def run_registry(
    *,
    tls: bool = True,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    base_dir: Path | None = None,
    start_timeout: float = 15,
    attempts: int = 3,
) -> Iterator[Registry]:
    """Start a registry, wait until `/v2/` answers 401, yield it, always stop it and remove its files.

    `tls=False` drops the `tls:` block: plain HTTP with the same htpasswd auth, for `insecure: true`
    registries (clients then need `tls_verify=False`, pitfall 8).
    """
    if not Path(REGISTRY_BIN).exists():
        raise FileNotFoundError(f"{REGISTRY_BIN} not found (apt-get install docker-registry)")
    workdir = Path(tempfile.mkdtemp(prefix="conngen-registry-", dir=base_dir))
    proc: subprocess.Popen | None = None
    try:
        htpasswd = make_htpasswd(workdir / "auth" / "htpasswd", username, password)
        ca_dir = ca_file = None
        ctx: ssl.SSLContext | None = None
        tls_files = None
        if tls:
            tls_files = make_self_signed_cert(workdir / "certs")
            ca_dir = workdir / "ca"  # only the .crt in here: a .key beside it breaks clients (pitfall 7)
            ca_dir.mkdir()
            ca_file = ca_dir / "ca.crt"
            shutil.copyfile(tls_files[0], ca_file)
            ctx = ssl.create_default_context(cafile=str(ca_file))
        log_path = workdir / "registry.log"
        scheme = "https" if tls else "http"

        for attempt in range(1, attempts + 1):
            port = free_port()
            config = workdir / "config.yml"
            config.write_text(yaml.safe_dump(_registry_config(workdir, port, tls_files, htpasswd)))
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [REGISTRY_BIN, "serve", str(config)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=_child_env(), cwd=workdir,
                )
            url = f"{scheme}://127.0.0.1:{port}"
            deadline = time.monotonic() + start_timeout
            status = None
            while time.monotonic() < deadline and proc.poll() is None:
                status = _probe(f"{url}/v2/", ctx)
                if status is not None:
                    break
                time.sleep(0.03)
            if status == 401:
                break
            _stop(proc)
            log_tail = log_path.read_text(errors="replace")[-2000:]
            if "address already in use" in log_tail and attempt < attempts:
                continue
            raise RuntimeError(f"registry did not answer 401 on {url}/v2/ (got {status}); log:\n{log_tail}")

        assert proc is not None
        yield Registry(
            host=f"127.0.0.1:{port}",
            url=url,
            tls=tls,
            ca_dir=ca_dir,
            ca_file=ca_file,
            log_path=log_path,
            username=username,
            password=password,
            workdir=workdir,
            pid=proc.pid,
        )
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def registry_fixture(
    *,
    tls: bool = True,
    scope: str = "session",
    name: str | None = None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
) -> Callable:
    """Make a pytest fixture yielding a `Registry`; assign it in a conftest or test module.

        tls_registry = registry_fixture()
        http_registry = registry_fixture(tls=False)

    Skips when the tools are missing, fails instead on CI (CI=true).
    """

    def _fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
        require_binaries(*REGISTRY_TOOLS)
        base = tmp_path_factory.mktemp("registry")
        with run_registry(tls=tls, username=username, password=password, base_dir=base) as reg:
            yield reg

    kwargs: dict = {"scope": scope}
    if name is not None:
        kwargs["name"] = name
    return pytest.fixture(**kwargs)(_fixture)
