"""The builders' own programs run the rendered Jobs: kaniko, BuildKit, the dockerizer and buildah push for real.

Each test writes a catalog whose registry is the test registry (TLS + htpasswd, or plain HTTP) and
whose build context is a `host_path` connection holding a `FROM scratch` + `COPY` context, runs
`conngen render`, and hands the rendered Job and Secrets to the pod runner (tests/support/podrunner.py),
which runs the Job's containers on our Docker engine the way the kubelet would, with images laid
out as the upstream ones (tests/support/builder_images.py). The judge is the builder's own program:
its push must land and the registry's digest must equal the one the builder reports; a wrong
password must fail with the builder's own 401; a mount moved after rendering must fail.
docs/testing.md says what this proves and what it does not.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import load_stream, run_conngen
from support.builder_images import ToolMissing, ensure_image
from support.clients import HostFootprint, isolated_env, require_binaries, run, running_on_ci, skopeo_inspect_digest
from support.engine import Engine
from support.podrunner import PodRun, run_pod
from support.registry import Registry, registry_fixture
from test_real_registry import CA_CONNECTION, Rendered, ca_configmap, login_credentials, registry_connection

pytestmark = pytest.mark.e2e

BUILDERS = ("kaniko", "buildkit", "dockerizer", "buildah")
HELLO = "built by the rendered Job, pushed by the builder itself\n"
CONTEXT = {"Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n", "hello.txt": HELLO}
CONTEXT_MOUNT = "/mnt/context"

registry = registry_fixture(scope="module")
http_registry = registry_fixture(tls=False, scope="module", name="http_registry")

#: how each builder reports the digest it pushed: a digest file the Job points at /dev/termination-log
#: (kaniko --digest-file, buildah --digestfile), buildctl's progress, docker's push stream as polyaxon prints it
_DIGEST_IN_OUTPUT = {
    "buildkit": re.compile(r"pushing manifest for \S+@(sha256:[0-9a-f]{64})"),
    "dockerizer": re.compile(r"'Digest': '(sha256:[0-9a-f]{64})'"),
}


@pytest.fixture(scope="module", autouse=True)
def _host_footprint():
    footprint = HostFootprint()
    yield
    footprint.cleanup()


@pytest.fixture
def work(tmp_path_factory) -> Path:
    """A work dir outside pytest's retention: it holds materialised Secrets, removed after the test."""
    path = tmp_path_factory.mktemp("run")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def context_dir(work: Path, files: dict[str, str] = CONTEXT) -> Path:
    """The build context on the node, for the `host_path` connection (readable by the non-root builder)."""
    directory = work / "context"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o644)
    directory.chmod(0o755)
    work.chmod(0o755)
    return directory


def sources_connection(directory: Path) -> dict:
    return {"name": "sources", "kind": "host_path",
            "schema": {"hostPath": str(directory), "mountPath": CONTEXT_MOUNT, "readOnly": True}}


