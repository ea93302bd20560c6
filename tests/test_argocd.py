"""The ArgoCD recipes in deploy/argocd, run the way ArgoCD runs them.

CMP v2 (argo-cd v3.5.1 cmpserver/plugin/plugin.go, util/app/discovery/discovery.go): the
repo-server sends the repository to the sidecar, where files arrive 0644 and directories 0755
(preserveFileMode: false). Discovery is `fileName` (filepath.Glob), else `find.glob`, else
`find.command`, which runs in the application path and matches when it exits 0 with output (a
non-zero exit is an error). A plugin with discovery is used only where discovery matches, also
when the Application names it (`cmpSupports`). `generate` is `exec.Command(command[0],
command[1:]+args...)` in the application path, as the sidecar's user 999, with the sidecar's
environment plus the build environment (ARGOCD_APP_*, KUBE_*), `ARGOCD_ENV_*` and `PARAM_*` —
discovery gets the same; its stdout must be only objects (YAML/JSON, no `kind: List`), a
non-zero exit shows stderr in the UI.
The overlays are built with the real `kubectl kustomize` on a stand-in of ArgoCD's install
manifest (deploy/argocd/testdata/base).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from conftest import object_key, require_tool
from test_externalsecret import EXTERNAL_SECRET

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy" / "argocd"
APP = DEPLOY / "testdata" / "app"
CONFIG = "trainer-builds.yaml"
SEED = REPO / "fixtures" / "seed"
K8S_VERSION = "1.31"
CMP_UID = 999
CANARY = "canary-Pa55-3c1d7b"
#: cmpserver/plugin/config.go: the fields ArgoCD reads from plugin.yaml
SPEC_FIELDS = {"version", "init", "generate", "discover", "parameters", "preserveFileMode", "provideGitCreds"}
#: the credentials block of the example in env mode: values from the sidecar's environment
ENV_CREDENTIALS = {"registry-push": {"username": {"env": "REGISTRY_USERNAME"},
                                     "password": {"env": "REGISTRY_PASSWORD"}}}


def plugin() -> dict:
    return yaml.safe_load((DEPLOY / "plugin.yaml").read_text())


def kubectl() -> str:
    return require_tool("kubectl")


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """The image's /opt/conngen/bin: a `conngen` command on the sidecar's PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "conngen"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m generator "$@"\n')
    script.chmod(0o755)
    return bin_dir


