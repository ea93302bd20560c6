"""The real-registry proof: credentials reach a password-checking registry through the generated mounts.

Each test starts Debian's docker-registry (TLS + bcrypt htpasswd, or plain HTTP for `insecure: true`),
writes a catalog and a generator config pointing at it, runs `conngen render` as a subprocess, lays the
rendered Job and Secrets out with the pod simulator, and then lets a real client (skopeo, or buildah
itself) read the credentials file *the builder would read* — found from the container's environment by
the builder's own documented lookup, never from conngen's plan — and push to the destination written in
the Job's arguments. A push that works and a remote digest equal to the local one is the proof; a wrong
password and a tampered mount must be refused (docs/testing.md).
"""

from __future__ import annotations

import base64
import copy
import csv
import json
import os
import posixpath
import shutil
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, load_stream, object_key, run_conngen
from support.clients import (
    HostFootprint,
    Result,
    dockerconfigjson,
    isolated_env,
    require_binaries,
    run,
    skopeo_copy,
    skopeo_inspect_digest,
)
from support.oci import OciImage, build_oci_image
from support.podsim import ContainerView, simulate_pod
from support.registry import Registry, registry_fixture

pytestmark = pytest.mark.e2e

#: The ENV each builder image sets (its Dockerfile), per docs/reference and the image sources: facts
#: about the images, given to the simulator as the image's defaults, independent of conngen's profiles.
IMAGE_ENV: dict[str, dict[str, str]] = {
    "kaniko": {"DOCKER_CONFIG": "/kaniko/.docker/", "HOME": "/root", "SSL_CERT_DIR": "/kaniko/ssl/certs"},
    "dockerizer": {"HOME": "/root"},
    "buildkit": {"HOME": "/home/user", "XDG_RUNTIME_DIR": "/run/user/1000"},
    "buildah": {"HOME": "/root", "BUILDAH_ISOLATION": "chroot"},
}

registry = registry_fixture(scope="function")
second_registry = registry_fixture(scope="function", name="second_registry")
http_registry = registry_fixture(tls=False, scope="function", name="http_registry")


# ---------------------------------------------------------------------------------------------
# module guards: nothing left behind, the real ~/.docker untouched


@pytest.fixture(scope="module", autouse=True)
def _real_docker_config_untouched():
    """No step may write the user's own ~/.docker/config.json (every client runs with a temp HOME)."""
    path = Path(os.path.expanduser("~")) / ".docker" / "config.json"
    before = path.read_bytes() if path.exists() else None
    yield
    after = path.read_bytes() if path.exists() else None
    assert after == before, f"{path} changed during the real-registry tests"


@pytest.fixture(scope="module", autouse=True)
def _host_footprint():
    """skopeo/buildah as root create /var/lib/containers/cache and the like; remove what appeared."""
    footprint = HostFootprint()
    yield footprint
    footprint.cleanup()


@pytest.fixture(autouse=True)
def _remove_work_dir(tmp_path):
    """Simulated roots hold the test's credentials files: remove them instead of leaving them to pytest."""
    yield
    shutil.rmtree(tmp_path)
    assert not tmp_path.exists()


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Iterator[OciImage]:
    layout = tmp_path_factory.mktemp("oci")
    yield build_oci_image(layout / "layout", files={"/hello.txt": b"conngen e2e\n"})
    shutil.rmtree(layout)


@pytest.fixture
def skopeo() -> None:
    require_binaries("skopeo")


# ---------------------------------------------------------------------------------------------
# render: config files in a temp dir, `conngen render` as a subprocess


@dataclass
class Rendered:
    """The objects `conngen render` printed for one generator config."""

    directory: Path
    objects: list[dict]
    cluster: tuple[dict, ...] = ()  # objects that already exist in the namespace (a CA ConfigMap)

    def job(self, name: str) -> dict:
        jobs = [o for o in self.objects if o.get("kind") == "Job" and object_key(o) == ("Job", name)]
        assert len(jobs) == 1, f"expected one Job {name!r}, got {[o['metadata']['name'] for o in self.objects]}"
        return jobs[0]

    @property
    def data_objects(self) -> list[dict]:
        """What exists in the namespace for the kubelet: the rendered Secrets and ConfigMaps."""
        return [o for o in [*self.objects, *self.cluster] if o.get("kind") in {"Secret", "ConfigMap"}]

    def secret_config(self, name: str) -> bytes:
        secrets = [o for o in self.objects if o.get("kind") == "Secret" and o["metadata"]["name"] == name]
        assert len(secrets) == 1, f"expected one Secret {name!r}"
        return base64.b64decode(secrets[0]["data"][".dockerconfigjson"])