def render_build(work: Path, reg: Registry, builder: str, *, password: str | None = None, secret: dict | None = None,
                 credentials: dict | None = None, files: dict | None = None, connection_env: dict | None = None,
                 build_extra: dict | None = None) -> tuple[subprocess.CompletedProcess, Rendered | None]:
    """`conngen render` of one build of `builder` pushing to `reg`: (the run, its objects if it worked).

    TLS registries get their CA from the catalog (a ConfigMap that exists in the cluster). The
    dockerizer pushes through the node's daemon, which takes no CA from the pod; the daemon treats
    127.0.0.0/8 as an insecure registry, so it pushes to the test registry's TLS port unverified.
    """
    schema = {"insecure": True} if not reg.tls else ({} if builder == "dockerizer" else {"ca": "registry-ca"})
    conn = registry_connection("reg", f"{'https' if reg.tls else 'http'}://{reg.host}/org", "regcred", **schema)
    conn["secret"].update(secret or {})
    if connection_env:
        conn["env"] = connection_env
    connections = [conn, sources_connection(context_dir(work))]
    if schema.get("ca"):
        connections.append(CA_CONNECTION)
    cred, cred_files, cred_env = login_credentials(reg, password)
    build = {"name": f"{builder}-app", "connection": "reg", "builder": builder, "image": f"{builder}/app:v1",
             "context": {"connection": "sources"}, **(build_extra or {})}
    directory = work / "config"
    directory.mkdir()
    (directory / "connections.yaml").write_text(yaml.safe_dump({"connections": connections}, sort_keys=False))
    for rel, content in {**cred_files, **(files or {})}.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_text(content)
    (directory / "generator.yaml").write_text(yaml.safe_dump(
        {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "e2e"},
         "catalog": ["connections.yaml"], "credentials": {"regcred": credentials or cred}, "builds": [build]},
        sort_keys=False))
    result = run_conngen("render", str(directory / "generator.yaml"), env=cred_env)
    if result.returncode != 0:
        return result, None
    return result, Rendered(directory, load_stream(result.stdout), (ca_configmap(reg),) if schema.get("ca") else ())


def rendered_ok(result: tuple[subprocess.CompletedProcess, Rendered | None]) -> Rendered:
    run, rendered = result
    assert rendered is not None, f"conngen render failed (rc={run.returncode}):\n{run.stderr}"
    return rendered


def run_job(engine: Engine, rendered: Rendered, builder: str, work: Path, job: dict | None = None) -> PodRun:
    """Run the rendered Job (or a changed copy of it) on the engine, with the builder's image in place."""
    job = job or rendered.job(f"{builder}-app")
    try:
        ensure_image(engine, builder, job["spec"]["template"]["spec"]["containers"][0]["image"])
    except ToolMissing as exc:  # the Go builds of scripts/build-go-tools
        if running_on_ci():
            pytest.fail(f"CI=true and {exc}", pytrace=False)
        pytest.skip(str(exc))
    return run_pod(engine, job, rendered.data_objects, work / "pod")


def reported_digest(builder: str, pod: PodRun) -> str:
    """The digest the builder says it pushed."""
    if builder in _DIGEST_IN_OUTPUT:
        found = _DIGEST_IN_OUTPUT[builder].findall(pod.main.out)
        assert found, f"{builder} printed no pushed digest:\n{pod.describe()}"
        return found[-1]
    digest = pod.main.termination_message.strip()
    assert digest.startswith("sha256:"), f"{builder} wrote no digest to /dev/termination-log:\n{pod.describe()}"
    return digest


def pulled_file(reg: Registry, ref: str, work: Path, path: str = "hello.txt") -> str:
    """The content of `path` in the pushed image (its only layer), read back from the registry."""
    require_binaries("skopeo")
    env = isolated_env(work / "skopeo")
    layout = work / "pulled"
    tls = ["--src-tls-verify=false"] if not reg.tls else [f"--src-cert-dir={reg.ca_dir}"]
    run(["skopeo", "copy", "--retry-times=0", *tls, f"--src-creds={reg.username}:{reg.password}",
         f"docker://{ref}", f"oci:{layout}:pulled"], env).check()
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]))
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(_blob(layout, layer["digest"]))) as tar:
            names = {m.name.lstrip("./"): m for m in tar.getmembers()}
            if path in names:
                return tar.extractfile(names[path]).read().decode()
    raise AssertionError(f"{path} is not in {ref}")


def _blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def assert_pushed(builder: str, pod: PodRun, reg: Registry, work: Path, mark: int, image: str = "app:v1") -> str:
    """The Job succeeded, the registry has what the builder reports, built from our context, as testuser."""
    assert pod.succeeded, pod.describe()
    ref = f"{reg.host}/org/{builder}/{image}"
    remote = skopeo_inspect_digest(f"docker://{ref}", isolated_env(work / "inspect"), creds=f"{reg.username}:{reg.password}",
                                   **reg.client_tls()).check().digest
    assert remote == reported_digest(builder, pod), pod.describe()
    assert pulled_file(reg, ref, work) == HELLO
    assert reg.auth_report(mark).authorized_users == (reg.username,)
    return remote


