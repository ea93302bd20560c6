"""End to end through the real kustomize with `conngen install`: kubectl's, and the standalone one's exec functions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, assert_valid_k8s, load_stream, require_tool

pytestmark = pytest.mark.e2e


def kustomize(directory: Path, env: dict) -> subprocess.CompletedProcess:
    kubectl = require_tool("kubectl")
    return subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", str(directory)],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def _copy_seed(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed", app)
    return app


def test_kustomize_build_equals_golden(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    result = kustomize(app, plugin_home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (FIXTURES / "seed" / "expected-kustomize.yaml").read_text(encoding="utf-8")
    assert_valid_k8s(load_stream(result.stdout))


def test_kustomize_output_is_the_rendered_golden(tmp_path: Path, plugin_home: dict) -> None:
    """Semantically: kustomize passes conngen's objects through; no Secret a Job mounts is renamed."""
    app = _copy_seed(tmp_path)
    built = {(o["kind"], o["metadata"]["name"]): o for o in load_stream(kustomize(app, plugin_home).stdout)}
    golden = load_stream((FIXTURES / "seed" / "expected.yaml").read_text(encoding="utf-8"))
    assert built == {(o["kind"], o["metadata"]["name"]): o for o in golden}


def _secret_and_refs(output: str) -> tuple[str, set[str], list[dict]]:
    objects = load_stream(output)
    secret = next(o for o in objects if o["kind"] == "Secret")
    jobs = [o for o in objects if o["kind"] == "Job"]
    refs = {v["secret"]["secretName"] for o in jobs for v in o["spec"]["template"]["spec"]["volumes"] if "secret" in v}
    return secret["metadata"]["name"], refs, jobs


def test_rotating_a_password_updates_the_secret_and_changes_no_job(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    before, refs_before, jobs_before = _secret_and_refs(kustomize(app, plugin_home).stdout)
    (app / "creds" / "password").write_text("rotated-password\n")
    result = kustomize(app, plugin_home)
    after, refs_after, jobs_after = _secret_and_refs(result.stdout)
    assert before == after == "docker-conf" and refs_before == refs_after == {"docker-conf"}
    assert jobs_before == jobs_after  # the pod templates, immutable, are untouched: nothing rebuilds
    secret = next(o for o in load_stream(result.stdout) if o["kind"] == "Secret")
    auth = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]["myregistry.com"]["auth"]
    assert base64.b64decode(auth).decode() == "amurdaca:rotated-password"


def test_plugin_errors_reach_kustomize_with_location_and_no_secret(tmp_path: Path, plugin_home: dict) -> None:
    app = _copy_seed(tmp_path)
    (app / "creds" / "password").write_text("canary-Zx81-do-not-print\n")
    text = (app / "connections.yaml").read_text().replace("mountPath: /root/.docker", "mountPath: root/.docker")
    (app / "connections.yaml").write_text(text)
    result = kustomize(app, plugin_home)
    assert result.returncode != 0
    assert "connections.yaml:16:7: error: connections[1].secret.mountPath:" in result.stderr
    assert "canary-Zx81" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_paths_resolve_against_the_kustomization_not_the_temp_copy(tmp_path: Path, plugin_home: dict) -> None:
    """kustomize passes a temporary copy of the config; catalogs are still found from the app dir."""
    app = _copy_seed(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(app)], cwd=outside,
                            env={**os.environ, **plugin_home}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "kind: Job" in result.stdout


# ---------------------------------------------------------------------------------------------
# standalone kustomize: conngen as an exec KRM function (`kustomize build --enable-exec`)
#
# kubectl's kustomize has no --enable-exec: these need the standalone binary (the kind ArgoCD
# bundles), which scripts/build-go-tools builds.

ROTATED = "rotated-Zx81-from-envs"
EXEC_FLAGS = ("--enable-alpha-plugins", "--enable-exec")
GOLDEN = (FIXTURES / "seed" / "expected-kustomize.yaml").read_text(encoding="utf-8")