def render(
    directory: Path,
    config: dict,
    *,
    catalog: dict | None = None,
    files: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    cluster: tuple[dict, ...] = (),
) -> Rendered:
    """Write generator.yaml (+ connections.yaml, credential files) and run `conngen render` on it."""
    directory.mkdir(parents=True, exist_ok=True)
    if catalog is not None:
        (directory / "connections.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False))
        config = {**config, "catalog": ["connections.yaml"]}
    for rel, content in (files or {}).items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    config_file = directory / "generator.yaml"
    config_file.write_text(yaml.safe_dump(
        {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "e2e"}, **config},
        sort_keys=False,
    ))
    result = run_conngen("render", str(config_file), env=dict(env or {}))
    assert result.returncode == 0, f"conngen render failed (rc={result.returncode}):\n{result.stderr}"
    return Rendered(directory, load_stream(result.stdout), cluster)


def login_credentials(reg: Registry, password: str | None = None) -> tuple[dict, dict, dict]:
    """(credentials entry, files, env): user name from the environment, password from a file."""
    entry = {"username": {"env": "E2E_REGISTRY_USER"}, "password": {"file": "creds/password"}}
    files = {"creds/password": (password if password is not None else reg.password) + "\n"}
    return entry, files, {"E2E_REGISTRY_USER": reg.username}


def registry_connection(name: str, url: str, secret: str, mount_path: str | None = None, **schema) -> dict:
    secret_ref: dict = {"name": secret}
    if mount_path is not None:
        secret_ref["mountPath"] = mount_path
    return {"name": name, "kind": "registry", "schema": {"url": url, **schema}, "secret": secret_ref}


def build(name: str, connection: str, builder: str, image: str = "app:v1", **extra) -> dict:
    return {"name": name, "connection": connection, "builder": builder, "image": image,
            "context": "dir:///workspace", **extra}


#: A catalog connection holding a registry CA (any kind may carry a configMap).
CA_CONNECTION = {"name": "registry-ca", "kind": "custom", "configMap": {"name": "registry-ca"}}


def ca_configmap(reg: Registry) -> dict:
    """The ConfigMap the catalog's CA connection names, as it exists in the cluster (not generated)."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "registry-ca"},
            "data": {"ca.crt": reg.ca_file.read_text()}}


#: A `dir:///workspace` build context, as the pod would find it (buildah builds it for real).
BUILD_CONTEXT = {
    "/workspace/Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
    "/workspace/hello.txt": "built by the buildah Job conngen rendered\n",
}


# ---------------------------------------------------------------------------------------------
# the pod, as each builder sees it


def simulate(rendered: Rendered, job: dict, builder: str, root: Path) -> ContainerView:
    """Lay out the builder container of `job` under `root` from the rendered Secrets/ConfigMaps only."""
    return simulate_pod(job, rendered.data_objects, root, container=builder, image_env=IMAGE_ENV[builder])


def credentials_file(builder: str, view: ContainerView) -> str | None:
    """The file the builder opens for registry credentials, by the builder's own lookup rules.

    kaniko (go-containerregistry) and buildctl load docker/cli's config dir: `$DOCKER_CONFIG`, else
    `$HOME/.docker`. The dockerizer (docker-py `find_config_file`) takes the first *existing* of
    `$DOCKER_CONFIG/config.json` and `$HOME/.docker/config.json`. buildah (containers/image) reads
    `$REGISTRY_AUTH_FILE`, else only `$DOCKER_CONFIG/config.json` when set, else
    `$XDG_RUNTIME_DIR/containers/auth.json` (root: `/run/containers/0/auth.json`).
    """
    env = view.env
    home = env.get("HOME", "/")
    if builder in {"kaniko", "buildkit"}:
        return posixpath.join(env.get("DOCKER_CONFIG") or posixpath.join(home, ".docker"), "config.json")
    if builder == "dockerizer":
        candidates = [posixpath.join(env["DOCKER_CONFIG"], "config.json")] if env.get("DOCKER_CONFIG") else []
        candidates.append(posixpath.join(home, ".docker", "config.json"))
        return next((c for c in candidates if view.host_path(c).is_file()), None)
    if builder == "buildah":
        if env.get("REGISTRY_AUTH_FILE"):
            return env["REGISTRY_AUTH_FILE"]
        if env.get("DOCKER_CONFIG"):
            return posixpath.join(env["DOCKER_CONFIG"], "config.json")
        return posixpath.join(env.get("XDG_RUNTIME_DIR") or "/run/containers/0", "containers", "auth.json")
    raise AssertionError(f"no lookup rule for builder {builder!r}")


def client_env(view: ContainerView, container_file: str | None, base: Path) -> dict[str, str]:
    """An isolated client environment whose only credentials are the builder's file under the root.

    skopeo reads `$DOCKER_CONFIG/config.json` exactly, or `$REGISTRY_AUTH_FILE` for another name;
    HOME is a fresh temp dir and nothing else (XDG_RUNTIME_DIR, ~/.docker) holds credentials.
    """
    if container_file is None:
        return isolated_env(base)
    host = view.host_path(container_file)
    if posixpath.basename(container_file) == "config.json":
        return isolated_env(base, docker_config=host.parent)
    return isolated_env(base, registry_auth_file=host)


def _flag_values(args: list[str], *names: str) -> list[str]:
    """Values of `--name=value` and `--name value` (also short `-d value`) in an argument list."""
    out = []
    for i, arg in enumerate(args):
        for name in names:
            if arg.startswith(name + "="):
                out.append(arg[len(name) + 1:])
            elif arg == name and i + 1 < len(args):
                out.append(args[i + 1])
    return out


def destinations(builder: str, view: ContainerView) -> list[str]:
    """Where the Job pushes, read from the container's own (expanded) arguments."""
    args = [*(view.command or []), *(view.args or [])]
    if builder == "kaniko":
        found = _flag_values(args, "--destination", "-d")
    elif builder == "dockerizer":
        found = _flag_values(args, "-d")
    elif builder == "buildah":
        found = _flag_values(args, "--tag")  # the script pushes every --tag it was given
    elif builder == "buildkit":
        found = [name for output in _flag_values(args, "--output") for name in image_output(output).get("name", [])]
    else:
        raise AssertionError(f"no destination rule for builder {builder!r}")
    assert found, f"no destination in the {builder} Job's arguments: {args}"
    return found