# ---------------------------------------------------------------------------------------------
# every builder pushes, over TLS (with the catalog's CA) and over plain HTTP


@pytest.mark.parametrize("builder", BUILDERS)
def test_rendered_job_pushes_over_tls(engine, registry, work, builder):
    rendered = rendered_ok(render_build(work, registry, builder))
    mark = registry.log_mark()
    assert_pushed(builder, run_job(engine, rendered, builder, work), registry, work, mark)


@pytest.mark.parametrize("builder", BUILDERS)
def test_rendered_job_pushes_to_insecure_registry(engine, http_registry, work, builder):
    rendered = rendered_ok(render_build(work, http_registry, builder))
    mark = http_registry.log_mark()
    assert_pushed(builder, run_job(engine, rendered, builder, work), http_registry, work, mark)


# ---------------------------------------------------------------------------------------------
# the builder itself says no


@pytest.mark.parametrize("builder", BUILDERS)
def test_wrong_password_fails_with_401_from_the_builder(engine, registry, work, builder):
    rendered = rendered_ok(render_build(work, registry, builder, password="not-the-password"))
    mark = registry.log_mark()
    pod = run_job(engine, rendered, builder, work)
    assert not pod.succeeded, pod.describe()
    assert pod.main.reason == "Error", pod.describe()
    assert re.search(r"401|unauthorized", pod.main.out, re.IGNORECASE), pod.describe()
    assert registry.auth_report(mark).auth_failures, "the registry saw no wrong password: the builder sent none"


def _move_registry_mount(rendered: Rendered, builder: str, to: str) -> dict:
    """The rendered Job with the registry Secret's mount moved after rendering (a hand edit)."""
    job = copy.deepcopy(rendered.job(f"{builder}-app"))
    spec = job["spec"]["template"]["spec"]
    volume = next(v["name"] for v in spec["volumes"] if (v.get("secret") or {}).get("secretName") == "regcred")
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == volume)
    mount["mountPath"] = to
    return job


@pytest.mark.parametrize("builder", BUILDERS)
def test_moved_mount_fails(engine, registry, work, builder):
    rendered = rendered_ok(render_build(work, registry, builder))
    mark = registry.log_mark()
    pod = run_job(engine, rendered, builder, work, _move_registry_mount(rendered, builder, "/tampered"))
    assert not pod.succeeded, pod.describe()
    # no credentials, in each builder's words: the registry's 401, docker's "no basic auth credentials",
    # buildah's refusal of a REGISTRY_AUTH_FILE that is not there
    assert re.search(r"401|unauthorized|authentication required|no basic auth credentials|checking authfile",
                     pod.main.out, re.IGNORECASE), pod.describe()
    report = registry.auth_report(mark)
    assert not report.auth_failures and not report.authorized_users, "credentials reached the registry"


def test_mount_over_kaniko_dir_keeps_the_pod_from_starting(engine, registry, work):
    """The runner's judgment of issue 17's first bug: a Secret at /kaniko hides the executor."""
    rendered = rendered_ok(render_build(work, registry, "kaniko"))
    pod = run_job(engine, rendered, "kaniko", work, _move_registry_mount(rendered, "kaniko", "/kaniko"))
    assert pod.main.reason == "StartError", pod.describe()
    assert "/kaniko/executor" in pod.main.out, pod.describe()


# ---------------------------------------------------------------------------------------------
# issue 17's bugs: each fails on the code before the fix, through the runner


