"""Helm integration: the post-renderer under the real helm 3, the plugins, and the injection rules.

The fixture chart (tests/fixtures/chart) has a plain Deployment and ConfigMap, a Job annotated
`conngen.dev/registry-connection` (kaniko, Secret mounted off kaniko's default, so DOCKER_CONFIG
is needed), a CronJob annotated for the dockerizer in its second container, and a hook Job.
Its conngen config (conngen/generator.yaml beside the templates) also generates one build Job.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from conftest import REPO, assert_valid_k8s, object_key, require_tool, run_conngen
from generator import __version__
from generator.model.builders import PROFILES
from support.clients import require_binaries, running_on_ci
from support.podsim import simulate_pod

CHART = REPO / "tests" / "fixtures" / "chart"
CONFIG = CHART / "conngen" / "generator.yaml"
CONFIG_ARG = str(CONFIG.relative_to(REPO))
CANARY = "canary-pw-7f3a9c1e"
CREDS = {"CHART_REGISTRY_USER": "chart-bot", "CHART_REGISTRY_PASSWORD": CANARY}
SECRET = "chart-registry-auth"
SECRET_VOLUME = {"name": SECRET, "secret": {"secretName": SECRET,
                                            "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}}


def load(text: str) -> list[dict]:
    """Read manifests as Kubernetes does for these cases: `1:30` is a string, not sexagesimal 90 (YAML 1.2)."""
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def by_name(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {object_key(o): o for o in objects}


def documents(text: str) -> dict[str, str]:
    """Raw text of each document that has a `# Source:` comment, keyed by that source."""
    out = {}
    for chunk in re.split(r"(?m)^---[ \t]*$", text):
        found = re.search(r"(?m)^# Source: (.+)$", chunk)
        if found:
            out[found.group(1)] = chunk.strip("\n")
    return out


def pod_spec(obj: dict) -> dict:
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return spec["template"]["spec"]


def private_env(tmp_path: Path) -> dict:
    """Private helm data/config/cache dirs, conngen on PATH and the fixture's credentials.

    HELM_PLUGINS is $HELM_DATA_HOME/plugins, where Helm 4.3.2 installs a local directory whatever
    HELM_PLUGINS says (helm/helm#32646); Helm 3 installs into HELM_PLUGINS itself.
    """
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, **CREDS, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    for name in ("HELM_DATA_HOME", "HELM_CONFIG_HOME", "HELM_CACHE_HOME"):
        (tmp_path / name).mkdir()
        env[name] = str(tmp_path / name)
    env["HELM_PLUGINS"] = str(tmp_path / "HELM_DATA_HOME" / "plugins")
    if shutil.which("conngen", path=env["PATH"]) is None:
        reason = "conngen is not installed as a command (pip install -e .)"
        if running_on_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return env


@pytest.fixture
def helm(tmp_path: Path) -> tuple[str, dict]:
    """helm 3 in a private environment."""
    return require_binaries("helm")["helm"], private_env(tmp_path)


def run(helm: tuple[str, dict], *args: str, cwd: Path = REPO, stdin: str | None = None,
        env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """Run helm; `env` entries override the fixture's, None removes a variable."""
    binary, base = helm
    merged = {k: v for k, v in {**base, **(env or {})}.items() if v is not None}
    return subprocess.run([binary, *args], cwd=cwd, env=merged, input=stdin, capture_output=True, text=True,
                          timeout=120)


def template(helm: tuple[str, dict], *extra: str, config: str = CONFIG_ARG,
             env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    return run(helm, "template", "rel", str(CHART), *extra, "--post-renderer", "conngen",
               "--post-renderer-args", "post-render", "--post-renderer-args", config, env=env)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text
        assert base64.b64encode(CANARY.encode()).decode()[:12] not in text
        assert "kind: Secret" not in text


# ---------------------------------------------------------------------------------------------
# helm 3 --post-renderer


def test_post_renderer_keeps_the_chart_and_adds_the_configs_objects(helm, tmp_path: Path) -> None:
    plain = run(helm, "template", "rel", str(CHART))
    assert plain.returncode == 0, plain.stderr
    result = template(helm)
    assert result.returncode == 0, result.stderr
    before, after = by_name(load(plain.stdout)), by_name(load(result.stdout))
    assert_valid_k8s(list(after.values()))

    # untouched documents reach helm byte for byte (comments, quoting, block scalars)
    for source in ("conngen-fixture/templates/configmap.yaml", "conngen-fixture/templates/deployment.yaml"):
        assert documents(result.stdout)[source] == documents(plain.stdout)[source]
    assert set(before) <= set(after)
    assert set(after) - set(before) == {("Secret", SECRET), ("Job", "base-image")}

    secret = after[("Secret", SECRET)]
    assert not secret["metadata"].get("annotations"), "kustomize-only annotations mean nothing to helm"
    job = after[("Job", "rel-build")]
    original = before[("Job", "rel-build")]
    spec, container = pod_spec(job), pod_spec(job)["containers"][0]
    old_spec, old_container = pod_spec(original), pod_spec(original)["containers"][0]
    assert spec["volumes"] == old_spec["volumes"] + [SECRET_VOLUME]
    assert container["volumeMounts"] == old_container["volumeMounts"] + [
        {"name": SECRET, "mountPath": "/var/run/secrets/registry", "readOnly": True}]
    assert container["env"] == old_container["env"] + [{"name": "DOCKER_CONFIG", "value": "/var/run/secrets/registry"}]
    assert container["env"][0] == {"name": "BUILD_TIMEOUT", "value": "1:30"}, "a plain scalar kept its text"

    # what kaniko would really open, by the kubelet's rules, holds the config's credentials
    view = simulate_pod(job, after.values(), tmp_path / "kaniko", image_env=PROFILES["kaniko"].image_env)
    auth = view.read_json(PROFILES["kaniko"].reads(view.env))["auths"]["registry.example.com"]
    assert auth["username"] == "chart-bot" and auth["password"] == CANARY

    for obj in (job, original):  # nothing else in the Job moved
        del pod_spec(obj)["volumes"], pod_spec(obj)["containers"][0]["volumeMounts"], pod_spec(obj)["containers"][0]["env"]
    assert job == original


def test_post_renderer_fills_the_named_container_for_the_named_builder(helm, tmp_path: Path) -> None:
    result = template(helm)
    assert result.returncode == 0, result.stderr
    before = by_name(load(run(helm, "template", "rel", str(CHART)).stdout))
    after = by_name(load(result.stdout))
    cron, original = after[("CronJob", "rel-nightly")], before[("CronJob", "rel-nightly")]
    notifier, builder = pod_spec(cron)["containers"]
    assert notifier == pod_spec(original)["containers"][0]
    assert builder["volumeMounts"] == [{"name": SECRET, "mountPath": "/root/.docker", "readOnly": True}]
    assert "env" not in builder, "the dockerizer reads $HOME/.docker/config.json: no DOCKER_CONFIG needed"
    assert pod_spec(cron)["volumes"] == [SECRET_VOLUME]
    view = simulate_pod(cron, after.values(), tmp_path / "dockerizer", container="builder",
                        image_env=PROFILES["dockerizer"].image_env)
    assert view.read_json(PROFILES["dockerizer"].reads(view.env))["auths"]["registry.example.com"]["username"] == "chart-bot"


def test_helm3_hooks_are_not_post_rendered(helm) -> None:
    """Documented limit: Helm 3 keeps hooks away from post-renderers, so a hook Job is not filled."""
    result = template(helm)
    assert result.returncode == 0, result.stderr
    hook = by_name(load(result.stdout))[("Job", "rel-pre-install")]
    assert "volumes" not in pod_spec(hook)


def test_unknown_connection_in_the_annotation_fails_helm_with_our_message(helm) -> None:
    result = template(helm, "--set", "build.connection=chart-registri")
    assert result.returncode != 0
    assert "Job rel-build (conngen-fixture/templates/job.yaml): annotation conngen.dev/registry-connection: " \
           "'chart-registri' is not a registry connection of the catalog" in result.stderr
    assert "did you mean 'chart-registry'?" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_bad_config_fails_helm_template_with_no_secret_anywhere(helm, tmp_path: Path) -> None:
    shutil.copy(CHART / "conngen" / "connections.yaml", tmp_path)
    bad = CONFIG.read_text().replace("connection: chart-registry-default", "connection: chart-registry-defualt")
    (tmp_path / "generator.yaml").write_text(bad)
    result = template(helm, config=str(tmp_path / "generator.yaml"))
    assert result.returncode != 0
    assert "error while running command" in result.stderr  # helm 3's wrapper around our stderr
    assert f"{tmp_path / 'generator.yaml'}:" in result.stderr
    assert "names connection 'chart-registry-defualt', which is not in the catalog" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_missing_credential_fails_naming_the_variable_not_the_other_value(helm) -> None:
    result = template(helm, env={"CHART_REGISTRY_USER": None})
    assert result.returncode != 0
    assert "CHART_REGISTRY_USER" in result.stderr
    assert_no_secret(result.stdout, result.stderr)


# ---------------------------------------------------------------------------------------------
# plugins


def test_helm3_plugin_installs_from_the_repository_and_runs_conngen(helm) -> None:
    installed = run(helm, "plugin", "install", str(REPO))
    assert installed.returncode == 0, installed.stderr
    listed = run(helm, "plugin", "list")
    assert re.search(rf"(?m)^conngen\s+{re.escape(__version__)}\s", listed.stdout), listed.stdout
    helped = run(helm, "conngen", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "post-render" in helped.stdout and "render" in helped.stdout
    rendered = run(helm, "conngen", "render", CONFIG_ARG)
    assert rendered.returncode == 0, rendered.stderr
    assert {("Secret", SECRET), ("Job", "base-image")} == set(by_name(load(rendered.stdout)))


def test_helm3_refuses_the_helm4_plugin_yaml(helm) -> None:
    """Why the Helm 4 plugin lives in helm4/: Helm 3 strict-parses plugin.yaml and rejects v1 fields."""
    result = run(helm, "plugin", "install", str(REPO / "helm4"))
    assert result.returncode != 0
    assert "apiVersion" in result.stderr or "runtimeConfig" in result.stderr


def test_plugin_versions_follow_the_package() -> None:
    legacy = yaml.safe_load((REPO / "plugin.yaml").read_text())
    v1 = yaml.safe_load((REPO / "helm4" / "plugin.yaml").read_text())
    assert legacy["version"] == v1["version"] == __version__


def test_helm3_plugin_yaml_uses_only_legacy_fields() -> None:
    legacy = yaml.safe_load((REPO / "plugin.yaml").read_text())
    assert set(legacy) <= {"name", "version", "usage", "description", "platformCommand", "command",
                           "ignoreFlags", "platformHooks", "hooks", "downloaders"}
    assert legacy["ignoreFlags"] is False, "with ignoreFlags helm passes the plugin no arguments at all"
    for entry in legacy["platformCommand"]:
        assert set(entry) <= {"os", "arch", "command"}, "args is unknown to older Helm 3 releases"


# ---------------------------------------------------------------------------------------------
# Helm 4: the postrenderer/v1 plugin in helm4/ under the real binary (scripts/build-go-tools)

HELM4_ARGS = ("--post-renderer", "conngen-post-render", "--post-renderer-args", CONFIG_ARG)


@pytest.fixture
def helm4(tmp_path: Path) -> tuple[str, dict]:
    """Helm 4 in a private environment, with both conngen plugins installed from this checkout."""
    binary = (require_tool("helm4"), private_env(tmp_path))
    for source in (REPO / "helm4", REPO):
        installed = run(binary, "plugin", "install", str(source))
        assert installed.returncode == 0, installed.stderr
    return binary


def test_helm4_loads_the_post_renderer_and_the_cli_plugin(helm4) -> None:
    listed = run(helm4, "plugin", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split()[1:4] for line in listed.stdout.splitlines()[1:]}
    assert rows == {"conngen-post-render": [__version__, "postrenderer/v1", "v1"],
                    "conngen": [__version__, "cli/v1", "legacy"]}
    rendered = run(helm4, "conngen", "render", CONFIG_ARG)
    assert rendered.returncode == 0, rendered.stderr
    assert set(by_name(load(rendered.stdout))) == {("Secret", SECRET), ("Job", "base-image")}


def test_helm4_template_fills_the_charts_jobs_hooks_included(helm4, tmp_path: Path) -> None:
    plain = run(helm4, "template", "rel", str(CHART))
    assert plain.returncode == 0, plain.stderr
    result = run(helm4, "template", "rel", str(CHART), *HELM4_ARGS)
    assert result.returncode == 0, result.stderr
    before, after = by_name(load(plain.stdout)), by_name(load(result.stdout))
    assert_valid_k8s(list(after.values()))
    # Helm 4 itself re-serialises each document to add its filename annotation (list indentation
    # changes); comments and quoting survive, and conngen passes on what it got
    source = "conngen-fixture/templates/configmap.yaml"
    assert documents(result.stdout)[source] == documents(plain.stdout)[source]
    assert after[("Deployment", "rel-web")] == before[("Deployment", "rel-web")]
    assert set(after) - set(before) == {("Secret", SECRET), ("Job", "base-image")}
    assert "postrenderer.helm.sh/" not in result.stdout, "helm 4 takes its own annotation back off"

    job, hook = after[("Job", "rel-build")], after[("Job", "rel-pre-install")]
    assert pod_spec(job)["volumes"] == pod_spec(before[("Job", "rel-build")])["volumes"] + [SECRET_VOLUME]
    assert pod_spec(hook)["volumes"] == [SECRET_VOLUME], "Helm 4 post-renders hooks too"
    assert pod_spec(after[("CronJob", "rel-nightly")])["containers"][1]["volumeMounts"] == [
        {"name": SECRET, "mountPath": "/root/.docker", "readOnly": True}]
    for obj, name in ((job, "kaniko"), (hook, "kaniko-hook")):
        view = simulate_pod(obj, after.values(), tmp_path / name, image_env=PROFILES["kaniko"].image_env)
        auth = view.read_json(PROFILES["kaniko"].reads(view.env))["auths"]["registry.example.com"]
        assert (auth["username"], auth["password"]) == ("chart-bot", CANARY)


def test_helm4_install_dry_run_client_post_renders_manifest_and_hooks(helm4) -> None:
    """`--dry-run=server` needs a cluster; client side runs the whole install up to the API calls."""
    result = run(helm4, "install", "rel", str(CHART), "--dry-run=client", "-o", "json", *HELM4_ARGS)
    assert result.returncode == 0, result.stderr
    release = json.loads(result.stdout)
    manifest = by_name(load(release["manifest"]))
    assert {("Secret", SECRET), ("Job", "base-image"), ("Job", "rel-build")} <= set(manifest)
    assert SECRET_VOLUME in pod_spec(manifest[("Job", "rel-build")])["volumes"]
    (hook,) = release["hooks"]
    assert pod_spec(load(hook["manifest"])[0])["volumes"] == [SECRET_VOLUME]


@pytest.mark.parametrize("extra, env, message", [
    (("--set", "build.connection=chart-registri"), {},
     "conngen: error: Job rel-build (conngen-fixture/templates/job.yaml): annotation "
     "conngen.dev/registry-connection: 'chart-registri' is not a registry connection of the catalog\n"
     "  hint: did you mean 'chart-registry'?\n"),
    ((), {"CHART_REGISTRY_USER": None}, "CHART_REGISTRY_USER"),
])
def test_helm4_shows_our_located_error(helm4, extra: tuple, env: dict, message: str) -> None:
    """Helm 4 keeps a plugin's stderr to itself; bin/conngen-post-render writes to helm's stderr."""
    result = run(helm4, "template", "rel", str(CHART), *extra, *HELM4_ARGS, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert 'Error: error while running post render on files: failed to invoke post-renderer plugin ' \
           '"conngen-post-render": plugin "conngen-post-render" exited with error' in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_helm4_stderr_file_is_appended_to_not_overwritten(helm4, tmp_path: Path) -> None:
    """helm's stderr redirected to a file: the plugin's lines join it, nothing written before is lost."""
    log = tmp_path / "helm.log"
    log.write_text("a line written before helm ran\n")
    binary, env = helm4
    with log.open("a") as stderr:
        done = subprocess.run([binary, "template", "rel", str(CHART), "--set", "build.connection=x",
                               *HELM4_ARGS], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                              timeout=120)
    assert done.returncode == 1
    text = log.read_text()
    assert text.startswith("a line written before helm ran\nconngen: error: Job rel-build ")
    assert text.count('plugin "conngen-post-render" exited with error') == 1


# ---------------------------------------------------------------------------------------------
# injection rules, without helm


JOB = """\
---
# Source: chart/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: build
  annotations:
    conngen.dev/registry-connection: chart-registry
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: kaniko
          image: kaniko
"""


def post_render(stdin: str, *args: str) -> subprocess.CompletedProcess:
    return run_conngen("post-render", CONFIG_ARG, *args, stdin=stdin, env=CREDS)


@pytest.mark.parametrize("change, message", [
    (("kind: Job", "kind: ConfigMap"), "ConfigMap build (chart/templates/job.yaml): annotation "
                                       "conngen.dev/registry-connection: a ConfigMap has no pod to mount a Secret in"),
    (("    conngen.dev/registry-connection: chart-registry\n",
      "    conngen.dev/registry-connection: chart-registry\n    conngen.dev/builder: no-such-builder\n"),
     "Job build (chart/templates/job.yaml): annotation conngen.dev/builder: unknown builder 'no-such-builder'"),
    (("    conngen.dev/registry-connection: chart-registry\n",
      "    conngen.dev/registry-connection: chart-registry\n    conngen.dev/container: main\n"),
     "Job build (chart/templates/job.yaml): annotation conngen.dev/container: no container named 'main'"),
    (("          image: kaniko\n", "          image: kaniko\n          env: [{name: DOCKER_CONFIG, value: /x}]\n"),
     "Job build (chart/templates/job.yaml): env already has name 'DOCKER_CONFIG' with other content"),
])
def test_injection_refuses_what_would_not_work(change: tuple[str, str], message: str) -> None:
    result = post_render(JOB.replace(*change))
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_a_chart_object_named_like_a_generated_one_is_refused() -> None:
    chart = "---\n# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: " \
            f"{SECRET}\ntype: Opaque\n"
    result = post_render(chart)
    assert result.returncode == 1
    assert f"the chart already has Secret {SECRET} (chart/templates/secret.yaml); conngen generates a Secret " \
           "of the same name" in result.stderr
    assert_no_secret(result.stdout, result.stderr)


def test_namespace_mismatch_is_refused(tmp_path: Path) -> None:
    shutil.copy(CHART / "conngen" / "connections.yaml", tmp_path)
    (tmp_path / "generator.yaml").write_text(CONFIG.read_text().replace("name: chart-fixture",
                                                                        "name: chart-fixture\n  namespace: builds"))
    stdin = JOB.replace("  name: build\n", "  name: build\n  namespace: other\n")
    result = run_conngen("post-render", str(tmp_path / "generator.yaml"), stdin=stdin, env=CREDS)
    assert result.returncode == 1
    assert "Job other/build (chart/templates/job.yaml) is in namespace 'other' but the generator config puts " \
           "Secret 'chart-registry-auth' in 'builds'" in result.stderr


def test_an_existing_identical_mount_is_not_added_twice() -> None:
    first = post_render(JOB)
    assert first.returncode == 0, first.stderr
    job_text = "---\n" + first.stdout.split("\n---\n")[0].removeprefix("---\n") + "\n"
    second = post_render(job_text)
    assert second.returncode == 0, second.stderr
    assert load(second.stdout)[0] == load(first.stdout)[0]


def test_documents_pass_through_byte_for_byte() -> None:
    chart = ("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
             "data:\n  on: yes\n  mode: 0755\n  keep: |+\n    trailing\n\n\n"
             "---\n# Source: c/templates/empty.yaml\n"
             "---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
    result = post_render(chart)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(chart.replace("---\n# Source: c/templates/empty.yaml\n", ""))


def test_stdin_that_is_not_yaml_is_a_located_error() -> None:
    result = post_render("---\napiVersion: v1\nkind: [unclosed\n")
    assert result.returncode == 1
    assert "helm's manifests, document 1 at line" in result.stderr and "invalid YAML" in result.stderr