def image_output(value: str) -> dict[str, list[str]]:
    """buildctl's `--output` CSV (`type=image,"name=a,b",push=true`): each key's comma-separated values."""
    (fields,) = csv.reader([value])
    out: dict[str, list[str]] = {}
    for field in fields:
        key, _, val = field.partition("=")
        out.setdefault(key, []).extend(val.split(","))
    return out


def insecure_hosts(builder: str, view: ContainerView) -> set[str]:
    """Registries the builder is told to reach over plain HTTP."""
    args = view.args or []
    if builder == "kaniko":
        return set(_flag_values(args, "--insecure-registry"))
    if builder == "buildkit":
        outputs = [image_output(o) for o in _flag_values(args, "--output")]
        return {n.split("/")[0] for o in outputs if o.get("registry.insecure") == ["true"] for n in o["name"]}
    return set()


def registry_cas(builder: str, view: ContainerView, home: Path) -> dict[str, list[Path]]:
    """The CA files the builder is told to trust, per registry host, as host paths.

    kaniko: `--registry-certificate=HOST=PATH`; buildkit: `[registry."HOST"] ca = [...]` in the
    buildkitd.toml its script wrote under `home` (the client HOME it ran with).
    """
    cas: dict[str, list[Path]] = {}
    if builder == "kaniko":
        for value in _flag_values(view.args or [], "--registry-certificate"):
            host, _, path = value.partition("=")
            cas.setdefault(host, []).append(view.host_path(path))
    if builder == "buildkit":
        toml = home / ".config" / "buildkit" / "buildkitd.toml"
        if toml.exists():
            for host, settings in tomllib.loads(toml.read_text()).get("registry", {}).items():
                cas.setdefault(host, []).extend(Path(p) for p in settings.get("ca", []))
    return cas


def cert_dir_with(files: list[Path], directory: Path) -> Path:
    """A cert dir holding only these CA files as *.crt (a key beside them breaks clients, pitfall 7)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for i, path in enumerate(files):
        shutil.copyfile(path, directory / f"ca-{i}.crt")
    return directory


def tls_for(builder: str, view: ContainerView, reg: Registry, work: Path, home: Path, public_trust: bool) -> dict:
    """Client TLS options the Job justifies: plain HTTP only where the Job says so, a CA only the one
    the Job names; otherwise the test registry's certificate stands in for a publicly trusted one,
    unless `public_trust` is off."""
    if reg.host in insecure_hosts(builder, view):
        return {"cert_dir": None, "tls_verify": False}
    cas = registry_cas(builder, view, home).get(reg.host)
    if cas:
        return {"cert_dir": cert_dir_with(cas, work / f"certs-{reg.port}"), "tls_verify": True}
    if public_trust:
        return {"cert_dir": reg.ca_dir, "tls_verify": True}
    empty = work / "no-certs"
    empty.mkdir(exist_ok=True)
    return {"cert_dir": empty, "tls_verify": True}


# ---------------------------------------------------------------------------------------------
# running the Job's own command (buildah, buildkit) on this machine, paths mapped into the root

_WRAPPER = """#!{python}
# `{name}` as the Job's script calls it inside the container: absolute container paths in its
# arguments (`/x`, `--flag=/x`) are mapped into the simulated root, then it {action}.
import json, os, sys
ROOT = {root!r}