def checkout(source: Path, dest: Path) -> Path:
    """The repository as the sidecar receives it: files 0644, directories 0755, no exec bits."""
    shutil.copytree(source, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_text(text)
    path.chmod(0o644)
    return path


def env_mode(app: Path, config: str = CONFIG) -> Path:
    """The example with credentials from the sidecar's environment instead of ESO."""
    data = yaml.safe_load((app / config).read_text())
    del data["generatorOptions"]
    data["credentials"] = ENV_CREDENTIALS
    return write(app / config, yaml.safe_dump(data, sort_keys=False))


def cmp_env(tools: Path, app_path: str, extra: dict | None = None) -> dict:
    """The sidecar's environment (PATH, the credentials Secret) plus ArgoCD's build environment."""
    env = {
        "PATH": f"{tools}:/usr/local/bin:/usr/bin:/bin",
        "REGISTRY_USERNAME": "robot",
        "REGISTRY_PASSWORD": CANARY,
        "ARGOCD_APP_NAME": "trainer-builds",
        "ARGOCD_APP_NAMESPACE": "ml",
        "ARGOCD_APP_PROJECT_NAME": "default",
        "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
        "ARGOCD_APP_REVISION_SHORT": "0123456",
        "ARGOCD_APP_REVISION_SHORT_8": "01234567",
        "ARGOCD_APP_SOURCE_PATH": app_path,
        "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/ml/deploy.git",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.31.0",
        "KUBE_API_VERSIONS": "v1,apps/v1,batch/v1",
        "ARGOCD_APP_PARAMETERS": "[]",
    }
    env.update(extra or {})
    if "PARAM_CONFIG" in env:
        env["ARGOCD_APP_PARAMETERS"] = json.dumps([{"name": "config", "string": env["PARAM_CONFIG"]}])
    return env


def run_command(spec: dict, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """cmpserver's runCommand: command + args, no extra shell, in the app path, with only the env given.

    It runs as the test's user, not 999: the test interpreter may live where 999 cannot reach
    (pyenv under /root). The image side of "runs as 999" is checked in tests/test_krm.py.
    """
    return subprocess.run([*spec["command"], *spec.get("args", [])], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def generate(app: Path, tools: Path, extra: dict | None = None) -> subprocess.CompletedProcess:
    return run_command(plugin()["spec"]["generate"], app, cmp_env(tools, "apps/trainer", extra))


def discover(app: Path, tools: Path, extra: dict | None = None) -> list[str]:
    """cmpserver's matchRepository for a find command: what it prints for the app path (empty: no match)."""
    done = run_command(plugin()["spec"]["discover"]["find"], app, cmp_env(tools, "apps/trainer", extra))
    assert done.returncode == 0 and done.stderr == "", f"ArgoCD takes a failed find command for an error: {done}"
    return done.stdout.splitlines()


def objects_of(stdout: str) -> list[dict]:
    """What gitops-engine's SplitYAML accepts: every document one object, no kind: List."""
    docs = [d for d in yaml.safe_load_all(stdout) if d is not None]
    for doc in docs:
        assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), doc
        assert not doc["kind"].endswith("List")
    return docs


def validate(obj: dict) -> None:
    """Kubernetes' own kinds against its OpenAPI schema, ESO's ExternalSecret against its CRD's."""
    if obj["kind"] == "ExternalSecret":
        jsonschema.validate(obj, EXTERNAL_SECRET)
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_plugin_yaml_is_a_cmp_v2_config() -> None:
    config = plugin()
    assert (config["apiVersion"], config["kind"], config["metadata"]["name"]) == (
        "argoproj.io/v1alpha1", "ConfigManagementPlugin", "conngen")
    assert set(config["spec"]) <= SPEC_FIELDS, set(config["spec"]) - SPEC_FIELDS
    assert config["spec"]["generate"]["command"][0] == "sh"
    assert config["spec"]["preserveFileMode"] is False
    # discovery by content, not by a file name: a named plugin is still subject to it (cmpSupports)
    discover = config["spec"]["discover"]
    assert set(discover) == {"find"} and set(discover["find"]) == {"command", "args"}
    # generate picks the config with the very script discovery runs (a YAML alias, one source)
    assert config["spec"]["generate"]["args"][-1] == discover["find"]["args"][0]
    (announced,) = config["spec"]["parameters"]["static"]
    assert announced["name"] == "config" and "string" not in announced  # no default: discovery picks it


@pytest.mark.parametrize("name", ["trainer-builds.yaml", "conngen.yaml", "ci.yml", "two words.yaml", "-x.yaml"])
def test_discovery_finds_a_config_by_kind_whatever_its_name(tmp_path: Path, tools: Path, name: str) -> None:
    app = checkout(APP, tmp_path / "app")
    (app / CONFIG).rename(app / name)
    assert discover(app, tools) == [name]
    done = generate(app, tools)
    assert done.returncode == 0, done.stderr
    assert [o["kind"] for o in objects_of(done.stdout)] == ["ExternalSecret", "Job"]


QUOTED = "apiVersion: 'conngen.dev/v1'   # quoted, commented\nkind: \"ConnectionGenerator\"\nmetadata: {name: q}\n"


@pytest.mark.parametrize("files, expected", [
    ({"connections.yaml": (APP / "connections.yaml").read_text()}, []),  # a catalog alone
    ({"kustomization.yaml": "resources: [job.yaml]\n", "job.yaml": "apiVersion: batch/v1\nkind: Job\n"}, []),
    # a kustomization that runs conngen as its generator belongs to ArgoCD's kustomize (build options)
    ({"kustomization.yaml": "generators: [builds.yaml]\n", "builds.yaml": QUOTED}, []),
    ({"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "builds.yaml": QUOTED}, []),
    ({"other.yaml": "apiVersion: conngen.dev/v2\nkind: ConnectionGenerator\n"}, []),
    ({"nested.yaml": "spec:\n  apiVersion: conngen.dev/v1\n  kind: ConnectionGenerator\n"}, []),
    ({"half.yaml": "apiVersion: conngen.dev/v1\nkind: ConnectionGeneratorList\n"}, []),
    ({"builds.yaml": QUOTED, "notes.txt": QUOTED, "sub/deep.yaml": QUOTED}, ["builds.yaml"]),
])
def test_discovery_matches_conngen_configs_only(tmp_path: Path, tools: Path, files: dict, expected: list) -> None:
    app = tmp_path / "app"
    app.mkdir(mode=0o755)
    for name, text in files.items():
        write(app / name, text)
    assert discover(app, tools) == expected


def test_discovery_leaves_the_seed_kustomization_alone(tmp_path: Path, tools: Path) -> None:
    """fixtures/seed lists a conngen config under `generators:`: ArgoCD's kustomize builds it."""
    assert discover(checkout(SEED, tmp_path / "seed"), tools) == []


@pytest.mark.parametrize("extra", [{"PARAM_CONFIG": "builds/trainer.yml"},
                                   {"ARGOCD_ENV_CONNGEN_CONFIG": "builds/trainer.yml"}])
def test_a_config_named_by_parameter_is_discovered_and_rendered(tmp_path: Path, tools: Path, extra: dict) -> None:
    """A config outside the top of the app path, or one of several: discovery follows the choice."""
    app = checkout(APP, tmp_path / "app")
    config = yaml.safe_load((app / CONFIG).read_text())
    config["catalog"] = ["../connections.yaml"]
    config["metadata"]["name"] = "chosen"
    write(app / "builds" / "trainer.yml", yaml.safe_dump(config))
    assert discover(app, tools, extra) == ["builds/trainer.yml"]
    done = generate(app, tools, {**extra, "ARGOCD_ENV_CONNGEN_LOAD_RESTRICTOR": "LoadRestrictionsNone"})
    assert done.returncode == 0, done.stderr
    job = next(o for o in objects_of(done.stdout) if o["kind"] == "Job")
    assert job["metadata"]["labels"]["app.kubernetes.io/part-of"] == "chosen"


def test_several_configs_need_the_parameter(tmp_path: Path, tools: Path) -> None:
    app = checkout(APP, tmp_path / "app")
    write(app / "second.yaml", (app / CONFIG).read_text().replace("name: app", "name: second"))
    assert discover(app, tools) == ["second.yaml", CONFIG]
    done = generate(app, tools)
    assert done.returncode != 0 and done.stdout == ""
    assert "several generator configs" in done.stderr and "second.yaml" in done.stderr
    chosen = generate(app, tools, {"PARAM_CONFIG": "second.yaml", "ARGOCD_ENV_CONNGEN_CONFIG": CONFIG})
    assert chosen.returncode == 0, chosen.stderr
    job = next(o for o in objects_of(chosen.stdout) if o["kind"] == "Job")
    assert job["metadata"]["labels"]["app.kubernetes.io/part-of"] == "second"  # the parameter wins over env


def test_generate_without_a_config_says_how_to_name_one(tmp_path: Path, tools: Path) -> None:
    """`plugin: {name: conngen}` on a path discovery did not match never gets here (cmpSupports);
    a stale parameter or an emptied path does."""
    app = checkout(APP, tmp_path / "app")
    (app / CONFIG).unlink()
    done = generate(app, tools)
    assert done.returncode != 0 and done.stdout == ""
    assert "no generator config here" in done.stderr and "config parameter" in done.stderr


def test_generate_emits_a_valid_object_stream_without_secret_values(tmp_path: Path, tools: Path) -> None:
    """The example's default: ExternalSecrets, so ArgoCD's cache never holds a credential."""
    app = checkout(APP, tmp_path / "repo" / "apps" / "trainer")
    done = generate(app, tools)
    assert done.returncode == 0, done.stderr
    objects = objects_of(done.stdout)
    assert [object_key(o) for o in objects] == [("ExternalSecret", "registry-push"), ("Job", "trainer")]
    for obj in objects:
        validate(obj)
    assert CANARY not in done.stdout + done.stderr and "robot" not in done.stdout


def test_env_mode_renders_a_secret_from_the_sidecar_env(tmp_path: Path, tools: Path) -> None:
    app = checkout(APP, tmp_path / "app")
    env_mode(app)
    done = generate(app, tools)
    assert done.returncode == 0, done.stderr
    objects = objects_of(done.stdout)
    assert [o["kind"] for o in objects] == ["Secret", "Job"]
    for obj in objects:
        validate(obj)
    assert CANARY not in done.stderr


def test_error_fails_with_the_message_and_no_secret(tmp_path: Path, tools: Path) -> None:
    app = checkout(APP, tmp_path / "app")
    config = env_mode(app)
    config.write_text(config.read_text().replace("connection: registry", "connection: no-such-registry"))
    done = generate(app, tools)
    assert done.returncode != 0
    assert done.stdout == ""
    assert f"{CONFIG}:" in done.stderr and "no-such-registry" in done.stderr
    assert CANARY not in done.stderr


def test_missing_credential_fails_and_names_the_variable(tmp_path: Path, tools: Path) -> None:
    app = checkout(APP, tmp_path / "app")
    env_mode(app)
    env = cmp_env(tools, "apps/trainer")
    del env["REGISTRY_PASSWORD"]
    done = run_command(plugin()["spec"]["generate"], app, env)
    assert done.returncode != 0 and done.stdout == ""
    assert "REGISTRY_PASSWORD is not set" in done.stderr


def test_empty_result_is_refused(tmp_path: Path, tools: Path) -> None:
    """An empty manifest would make an auto-syncing app prune everything it had."""
    app = checkout(APP, tmp_path / "app")
    (app / CONFIG).write_text("apiVersion: conngen.dev/v1\nkind: ConnectionGenerator\n"
                              "metadata: {name: app}\ncatalog: [connections.yaml]\n")
    done = generate(app, tools)
    assert done.returncode != 0 and done.stdout == ""
    assert "generated no objects" in done.stderr


def test_load_restrictor_env_allows_a_shared_catalog(tmp_path: Path, tools: Path) -> None:
    repo = tmp_path / "repo"
    app = checkout(APP, repo / "apps" / "trainer")
    shared = repo / "catalog"
    shared.mkdir(mode=0o755)
    (app / "connections.yaml").rename(shared / "connections.yaml")
    config = app / CONFIG
    config.write_text(config.read_text().replace("catalog: [connections.yaml]", "catalog: [../../catalog/connections.yaml]"))
    refused = generate(app, tools)
    assert refused.returncode != 0 and "outside the root" in refused.stderr
    allowed = generate(app, tools, {"ARGOCD_ENV_CONNGEN_LOAD_RESTRICTOR": "LoadRestrictionsNone"})
    assert allowed.returncode == 0, allowed.stderr
    assert len(objects_of(allowed.stdout)) == 2


def test_env_values_are_not_shell_code(tmp_path: Path, tools: Path) -> None:
    app = checkout(APP, tmp_path / "app")
    marker = tmp_path / "pwned"
    hostile = {"PARAM_CONFIG": f"x.yaml; touch {marker}", "ARGOCD_ENV_CONNGEN_CONFIG": f"$(touch {marker})",
               "ARGOCD_ENV_CONNGEN_LOAD_RESTRICTOR": f"$(touch {marker})"}
    assert discover(app, tools, hostile) == [hostile["PARAM_CONFIG"]]
    done = generate(app, tools, hostile)
    assert done.returncode != 0
    assert not marker.exists()


def build(overlay: str) -> list[dict]:
    done = subprocess.run([kubectl(), "kustomize", str(DEPLOY / "testdata" / overlay)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    return objects


def find(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name))


def test_sidecar_overlay_builds_and_mounts_what_the_cmp_server_needs() -> None:
    objects = build("sidecar")
    pod = find(objects, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "conngen")
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == CMP_UID
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["/var/run/argocd"]["name"] == "var-files" and "var-files" in volumes
    assert mounts["/home/argocd/cmp-server/plugins"]["name"] == "plugins" and "plugins" in volumes
    assert volumes[mounts["/tmp"]["name"]] == {"name": mounts["/tmp"]["name"], "emptyDir": {}}
    config_mount = mounts["/home/argocd/cmp-server/config/plugin.yaml"]
    assert config_mount["subPath"] == "plugin.yaml"
    config_map = volumes[config_mount["name"]]["configMap"]["name"]
    # the generated (hashed) ConfigMap is the one mounted, and it holds plugin.yaml verbatim
    assert find(objects, "ConfigMap", config_map)["data"]["plugin.yaml"] == (DEPLOY / "plugin.yaml").read_text()
    assert any(c["name"] == "copyutil" for c in pod["initContainers"])  # fills var-files with argocd-cmp-server


def mounted_at(container: dict, volume: str) -> str:
    return next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == volume)


def env_of(container: dict) -> dict:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def test_build_options_recipe_runs_the_exec_plugin(tmp_path: Path) -> None:
    """Replay the recipe: the init container installs into the shared volume, the repo-server's
    kustomize (with argocd-cm's build options and its own env) finds and runs the plugin."""
    objects = build("build-options")
    options = find(objects, "ConfigMap", "argocd-cm")["data"]["kustomize.buildOptions"].split()
    pod = find(objects, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"]
    init = next(c for c in pod["initContainers"] if c["name"] == "conngen-install")
    server = next(c for c in pod["containers"] if c["name"] == "argocd-repo-server")
    assert {"name": "conngen-tools", "emptyDir": {}} in pod["volumes"]
    # the runtime is mounted where the image has it, which is where the plugin's #! line points
    entrypoint = json.loads(next(line for line in (REPO / "Dockerfile").read_text().splitlines()
                                 if line.startswith("ENTRYPOINT"))[len("ENTRYPOINT"):])
    assert entrypoint[0].startswith(mounted_at(server, "conngen-tools") + "/")

    volume = tmp_path / "conngen-tools"  # the emptyDir, seen from both containers
    volume.mkdir()

    def on_volume(container: dict, path: str) -> Path:
        return volume / os.path.relpath(path, mounted_at(container, "conngen-tools"))

    install_home = on_volume(init, env_of(init)["KUSTOMIZE_PLUGIN_HOME"])
    done = subprocess.run([sys.executable, "-m", "generator", "install"], capture_output=True, text=True,
                          env={**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(install_home)}, timeout=60)
    assert done.returncode == 0, done.stderr

    app = checkout(SEED, tmp_path / "app")
    server_env = {k: str(on_volume(server, v)) for k, v in env_of(server).items() if k == "KUSTOMIZE_PLUGIN_HOME"}
    assert server_env, "the repo-server must name the plugin root"
    done = subprocess.run([kubectl(), "kustomize", *options, str(app)], capture_output=True, text=True,
                          env={**os.environ, **server_env}, timeout=120)
    assert done.returncode == 0, done.stderr
    built = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    assert sorted(o["kind"] for o in built) == ["Job", "Job", "Secret"]
    for obj in built:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