def _refused(result: tuple[subprocess.CompletedProcess, Rendered | None], engine: Engine, work: Path,
             *words: str, builder: str = "kaniko") -> None:
    """conngen refused the catalog, located, in words; if it did not, say what the Job then does."""
    run, rendered = result
    if rendered is not None:
        pytest.fail("conngen accepted it; the rendered Job then ran:\n" + run_job(engine, rendered, builder, work).describe())
    assert run.returncode == 1, run.stderr
    assert re.search(r"connections\.yaml:\d+:\d+", run.stderr), f"not located:\n{run.stderr}"
    for word in words:
        assert word in run.stderr, run.stderr
    assert "None" not in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_secret_mounted_over_the_kaniko_dir_is_refused(engine, registry, work):
    _refused(render_build(work, registry, "kaniko", secret={"mountPath": "/kaniko"}), engine, work,
             "/kaniko/executor", "mountPath /kaniko")


def test_secret_mounted_inside_the_build_context_is_refused(engine, registry, work):
    """A Secret inside the context is sent with it: `COPY . /` would put config.json into the image."""
    _refused(render_build(work, registry, "kaniko", secret={"mountPath": CONTEXT_MOUNT + "/.docker"}), engine, work,
             "inside the build context")


@pytest.mark.parametrize("secret", [{"defaultMode": "0400"},
                                    {"items": [{"key": ".dockerconfigjson", "path": "config.json", "mode": 0o400}]}],
                         ids=["defaultMode", "item-mode"])
def test_buildkit_with_a_secret_it_cannot_read_is_refused(engine, registry, work, secret):
    """BuildKit runs as uid 1000; a 0400 file of root's is 'permission denied', then an anonymous push."""
    _refused(render_build(work, registry, "buildkit", secret=secret), engine, work,
             "buildkit runs as uid 1000", "0400", builder="buildkit")


def test_buildkit_reads_a_0444_secret(engine, registry, work):
    rendered = rendered_ok(render_build(work, registry, "buildkit", secret={"defaultMode": "0444"}))
    mark = registry.log_mark()
    assert_pushed("buildkit", run_job(engine, rendered, "buildkit", work), registry, work, mark)


def test_docker_config_env_pointing_away_from_the_mount_is_located(engine, registry, work):
    _refused(render_build(work, registry, "kaniko", connection_env={"DOCKER_CONFIG": "/elsewhere"}), engine, work,
             "DOCKER_CONFIG=/elsewhere", "/kaniko/.docker")


@pytest.mark.parametrize("builder", BUILDERS)
def test_repository_scoped_auths_key_pushes(engine, registry, work, builder):
    """`host:port/org` as the auths key: docker clients match it by host, containers/image by repository."""
    auth = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    config = json.dumps({"auths": {f"{registry.host}/org": {"auth": auth}}})
    rendered = rendered_ok(render_build(work, registry, builder, files={"creds/config.json": config},
                                        credentials={"dockerConfig": {"file": "creds/config.json"}}))
    mark = registry.log_mark()
    assert_pushed(builder, run_job(engine, rendered, builder, work), registry, work, mark)


def test_dockerizer_cache_pushes_the_image_the_node_already_has(engine, registry, work):
    """Why conngen passes --nocache: without it polyaxon skips the build when the node has the tag."""
    build = {"cache": True, "image": "dockerizer/cached:v1"}  # a tag no other test leaves on the engine
    first = rendered_ok(render_build(work, registry, "dockerizer", build_extra=build))
    mark = registry.log_mark()
    digest = assert_pushed("dockerizer", run_job(engine, first, "dockerizer", work), registry, work, mark, "cached:v1")
    (work / "context" / "hello.txt").write_text("a new context\n")
    again = run_job(engine, first, "dockerizer", work / "again")
    assert again.succeeded, again.describe()
    assert "Step 2/2 : COPY" not in again.main.out, again.describe()  # no build at all
    assert reported_digest("dockerizer", again) == digest  # the old image, not the new context
    assert pulled_file(registry, f"{registry.host}/org/dockerizer/cached:v1", work / "again") == HELLO