def host(arg):
    if arg.startswith(ROOT):
        return arg
    if arg.startswith("/"):
        return ROOT + arg
    flag, eq, value = arg.partition("=")
    if eq and flag.startswith("-") and value.startswith("/") and not value.startswith(ROOT):
        return flag + "=" + ROOT + value
    return arg


args = [host(a) for a in sys.argv[1:]]
"""

_EXEC_BUILDAH = """os.execv({binary!r}, [{binary!r}, "--root", {storage!r}, "--runroot", {runroot!r}, *args])
"""

_RECORD = """with open({record!r}, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
"""


@dataclass
class Ran:
    """The Job's container command, run on this machine against the simulated root."""

    view: ContainerView
    result: Result
    home: Path  # the (temporary) HOME it ran with
    records: Path  # argv lines written by recording stand-ins


def run_job_command(rendered: Rendered, job_name: str, builder: str, work: Path, tools: Mapping[str, str],
                    files: Mapping[str, str] | None = None) -> Ran:
    """Run the builder container's command/args as the container would, with `tools` standing in.

    `tools` maps a program the script calls to what happens: "buildah" runs the real buildah with
    private vfs storage in the Job's /var/lib/containers emptyDir; "record" only writes its argv.
    Environment: the container's own (image defaults < Job), absolute paths mapped into the root;
    HOME is a fresh temp dir so no other credentials exist. `files` (container path -> text) are
    what the pod would find besides its mounts, such as a `dir://` build context.
    """
    view = simulate(rendered, rendered.job(job_name), builder, work / "root")
    view.host_path("/dev").mkdir(parents=True, exist_ok=True)
    for container_path, text in (files or {}).items():
        view.host_path(container_path).parent.mkdir(parents=True, exist_ok=True)
        view.host_path(container_path).write_text(text)
    bin_dir, records = work / "bin", work / "records.jsonl"
    bin_dir.mkdir()
    for name, action in tools.items():
        if action == "buildah":
            body = _EXEC_BUILDAH.format(binary=shutil.which("buildah"), runroot=str(work / "runroot"),
                                        storage=str(view.host_path("/var/lib/containers/storage")))
        else:
            body = _RECORD.format(record=str(records))
        wrapper = bin_dir / name
        does = "runs buildah with private storage" if action == "buildah" else "records its arguments"
        wrapper.write_text(_WRAPPER.format(python=sys.executable, name=name, root=str(view.root), action=does)
                           + body)
        wrapper.chmod(0o755)
    mapped = {key: str(view.host_path(value)) if value.startswith("/") else value
              for key, value in view.env.items() if key not in {"HOME", "PATH"}}
    mapped["PATH"] = f"{bin_dir}:{os.environ.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"
    env = isolated_env(work / "client", extra=mapped)
    result = run(view.argv(), env, cwd=view.root, timeout=300)
    return Ran(view, result, Path(env["HOME"]), records)


@dataclass
class Push:
    destination: str
    result: Result
    remote_digest: str | None


def push_as_builder(
    rendered: Rendered,
    job_name: str,
    builder: str,
    registries: list[Registry],
    image: OciImage,
    work: Path,
    *,
    public_trust: bool = True,
    ran: Ran | None = None,
) -> tuple[ContainerView, str | None, list[Push]]:
    """Simulate the Job's pod (or take the one its script `ran` in), then push `image` to every
    destination with the builder's credentials file."""
    view = ran.view if ran is not None else simulate(rendered, rendered.job(job_name), builder, work / "root")
    home = ran.home if ran is not None else None
    auth_file = credentials_file(builder, view)
    env = client_env(view, auth_file, work / "client")
    by_host = {reg.host: reg for reg in registries}
    pushes = []
    for dest in destinations(builder, view):
        host = dest.split("/", 1)[0]
        assert host in by_host, f"the Job pushes to {dest}, not to a test registry ({sorted(by_host)})"
        tls = tls_for(builder, view, by_host[host], work, home or Path(env["HOME"]), public_trust)
        result = skopeo_copy(image.ref, f"docker://{dest}", env, **tls)
        digest = None
        if result.ok:
            digest = skopeo_inspect_digest(f"docker://{dest}", env, **tls).check().digest
        pushes.append(Push(dest, result, digest))
    return view, auth_file, pushes


def assert_pushed(pushes: list[Push], image: OciImage, registries: list[Registry], marks: list[int]) -> None:
    assert pushes
    for push in pushes:
        push.result.check()
        assert push.remote_digest == image.manifest_digest, push.destination
    for reg, mark in zip(registries, marks):
        report = reg.auth_report(mark)
        assert report.outcome == "authenticated", (reg.host, report)
        assert report.authorized_users == (reg.username,)


# ---------------------------------------------------------------------------------------------
# positive cases


def _seed_catalog(url: str) -> dict:
    """The seed's catalog entries as committed, only the registry url pointed at the test registry."""
    catalog = yaml.safe_load((FIXTURES / "seed" / "connections.yaml").read_text())
    for conn in catalog["connections"]:
        conn["schema"]["url"] = url
    return catalog


@pytest.mark.parametrize("builder, connection, mount", [
    ("kaniko", "docker-connection-kaniko", "/kaniko/.docker"),
    ("dockerizer", "docker-connection-dockerizer", "/root/.docker"),
])
def test_seed_catalog_entry_pushes(tmp_path, skopeo, registry, image, builder, connection, mount):
    creds, files, env = login_credentials(registry)
    extra = {"tags": ["latest"]} if builder == "kaniko" else {}
    rendered = render(tmp_path / "cfg", {
        "credentials": {"docker-conf": creds},
        "builds": [build("trainer", connection, builder, "trainer:1.4.0", **extra)],
    }, catalog=_seed_catalog(f"https://{registry.host}/org/repo"), files=files, env=env)
    mark = registry.log_mark()

    view, auth_file, pushes = push_as_builder(rendered, "trainer", builder, [registry], image, tmp_path)

    assert auth_file == f"{mount}/config.json"
    assert view.mount_for(auth_file).source.startswith("secret:docker-conf")
    expected = [f"{registry.host}/org/repo/trainer:1.4.0"] + ([f"{registry.host}/org/repo/trainer:latest"] if extra else [])
    assert [p.destination for p in pushes] == expected
    assert_pushed(pushes, image, [registry], [mark])


@pytest.mark.parametrize("builder", ["kaniko", "dockerizer"])
def test_custom_mount_path_is_reached_through_docker_config(tmp_path, skopeo, registry, image, builder):
    creds, files, env = login_credentials(registry)
    mount = "/home/builder/.docker"
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", f"https://{registry.host}/org", "docker-conf", mount)],
        "credentials": {"docker-conf": creds},
        "builds": [build("custom", "reg", builder)],
    }, files=files, env=env)
    mark = registry.log_mark()

    view, auth_file, pushes = push_as_builder(rendered, "custom", builder, [registry], image, tmp_path)

    assert view.spec_env.get("DOCKER_CONFIG", "").rstrip("/") == mount  # the Job moves the lookup
    assert auth_file == f"{mount}/config.json"
    assert_pushed(pushes, image, [registry], [mark])