def exec_app(tmp_path: Path, plugin_home: dict, function: str, password: object = None) -> Path:
    """The seed app with its config as an exec function; `conngen-fn` is put only where `path` says.

    A relative `path` (`./conngen-fn`) gets it in the app directory, a bare name in a directory
    that `kustomize_exec` puts on PATH: so each case proves its own lookup.
    """
    app = _copy_seed(tmp_path)
    config = yaml.safe_load((app / "generator.yaml").read_text())
    config["metadata"]["annotations"] = {"config.kubernetes.io/function": function}
    if password is not None:
        config["credentials"]["docker-conf"]["password"] = password
    (app / "generator.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    installed = Path(plugin_home["KUSTOMIZE_PLUGIN_HOME"]) / "conngen.dev/v1/connectiongenerator/ConnectionGenerator"
    (tmp_path / "fn-bin").mkdir()
    where = app if "path: ./" in function else tmp_path / "fn-bin"
    (where / "conngen-fn").symlink_to(installed)
    return app


def kustomize_exec(app: Path, *flags: str, cwd: Path | None = None, env: dict | None = None,
                   ) -> subprocess.CompletedProcess:
    """`kustomize build` with the function dir first on PATH; flags default to the exec pair."""
    path = f"{app.parent / 'fn-bin'}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run([require_tool("kustomize"), "build", *(flags or EXEC_FLAGS), str(app)], cwd=cwd,
                          env={**os.environ, "PATH": path, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("function", [
    "exec:\n  path: conngen-fn\n",                                  # a bare name: looked up on PATH
    "exec:\n  path: ./conngen-fn\n",                                # relative: to the kustomization
    "exec:\n  path: ./conngen-fn\n  args: [generator.yaml]\n",      # an argument: exec-plugin output
])
def test_exec_function_gives_the_legacy_plugins_golden(tmp_path: Path, plugin_home: dict, function: str) -> None:
    app = exec_app(tmp_path, plugin_home, function)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = kustomize_exec(app, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN
    assert only_the_dockerizer_warning(result.stderr)


def test_without_enable_exec_kustomize_skips_the_function_silently(tmp_path: Path, plugin_home: dict) -> None:
    app = exec_app(tmp_path, plugin_home, "exec:\n  path: conngen-fn\n")
    result = kustomize_exec(app, "--enable-alpha-plugins")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_envs_of_the_annotation_reach_env_credentials(tmp_path: Path, plugin_home: dict) -> None:
    function = f"exec:\n  path: conngen-fn\n  envs: [SEED_PW={ROTATED}]\n"
    app = exec_app(tmp_path, plugin_home, function, password={"env": "SEED_PW"})
    result = kustomize_exec(app, env={"SEED_PW": "the-callers-value"})
    assert result.returncode == 0, result.stderr
    secret = next(o for o in load_stream(result.stdout) if o["kind"] == "Secret")
    auth = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]["myregistry.com"]
    assert auth["password"] == ROTATED, "the annotation's envs win over the caller's environment"


def test_an_envs_value_holding_an_equals_sign_is_dropped_by_kustomize(tmp_path: Path, plugin_home: dict) -> None:
    """kyaml's mergeExecEnv keeps only NAME=value pairs that split into exactly two parts."""
    function = "exec:\n  path: conngen-fn\n  envs: [SEED_PW=canary=Zx81]\n"
    app = exec_app(tmp_path, plugin_home, function, password={"env": "SEED_PW"})
    assert "SEED_PW" not in os.environ
    result = kustomize_exec(app)
    assert result.returncode != 0
    assert "generator.yaml:13:5: error: credentials.docker-conf.password:" in result.stderr
    assert "environment variable SEED_PW is not set" in result.stderr
    assert "canary" not in result.stderr + result.stdout


def only_the_dockerizer_warning(stderr: str) -> bool:
    """conngen's own stderr, nothing else: the seed's dockerizer build warns about the node's Docker socket."""
    lines = stderr.splitlines()
    return (len(lines) == 2 and lines[0].startswith("generator.yaml:") and ": warning: builds[1].builder: dockerizer "
            "builds through the node's Docker Engine" in lines[0] and lines[1].startswith("  hint: use kaniko"))


def test_exec_function_errors_and_warnings_reach_kustomizes_stderr(tmp_path: Path, plugin_home: dict) -> None:
    app = exec_app(tmp_path, plugin_home, "exec:\n  path: conngen-fn\n", password="canary-Zx81-literal")
    warned = kustomize_exec(app)
    assert warned.returncode == 0, warned.stderr
    # conngen's own stderr lines, and nothing else: kustomize build does not show the `results`
    literal = ("generator.yaml:13:5: warning: credentials.docker-conf.password: credential written "
               "as a literal in the config\n  hint: use {env: NAME} or {file: path} to keep it out of git\n")
    assert warned.stderr.startswith(literal) and only_the_dockerizer_warning(warned.stderr[len(literal):])

    app = exec_app(tmp_path / "failing", plugin_home, "exec:\n  path: conngen-fn\n",
                   password={"env": "CONNGEN_TEST_UNSET"})
    failed = kustomize_exec(app)
    assert failed.returncode != 0
    assert "generator.yaml:13:5: error: credentials.docker-conf.password:" in failed.stderr
    assert "environment variable CONNGEN_TEST_UNSET is not set" in failed.stderr
    assert failed.stderr.rstrip().endswith("Error: couldn't execute function: exit status 1")
    assert failed.stdout == "" and "Traceback" not in failed.stderr
