"""Build contexts from catalog connections: buckets, volumes and git over SSH.

Each rendered Job is laid out with the pod simulator against fake Secrets/ConfigMaps, so a test
opens the files and reads the environment the builder (or its init container) would really get.
Builder facts used here come from the builders reference (kaniko README context table, each
builder's CLI), not from conngen's profiles.
"""

from __future__ import annotations

import base64
import re
import shlex
from pathlib import Path

import pytest

from conftest import assert_valid_k8s, load_stream, object_key, run_conngen
from support.podsim import simulate_pod

FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n"
FAKE_HOSTS = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"


def _secret(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def _config_map(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _jobs(case: str) -> tuple[dict[str, dict], list[dict]]:
    result = run_conngen("render", f"fixtures/{case}/generator.yaml")
    assert result.returncode == 0, result.stderr
    objects = load_stream(result.stdout)
    return {object_key(o)[1]: o for o in objects if o["kind"] == "Job"}, objects


def _pod(job: dict) -> dict:
    return job["spec"]["template"]["spec"]


def _builder(job: dict) -> dict:
    return _pod(job)["containers"][0]


def _arg(container: dict, prefix: str) -> str:
    return next(a[len(prefix):] for a in container["args"] if a.startswith(prefix))


def _volume(job: dict, name: str) -> dict:
    return next(v for v in _pod(job)["volumes"] if v["name"] == name)


# --- buckets -------------------------------------------------------------------------------------

def test_bucket_contexts_are_the_urls_kaniko_fetches() -> None:
    jobs, _ = _jobs("context-bucket")
    assert _arg(_builder(jobs["trainer-s3"]), "--context=") == "s3://acme-contexts/contexts/trainer.tar.gz"
    # the bucket's own prefix (gs://acme-contexts/ml) stays in front of the path
    assert _arg(_builder(jobs["trainer-gcs"]), "--context=") == "gs://acme-contexts/ml/contexts/trainer.tar.gz"
    assert _arg(_builder(jobs["trainer-gcs"]), "--context-sub-path=") == "services/trainer"
    # wasbs://<container>@<account>.blob.core.windows.net -> https://<account>.blob.core.windows.net/<container>/...
    assert _arg(_builder(jobs["trainer-wasb"]), "--context=") == \
        "https://acmeml.blob.core.windows.net/contexts/contexts/trainer.tar.gz"
    assert all("initContainers" not in _pod(j) for n, j in jobs.items() if n.startswith("trainer-"))


def test_bucket_credentials_reach_kaniko_where_the_cloud_sdks_read_them(tmp_path: Path) -> None:
    jobs, objects = _jobs("context-bucket")
    cluster = [*objects, _secret("aws-context-reader", AWS_ACCESS_KEY_ID="AKIAFAKE", AWS_SECRET_ACCESS_KEY="fake"),
               _secret("gcs-context-reader", **{"key.json": '{"type": "service_account"}'}),
               _secret("azure-context-reader", AZURE_STORAGE_ACCESS_KEY="fake-azure-key")]
    s3 = simulate_pod(jobs["trainer-s3"], cluster, tmp_path / "s3")
    assert s3.env["AWS_ACCESS_KEY_ID"] == "AKIAFAKE" and s3.env["AWS_SECRET_ACCESS_KEY"] == "fake"
    assert s3.env["AWS_REGION"] == "eu-west-1"  # the connection's env
    gcs = simulate_pod(jobs["trainer-gcs"], cluster, tmp_path / "gcs")
    assert gcs.read_json(gcs.env["GOOGLE_APPLICATION_CREDENTIALS"]) == {"type": "service_account"}
    wasb = simulate_pod(jobs["trainer-wasb"], cluster, tmp_path / "wasb")
    assert wasb.env["AZURE_STORAGE_ACCESS_KEY"] == "fake-azure-key"


FETCHED = {  # job -> (CONTEXT_KIND, CONTEXT_OBJECT as rclone reads it)
    "tools-s3-buildah": ("s3", "acme-contexts/contexts/tools.tar.gz"),
    "tools-gcs-dockerizer": ("gcs", "acme-contexts/ml/contexts/tools.tar.gz"),
    "tools-wasb-buildkit": ("wasb", "contexts/contexts/tools.tar.gz"),
}
BUCKET_SECRETS = [_secret("aws-context-reader", AWS_ACCESS_KEY_ID="AKIAFAKE", AWS_SECRET_ACCESS_KEY="fake"),
                  _secret("gcs-context-reader", **{"key.json": '{"type": "service_account"}'}),
                  _secret("azure-context-reader", AZURE_STORAGE_ACCESS_KEY="fake-azure-key")]


@pytest.mark.parametrize("name", sorted(FETCHED))
def test_builders_without_bucket_support_get_a_fetch_step_holding_the_credentials(name: str, tmp_path: Path) -> None:
    jobs, objects = _jobs("context-bucket")
    job = jobs[name]
    fetch = _pod(job)["initContainers"][0]
    assert fetch["name"] == "fetch-context" and fetch["image"].startswith("rclone/rclone:")
    step = simulate_pod(job, [*objects, *BUCKET_SECRETS], tmp_path / "step", container="fetch-context")
    builder = simulate_pod(job, [*objects, *BUCKET_SECRETS], tmp_path / "builder")
    assert (step.env["CONTEXT_KIND"], step.env["CONTEXT_OBJECT"]) == FETCHED[name]
    # the unpacked context lands in the very volume the builder builds from
    workspace = step.env["WORKSPACE"]
    assert step.mount_for(workspace).volume == builder.mount_for(workspace).volume
    assert workspace in " ".join(builder.args) or workspace in builder.env.values()
    # the bucket's credentials reach the fetch step only
    secret_names = {"AWS_ACCESS_KEY_ID", "AZURE_STORAGE_ACCESS_KEY", "GOOGLE_APPLICATION_CREDENTIALS"}
    assert secret_names & set(step.env) and not secret_names & set(builder.env)
    if FETCHED[name][0] == "gcs":
        assert step.read_json(step.env["GOOGLE_APPLICATION_CREDENTIALS"]) == {"type": "service_account"}
        assert not builder.exists(step.env["GOOGLE_APPLICATION_CREDENTIALS"])


@pytest.mark.parametrize("name", ["tools-s3-buildah", "tools-wasb-buildkit"])
def test_the_fetch_script_downloads_and_unpacks_into_the_workspace(name: str, tmp_path: Path) -> None:
    """Run the step's own script with a stand-in rclone that records its config and serves a local tarball."""
    import subprocess
    import tarfile

    jobs, objects = _jobs("context-bucket")
    step = simulate_pod(jobs[name], [*objects, *BUCKET_SECRETS], tmp_path / "root", container="fetch-context")
    context = tmp_path / "src"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    with tarfile.open(tmp_path / "served.tar.gz", "w:gz") as tar:
        tar.add(context / "Dockerfile", arcname="Dockerfile")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rclone").write_text(
        "#!/bin/sh\nenv | grep '^RCLONE_CONFIG_SRC_' | sort > \"$RECORD\"\necho \"$@\" >> \"$RECORD\"\n"
        f"cp {tmp_path / 'served.tar.gz'} \"$3\"\n")
    (bin_dir / "rclone").chmod(0o755)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {**step.env, "WORKSPACE": str(workspace), "PATH": f"{bin_dir}:/usr/bin:/bin", "RECORD": str(tmp_path / "rec")}
    script = _pod(jobs[name])["initContainers"][0]["args"][0]
    subprocess.run(["/bin/sh", "-c", script], env=env, check=True)
    assert (workspace / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (workspace / ".context.tar.gz").exists()
    record = (tmp_path / "rec").read_text()
    assert f"copyto src:{FETCHED[name][1]} {workspace}/.context.tar.gz" in record
    if name == "tools-s3-buildah":
        assert "RCLONE_CONFIG_SRC_TYPE=s3" in record and "RCLONE_CONFIG_SRC_ENV_AUTH=true" in record
        assert "RCLONE_CONFIG_SRC_REGION=eu-west-1" in record
    else:
        assert "RCLONE_CONFIG_SRC_TYPE=azureblob" in record and "RCLONE_CONFIG_SRC_ACCOUNT=acmeml" in record
        assert "RCLONE_CONFIG_SRC_KEY=fake-azure-key" in record


# --- volumes -------------------------------------------------------------------------------------

VOLUME_CONTEXTS = {  # job -> (how the builder is told the directory, the directory)
    "trainer-kaniko": ("--context=", "dir:///mnt/sources/trainer"),
    "trainer-dockerizer": ("-c", "/mnt/sources/trainer"),
    "trainer-buildkit": ("--local=context=", "/mnt/sources/trainer"),
    "trainer-buildah": (None, "/mnt/node-sources/trainer"),  # bud's last argument; contextSubPath: trainer
}


@pytest.mark.parametrize("name", sorted(VOLUME_CONTEXTS))
def test_volume_context_is_the_mounted_directory(name: str, tmp_path: Path) -> None:
    jobs, objects = _jobs("context-volume")
    job, (flag, expected) = jobs[name], VOLUME_CONTEXTS[name]
    args = _builder(job)["args"]
    if flag is None:
        given = args[-1]
    elif flag == "-c":
        given = args[args.index("-c") + 1]
    else:
        given = _arg(_builder(job), flag)
    assert given == expected
    assert "initContainers" not in _pod(job)
    view = simulate_pod(job, objects, tmp_path)
    mount = view.mount_for(expected.removeprefix("dir://"))
    assert mount is not None
    source = _volume(job, mount.volume)
    assert source.get("persistentVolumeClaim") == {"claimName": "build-sources"} or \
        source.get("hostPath") == {"path": "/srv/build-contexts"}


PATH_BUILDERS = {  # builder -> its argument that names the context directory (None: bud's last argument)
    "dockerizer": "-c", "buildkit": "--local=context=", "buildah": None,
}


@pytest.mark.parametrize("builder", sorted(PATH_BUILDERS))
def test_builders_taking_a_path_are_told_one_context_directory(builder: str, tmp_path: Path) -> None:
    """A trailing slash on the context and a sub-path make one directory, the one the mount checks use."""
    (tmp_path / "connections.yaml").write_text(CATALOG)
    (tmp_path / "generator.yaml").write_text(
        "apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\ncatalog: [connections.yaml]\n"
        f"builds:\n  - {{name: b, connection: reg, builder: {builder}, image: app:1, context: 'dir:///mnt/src/', "
        "contextSubPath: app}\n")
    result = run_conngen("render", str(tmp_path / "generator.yaml"))
    assert result.returncode == 0, result.stderr
    container = _builder(next(o for o in load_stream(result.stdout) if o["kind"] == "Job"))
    flag, args = PATH_BUILDERS[builder], container["args"]
    given = args[-1] if flag is None else args[args.index(flag) + 1] if flag == "-c" else _arg(container, flag)
    assert given == "/mnt/src/app"


# --- git over SSH --------------------------------------------------------------------------------

SSH_CLUSTER = [_secret("github-deploy-key", **{"ssh-privatekey": FAKE_KEY, "known_hosts": FAKE_HOSTS}),
               _secret("tools-deploy-key", **{"ssh-privatekey": FAKE_KEY}),
               _config_map("gitlab-known-hosts", known_hosts=FAKE_HOSTS)]


@pytest.mark.parametrize("name", ["trainer-kaniko", "trainer-buildkit", "tools-dockerizer"])
def test_ssh_clone_gets_a_0400_key_and_strict_host_checking(name: str, tmp_path: Path) -> None:
    jobs, objects = _jobs("context-ssh")
    job = jobs[name]
    init = simulate_pod(job, [*objects, *SSH_CLUSTER], tmp_path / "init", "git-clone")
    assert re.fullmatch(r"(git@[^:/]+:|ssh://).+", init.env["GIT_URL"])
    ssh = shlex.split(init.env["GIT_SSH_COMMAND"])
    key = ssh[ssh.index("-i") + 1]
    options = dict(ssh[i + 1].split("=", 1) for i, word in enumerate(ssh) if word == "-o")
    assert options["StrictHostKeyChecking"] == "yes"
    assert init.read_text(key) == FAKE_KEY and init.mode(key) == 0o400
    assert init.read_text(options["UserKnownHostsFile"]) == FAKE_HOSTS
    assert init.mount_for(key).read_only
    # the key is the clone step's alone: the builder never sees it
    builder = simulate_pod(job, [*objects, *SSH_CLUSTER], tmp_path / "builder", _builder(job)["name"])
    assert not builder.exists(key)
    assert "GIT_SSH_COMMAND" not in builder.env


@pytest.mark.parametrize("name,flag", [("trainer-kaniko", "--context="), ("trainer-buildkit", "--local=context="),
                                       ("tools-dockerizer", "-c")])
def test_builder_reads_the_volume_the_clone_writes(name: str, flag: str, tmp_path: Path) -> None:
    jobs, objects = _jobs("context-ssh")
    job = jobs[name]
    args = _builder(job)["args"]
    context = args[args.index("-c") + 1] if flag == "-c" else _arg(_builder(job), flag)
    directory = context.removeprefix("dir://")
    init = simulate_pod(job, [*objects, *SSH_CLUSTER], tmp_path / "init", "git-clone")
    builder = simulate_pod(job, [*objects, *SSH_CLUSTER], tmp_path / "builder", _builder(job)["name"])
    assert init.env["WORKSPACE"] == directory
    assert init.mount_for(directory).volume == builder.mount_for(directory).volume
    assert "emptyDir" in _volume(job, builder.mount_for(directory).volume)


def test_context_fixtures_are_valid_kubernetes() -> None:
    for case in ("context-bucket", "context-volume", "context-ssh"):
        _, objects = _jobs(case)
        assert_valid_k8s(objects)


# --- refusals ------------------------------------------------------------------------------------

CATALOG = """connections:
  - name: reg
    kind: registry
    schema: {url: "https://myregistry.com/org"}
  - name: bucket
    kind: s3
    schema: {bucket: "s3://acme-contexts"}
  - name: blob
    kind: wasb
    schema: {bucket: "https://acme.blob.core.windows.net/contexts"}
  - name: gcs-bucket
    kind: gcs
    schema: {bucket: "gs://acme"}
    secret: {name: gcs-key}
  - name: claim
    kind: volume_claim
    schema: {volumeClaim: sources, mountPath: /mnt/sources}
  - name: https-repo
    kind: git
    schema: {url: "https://github.com/acme/app.git"}
  - name: ssh-repo
    kind: git
    schema: {url: "git@github.com:acme/app.git"}
  - name: key-only
    kind: ssh
    secret: {name: deploy-key}
  - name: token-repo
    kind: git
    schema: {url: "git@github.com:acme/app.git"}
    secret: {name: gh-token, items: [token]}
  - name: s3-odd-keys
    kind: s3
    schema: {bucket: "s3://acme-contexts"}
    secret: {name: aws, items: [access_key]}
  - name: s3-mounted
    kind: s3
    schema: {bucket: "s3://acme-contexts"}
    secret: {name: aws, mountPath: /etc/aws}
  - name: blob-mounted
    kind: wasb
    schema: {bucket: "wasbs://contexts@acme.blob.core.windows.net"}
    secret: {name: azure, mountPath: /etc/azure}
"""

REFUSALS = [
    ("bucket without path", "kaniko", "{connection: bucket}",
     r"builds\[0\]\.context: context connection 'bucket' is a s3 bucket: say which tarball"),
    ("registry as context", "kaniko", "{connection: reg}",
     r"builds\[0\]\.context\.connection: context connection 'reg' is a registry connection"),
    ("unknown context connection", "kaniko", "{connection: nowhere}",
     r"builds\[0\]\.context\.connection: context connection 'nowhere' is not in the catalog"),
    ("wasb bucket of another shape", "kaniko", "{connection: blob, path: c.tar.gz}",
     r"connections\[2\]\.schema\.bucket: wasb bucket .* is not wasbs://<container>@<account>"),
    ("gcs key not mounted", "kaniko", "{connection: gcs-bucket, path: c.tar.gz}",
     r"connections\[3\]\.secret: a gcs secret is a key file: it must be mounted"),
    ("path escaping the volume", "kaniko", "{connection: claim, path: ../etc}",
     r"builds\[0\]\.context\.path: path '\.\./etc' must be relative and stay inside the volume"),
    ("path on git", "kaniko", "{connection: https-repo, path: sub}",
     r"builds\[0\]\.context\.path: path applies to bucket and volume contexts, not git"),
    ("revision on a bucket", "kaniko", "{connection: bucket, path: c.tar.gz, revision: main}",
     r"builds\[0\]\.context\.revision: revision applies to git contexts"),
    ("ssh with an https url", "kaniko", "{connection: https-repo, ssh: key-only}",
     r"builds\[0\]\.context\.ssh: ssh applies to an SSH git url"),
    ("ssh url without a key", "dockerizer", "{connection: ssh-repo}",
     r"builds\[0\]\.context: git url 'git@github\.com:acme/app\.git' is SSH, but connection 'ssh-repo' has no secret"),
    ("ssh url with an https token", "kaniko", "{connection: token-repo}",
     r"connections\[8\]\.secret\.items: an SSH clone needs one private key .*token is not an SSH key"),
    ("ssh key without known_hosts", "kaniko", "{connection: ssh-repo, ssh: key-only}",
     r"connections\[7\]\.secret: an SSH clone checks the host key, but connection 'key-only' gives no known_hosts"),
    ("s3 secret without the AWS keys", "kaniko", "{connection: s3-odd-keys, path: c.tar.gz}",
     r"connections\[9\]\.secret\.items: a s3 context reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"),
    ("s3 secret mounted with nothing pointing at it", "kaniko", "{connection: s3-mounted, path: c.tar.gz}",
     r"connections\[10\]\.secret\.mountPath: a mounted s3 secret is read only through AWS_SHARED_CREDENTIALS_FILE"),
    ("wasb key mounted as a file", "kaniko", "{connection: blob-mounted, path: c.tar.gz}",
     r"connections\[11\]\.secret\.mountPath: a wasb context's key is read from the environment"),
    ("ssh naming a git connection", "kaniko", "{connection: ssh-repo, ssh: https-repo}",
     r"builds\[0\]\.context\.ssh: ssh connection 'https-repo' is a git connection"),
]


@pytest.mark.parametrize("builder,context,expected", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_bad_contexts_are_refused_with_a_location(builder: str, context: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "connections.yaml").write_text(CATALOG)
    (tmp_path / "generator.yaml").write_text(
        "apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\nmetadata: {name: t}\ncatalog: [connections.yaml]\n"
        f"builds:\n  - name: b\n    connection: reg\n    builder: {builder}\n    image: app:1\n    context: {context}\n")
    result = run_conngen("render", str(tmp_path / "generator.yaml"))
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert re.search(r"\.yaml:\d+:\d+: error: " + expected, result.stderr), result.stderr
    assert "hint:" in result.stderr