def test_one_secret_for_two_registries(tmp_path, skopeo, registry, second_registry, image):
    creds, files, env = login_credentials(registry)
    assert (second_registry.username, second_registry.password) == (registry.username, registry.password)
    rendered = render(tmp_path / "cfg", {
        "connections": [
            registry_connection("first", f"https://{registry.host}/team", "team-conf", "/kaniko/.docker"),
            registry_connection("second", f"{second_registry.host}/team", "team-conf", "/kaniko/.docker"),
        ],
        "credentials": {"team-conf": creds},
        "builds": [build("to-first", "first", "kaniko"), build("to-second", "second", "kaniko")],
    }, files=files, env=env)
    assert [o["metadata"]["name"] for o in rendered.objects if o["kind"] == "Secret"] == ["team-conf"]
    assert sorted(json.loads(rendered.secret_config("team-conf"))["auths"]) == sorted(
        [registry.host, second_registry.host])
    marks = [registry.log_mark(), second_registry.log_mark()]

    pushes = []
    for job, reg in (("to-first", registry), ("to-second", second_registry)):
        _, _, got = push_as_builder(rendered, job, "kaniko", [registry, second_registry], image, tmp_path / job)
        assert [p.destination.split("/")[0] for p in got] == [reg.host]
        pushes += got

    assert_pushed(pushes, image, [registry, second_registry], marks)


@pytest.mark.parametrize("url", [
    "https://localhost:{port}/org",
    "HTTPS://LocalHost:{port}/org/",
    "127.0.0.1:{port}/org",
])
def test_hub_style_normalisation_keeps_host_and_port(tmp_path, skopeo, registry, image, url):
    """Scheme, case and a trailing slash go; the port stays and the key is never Docker Hub's."""
    creds, files, env = login_credentials(registry)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", url.format(port=registry.port), "docker-conf")],
        "credentials": {"docker-conf": creds},
        "builds": [build("norm", "reg", "kaniko")],
    }, files=files, env=env)
    host = url.format(port=registry.port).split("://")[-1].split("/")[0].lower()
    assert list(json.loads(rendered.secret_config("docker-conf"))["auths"]) == [host]
    mark = registry.log_mark()

    _, _, pushes = push_as_builder(rendered, "norm", "kaniko", [_alias(registry, host)], image, tmp_path)

    assert_pushed(pushes, image, [registry], [mark])


def _alias(reg: Registry, host: str) -> Registry:
    """The same registry under another name (localhost:PORT): the cert covers both."""
    return Registry(**{**reg.__dict__, "host": host})


def test_docker_config_file_keyed_hub_style_reaches_host_port_registry(tmp_path, skopeo, registry, image):
    """A config.json keyed `https://HOST:PORT/v1/` (Docker Hub's key shape) is accepted and still matches."""
    config = dockerconfigjson(f"https://{registry.host}/v1/", registry.username, registry.password)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", f"https://{registry.host}/org", "docker-conf")],
        "credentials": {"docker-conf": {"dockerConfig": "creds/config.json"}},
        "builds": [build("hubkey", "reg", "kaniko")],
    }, files={"creds/config.json": json.dumps(config)})
    mark = registry.log_mark()

    _, _, pushes = push_as_builder(rendered, "hubkey", "kaniko", [registry], image, tmp_path)

    assert_pushed(pushes, image, [registry], [mark])


def test_docker_config_file_is_used_as_is(tmp_path, skopeo, registry, image):
    config_text = json.dumps(dockerconfigjson(registry.host, registry.username, registry.password), indent=2)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", f"https://{registry.host}/org", "docker-conf")],
        "credentials": {"docker-conf": {"dockerConfig": "creds/config.json"}},
        "builds": [build("asis", "reg", "dockerizer")],
    }, files={"creds/config.json": config_text})
    assert rendered.secret_config("docker-conf") == config_text.encode()
    mark = registry.log_mark()

    view, auth_file, pushes = push_as_builder(rendered, "asis", "dockerizer", [registry], image, tmp_path)

    assert view.read_text(auth_file) == config_text
    assert_pushed(pushes, image, [registry], [mark])


def test_insecure_registry_over_plain_http(tmp_path, skopeo, http_registry, image):
    creds, files, env = login_credentials(http_registry)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("lab", f"http://{http_registry.host}/lab", "lab-conf", insecure=True)],
        "credentials": {"lab-conf": creds},
        "builds": [build("lab-image", "lab", "kaniko")],
    }, files=files, env=env)
    job_args = rendered.job("lab-image")["spec"]["template"]["spec"]["containers"][0]["args"]
    # the Job itself is what allows plain HTTP for this host, and only for it
    assert f"--insecure-registry={http_registry.host}" in job_args
    assert not any(a in {"--insecure", "--skip-tls-verify"} for a in job_args)
    mark = http_registry.log_mark()

    view, _, pushes = push_as_builder(rendered, "lab-image", "kaniko", [http_registry], image, tmp_path)

    assert insecure_hosts("kaniko", view) == {http_registry.host}
    assert_pushed(pushes, image, [http_registry], [mark])


# ---------------------------------------------------------------------------------------------
# negatives: the same path must refuse what is wrong


@pytest.mark.parametrize("builder, expected_file", [
    ("kaniko", "/kaniko/.docker/config.json"),
    ("dockerizer", "/root/.docker/config.json"),
    ("buildkit", "/home/user/.docker/config.json"),
    ("buildah", "/root/.docker/config.json"),
])
def test_wrong_password_is_refused_by_the_registry(tmp_path, skopeo, registry, image, builder, expected_file):
    creds, files, env = login_credentials(registry, password="not-the-password")
    connections = [registry_connection("reg", f"https://{registry.host}/org", "docker-conf")]
    if builder == "buildah":  # it runs its own push, which must trust the registry through the Job
        require_binaries("buildah")
        connections = [registry_connection("reg", f"https://{registry.host}/org", "docker-conf", ca="registry-ca"),
                       CA_CONNECTION]
    rendered = render(tmp_path / "cfg", {
        "connections": connections,
        "credentials": {"docker-conf": creds},
        "builds": [build("wrong", "reg", builder)],
    }, files=files, env=env, cluster=(ca_configmap(registry),))
    mark = registry.log_mark()

    if builder == "buildah":
        ran = run_job_command(rendered, "wrong", builder, tmp_path / "job", {"buildah": "buildah"}, BUILD_CONTEXT)
        auth_file, refused = credentials_file(builder, ran.view), ran.result
    else:
        _, auth_file, pushes = push_as_builder(rendered, "wrong", builder, [registry], image, tmp_path)
        assert len(pushes) == 1
        refused = pushes[0].result

    assert auth_file == expected_file
    assert refused.rc != 0
    assert "unauthorized: authentication required" in refused.out
    report = registry.auth_report(mark)
    # a password was sent and checked (not merely "no credentials")
    assert report.outcome == "authentication-failure", report
    assert set(report.auth_failures) == {registry.username}
    assert not report.authorized_users


def _move_mount(job: dict, secrets: list[dict], reg: Registry) -> None:
    mounts = job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    moved = [m for m in mounts if m["mountPath"] == "/kaniko/.docker"]
    assert len(moved) == 1
    moved[0]["mountPath"] = "/root/.docker"  # where the dockerizer reads, not kaniko


def _drop_port_from_key(job: dict, secrets: list[dict], reg: Registry) -> None:
    (secret,) = secrets
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    config["auths"] = {reg.host.split(":")[0]: config["auths"].pop(reg.host)}
    secret["data"][".dockerconfigjson"] = base64.b64encode(json.dumps(config).encode()).decode()


def _project_under_secret_key(job: dict, secrets: list[dict], reg: Registry) -> None:
    volumes = [v for v in job["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert len(volumes) == 1
    volumes[0]["secret"]["items"] = [{"key": ".dockerconfigjson", "path": ".dockerconfigjson"}]


@pytest.mark.parametrize("tamper", [_move_mount, _drop_port_from_key, _project_under_secret_key],
                         ids=["mount-moved", "key-without-port", "file-not-config-json"])
def test_tampered_render_is_refused(tmp_path, skopeo, registry, image, tamper):
    """The same render pushes untouched and is refused once changed after rendering: the proof can fail."""
    creds, files, env = login_credentials(registry)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", f"https://{registry.host}/org", "docker-conf")],
        "credentials": {"docker-conf": creds},
        "builds": [build("tamper", "reg", "kaniko")],
    }, files=files, env=env)
    mark = registry.log_mark()
    _, _, ok_pushes = push_as_builder(rendered, "tamper", "kaniko", [registry], image, tmp_path / "good")
    assert_pushed(ok_pushes, image, [registry], [mark])

    job = copy.deepcopy(rendered.job("tamper"))
    secrets = copy.deepcopy(rendered.data_objects)
    tamper(job, secrets, registry)
    tampered = Rendered(rendered.directory, [*secrets, job])
    mark = registry.log_mark()
    _, auth_file, pushes = push_as_builder(tampered, "tamper", "kaniko", [registry], image, tmp_path / "bad")

    assert auth_file == "/kaniko/.docker/config.json"
    assert len(pushes) == 1 and pushes[0].result.rc != 0
    assert "unauthorized: authentication required" in pushes[0].result.out
    assert registry.auth_report(mark).outcome == "no-credentials"


# ---------------------------------------------------------------------------------------------
# a private CA from the catalog, buildah and buildkit

def test_kaniko_trusts_exactly_the_catalog_ca(tmp_path, skopeo, registry, image):
    creds, files, env = login_credentials(registry)
    rendered = render(tmp_path / "cfg", {
        "connections": [registry_connection("reg", f"https://{registry.host}/org", "docker-conf", ca="registry-ca"),
                        CA_CONNECTION],
        "credentials": {"docker-conf": creds},
        "builds": [build("private-ca", "reg", "kaniko")],
    }, files=files, env=env, cluster=(ca_configmap(registry),))
    mark = registry.log_mark()

    view, _, pushes = push_as_builder(rendered, "private-ca", "kaniko", [registry], image, tmp_path / "ca",
                                      public_trust=False)

    (flag,) = _flag_values(view.args, "--registry-certificate")
    host, _, path = flag.partition("=")
    assert host == registry.host
    assert view.mount_for(path).source == "configMap:registry-ca"
    assert view.read_text(path) == registry.ca_file.read_text()
    assert_pushed(pushes, image, [registry], [mark])

    # the same Job without its --registry-certificate: the client has nothing to trust the registry with
    job = copy.deepcopy(rendered.job("private-ca"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [a for a in container["args"] if not a.startswith("--registry-certificate=")]
    stripped = Rendered(rendered.directory, [*[o for o in rendered.objects if o["kind"] != "Job"], job],
                        rendered.cluster)
    _, _, refused = push_as_builder(stripped, "private-ca", "kaniko", [registry], image, tmp_path / "no-ca",
                                    public_trust=False)
    assert len(refused) == 1 and refused[0].result.rc != 0
    assert "x509" in refused[0].result.out


@pytest.mark.parametrize("transport", ["private-ca", "insecure-http"])
def test_buildah_job_script_builds_and_pushes(tmp_path, request, transport):
    """The Job's own script runs: buildah bud (vfs, chroot) and push, with the auth file its env names."""
    require_binaries("buildah", "skopeo")
    reg: Registry = request.getfixturevalue("registry" if transport == "private-ca" else "http_registry")
    creds, files, env = login_credentials(reg)
    if transport == "private-ca":
        connections = [registry_connection("reg", f"https://{reg.host}/org", "docker-conf", ca="registry-ca"),
                       CA_CONNECTION]
    else:
        connections = [registry_connection("reg", f"http://{reg.host}/org", "docker-conf", insecure=True)]
    rendered = render(tmp_path / "cfg", {
        "connections": connections,
        "credentials": {"docker-conf": creds},
        "builds": [build("ba", "reg", "buildah")],
    }, files=files, env=env, cluster=(ca_configmap(reg),) if reg.tls else ())
    mark = reg.log_mark()

    ran = run_job_command(rendered, "ba", "buildah", tmp_path / "job", {"buildah": "buildah"}, BUILD_CONTEXT)

    ran.result.check()
    view = ran.view
    auth_file = credentials_file("buildah", view)
    assert auth_file == view.spec_env["REGISTRY_AUTH_FILE"]
    assert view.mount_for(auth_file).source == "secret:docker-conf"
    assert view.env["TLS_VERIFY"] == ("true" if reg.tls else "false")  # plain HTTP only because the Job says so
    assert destinations("buildah", view) == [f"{reg.host}/org/app:v1"]
    pushed_digest = view.read_text("/dev/termination-log").strip()
    remote = skopeo_inspect_digest(f"docker://{reg.host}/org/app:v1", client_env(view, auth_file, tmp_path / "check"),
                                   **reg.client_tls()).check()
    assert remote.digest == pushed_digest
    report = reg.auth_report(mark)
    assert report.outcome == "authenticated" and report.authorized_users == (reg.username,)


@pytest.mark.parametrize("case", ["private-ca-default-mount", "insecure-custom-mount"])
def test_buildkit_job_pushes_with_docker_config(tmp_path, request, skopeo, image, case):
    """The Job's script runs up to buildctl (which records its argv); skopeo pushes where it would."""
    reg: Registry = request.getfixturevalue("registry" if case.startswith("private-ca") else "http_registry")
    creds, files, env = login_credentials(reg)
    if reg.tls:
        mount = "/home/user/.docker"
        connections = [registry_connection("reg", f"https://{reg.host}/org", "docker-conf", ca="registry-ca"),
                       CA_CONNECTION]
    else:
        mount = "/buildkit/auth"
        connections = [registry_connection("reg", f"http://{reg.host}/org", "docker-conf", mount, insecure=True)]
    rendered = render(tmp_path / "cfg", {
        "connections": connections,
        "credentials": {"docker-conf": creds},
        "builds": [build("bk", "reg", "buildkit", tags=["latest"])],
    }, files=files, env=env, cluster=(ca_configmap(reg),) if reg.tls else ())
    mark = reg.log_mark()

    ran = run_job_command(rendered, "bk", "buildkit", tmp_path / "job", {"buildctl-daemonless.sh": "record"})
    ran.result.check()
    assert [json.loads(line) for line in ran.records.read_text().splitlines()] == [ran.view.args]
    view, auth_file, pushes = push_as_builder(rendered, "bk", "buildkit", [reg], image, tmp_path / "push",
                                              public_trust=False, ran=ran)

    assert auth_file == f"{mount}/config.json"
    assert view.mount_for(auth_file).source == "secret:docker-conf"
    assert [p.destination for p in pushes] == [f"{reg.host}/org/app:v1", f"{reg.host}/org/app:latest"]
    if not reg.tls:
        assert insecure_hosts("buildkit", view) == {reg.host}
    else:
        assert list(registry_cas("buildkit", view, ran.home)) == [reg.host]
    assert_pushed(pushes, image, [reg], [mark])


def test_every_builder_is_covered_and_its_image_facts_agree():
    """A new builder must join this proof; conngen's idea of an image's ENV must not contradict the facts here."""
    from generator.model.builders import PROFILES

    assert set(PROFILES) == set(IMAGE_ENV)
    for name, profile in PROFILES.items():
        assert dict(profile.image_env).items() <= IMAGE_ENV[name].items(), name
