"""Contract tests for the KRM function mode, driven the way kustomize's fnplugin drives it.

kustomize (api/internal/plugins/fnplugin) runs an `exec:` function with no arguments, in
the kustomization directory, with `os.Environ()`, and sends a ResourceList whose
`functionConfig` is the generator config with `config.kubernetes.io/local-config: "true"`
injected, and whose only item is that same object plus kyaml's index/path annotations.
These tests build exactly that input, run the real installed executable as a subprocess
and check what kustomize would get back. A real `kustomize build --enable-exec` run is at
the end (standalone kustomize, from scripts/build-go-tools; more in test_kustomize_e2e.py).
"""

from __future__ import annotations

import copy
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from conftest import object_key, require_tool

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "fixtures" / "seed"
K8S_VERSION = "1.31"
RESERVED = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")
FUNCTION_ANNOTATION = "exec:\n  path: ./conngen-fn\n"
CANARY = "canary-P4ssw0rd-7f3e9a"


def run_fn(executable: list[str], stdin: str, cwd: Path, env: dict | None = None,
           args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """What kyaml's exec runtime does: exec path + args, cwd = kustomization dir, os.Environ()."""
    return subprocess.run([*executable, *args], input=stdin, cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def authored_config(app: Path) -> dict:
    return yaml.safe_load((app / "generator.yaml").read_text())


def resource_list(config: dict) -> dict:
    """The ResourceList kustomize builds for a generator function config (fnplugin.invokePlugin)."""
    function_config = copy.deepcopy(config)
    function_config["metadata"].setdefault("annotations", {})["config.kubernetes.io/local-config"] = "true"
    item = copy.deepcopy(function_config)
    item["metadata"]["annotations"].update({
        "config.kubernetes.io/index": "0",
        "internal.config.kubernetes.io/index": "0",
        "config.kubernetes.io/path": "generator.yaml",
        "internal.config.kubernetes.io/path": "generator.yaml",
    })
    return {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [item],
            "functionConfig": function_config}


def as_input(config: dict) -> str:
    return yaml.safe_dump(resource_list(config), sort_keys=False)


def output_list(stdout: str) -> dict:
    docs = [d for d in yaml.safe_load_all(stdout) if d is not None]
    assert len(docs) == 1, stdout
    assert docs[0]["apiVersion"] == "config.kubernetes.io/v1" and docs[0]["kind"] == "ResourceList"
    return docs[0]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """The seed kustomization, its config declared as an exec KRM function."""
    target = tmp_path / "app"
    shutil.copytree(SEED, target, ignore=shutil.ignore_patterns("expected.yaml"))
    config = authored_config(target)
    config["metadata"]["annotations"] = {"config.kubernetes.io/function": FUNCTION_ANNOTATION}
    (target / "generator.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The executable `conngen install` writes: the one users point kustomize at."""
    home = tmp_path_factory.mktemp("plugin-home")
    done = subprocess.run([sys.executable, "-m", "generator", "install"], env={**os.environ,
                          "KUSTOMIZE_PLUGIN_HOME": str(home)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    script = home / "conngen.dev" / "v1" / "connectiongenerator" / "ConnectionGenerator"
    assert os.access(script, os.X_OK)
    return script


def legacy_objects(installed: Path, app: Path, config: dict) -> list[dict]:
    """The same config through the legacy exec-plugin protocol (temp copy as argv[1])."""
    copy_path = app.parent / "kust-plugin-config-1234"
    copy_path.write_text(yaml.safe_dump(config, sort_keys=False))
    done = run_fn([str(installed)], "", app, {"KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(app)}, (str(copy_path),))
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d is not None]


def test_generates_the_same_objects_as_the_exec_plugin(installed: Path, app: Path) -> None:
    config = authored_config(app)
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 0, done.stderr
    out = output_list(done.stdout)
    assert [object_key(o) for o in out["items"]] == [
        ("Secret", "docker-conf"), ("Job", "trainer-kaniko"), ("Job", "trainer-dockerizer")]
    assert out["items"] == legacy_objects(installed, app, config)
    # the one result is the dockerizer's warning about the node's Docker socket, also on stderr
    assert [(r["severity"], r["field"]) for r in out["results"]] == [("warning", {"path": "builds[1].builder"})]
    assert done.stderr.count("warning:") == 1 and "Docker Engine" in done.stderr
    for obj in out["items"]:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    # one document holds every item: an anchor in one and an alias in another breaks kyaml
    assert not any(line.lstrip("- ").startswith(("&", "*")) or ": &" in line or ": *" in line
                   for line in done.stdout.splitlines())


def test_no_orchestrator_annotation_reaches_the_output(installed: Path, app: Path) -> None:
    config = authored_config(app)
    config["generatorOptions"] = {"annotations": {"team.example.com/owner": "ml"}}
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 0, done.stderr
    items = output_list(done.stdout)["items"]
    assert items
    for obj in items:
        annotations = obj["metadata"].get("annotations") or {}
        assert not [k for k in annotations if k.startswith(RESERVED)], obj["metadata"]
        assert annotations.get("team.example.com/owner") == "ml"


@pytest.mark.parametrize("options, expected", [
    ({}, {"kustomize.config.k8s.io/needs-hash": "true"}),
    ({"behavior": "merge"}, {"kustomize.config.k8s.io/needs-hash": "true", "kustomize.config.k8s.io/behavior": "merge"}),
    ({"disableNameSuffixHash": True}, {}),
])
def test_secrets_keep_generator_options(installed: Path, app: Path, options: dict, expected: dict) -> None:
    config = authored_config(app)
    config["builds"] = []  # a Secret a Job mounts is never hashed (docs/lifecycle.md); one no Job mounts is
    if options:
        config["generatorOptions"] = options
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 0, done.stderr
    secrets = [o for o in output_list(done.stdout)["items"] if o["kind"] == "Secret"]
    assert secrets
    for secret in secrets:
        annotations = secret["metadata"].get("annotations") or {}
        assert {k: v for k, v in annotations.items() if k.startswith("kustomize.config.k8s.io/")} == expected


def test_python_module_entry_and_json_input(app: Path) -> None:
    config = authored_config(app)
    text = json.dumps(resource_list(config), indent="\t")
    done = run_fn([sys.executable, "-m", "generator.kustomize.plugin"], text, app)
    assert done.returncode == 0, done.stderr
    assert [o["kind"] for o in output_list(done.stdout)["items"]] == ["Secret", "Job", "Job"]


def test_bad_config_gives_error_results_exit_1_and_no_secret(installed: Path, app: Path) -> None:
    config = authored_config(app)
    config["credentials"]["docker-conf"]["password"] = CANARY  # a literal: in the config itself
    config["builds"][0]["connection"] = "no-such-connection"
    done = run_fn([str(installed)], as_input(config), app, {"REG_PASS": CANARY})
    assert done.returncode == 1
    assert CANARY not in done.stdout and CANARY not in done.stderr
    out = output_list(done.stdout)
    assert out["items"] == []
    errors = [r for r in out["results"] if r["severity"] == "error"]
    assert len(errors) == 1, out["results"]
    assert "no-such-connection" in errors[0]["message"]
    assert errors[0]["field"] == {"path": "builds[0].connection"}
    assert errors[0]["resourceRef"] == {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "name": "seed"}
    # the literal password is also reported, as a warning
    assert any(r["severity"] == "warning" and r["field"] == {"path": "credentials.docker-conf.password"}
               for r in out["results"])
    assert "no-such-connection" in done.stderr and "error" in done.stderr


def test_errors_name_the_users_files_and_lines(installed: Path, app: Path) -> None:
    """The config found in the kustomization and the catalog are named with their real lines."""
    config = authored_config(app)
    config["builds"][1]["connection"] = "no-such-connection"
    (app / "generator.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 1
    line = next(i for i, text in enumerate((app / "generator.yaml").read_text().splitlines(), 1)
                if "no-such-connection" in text)
    assert f"generator.yaml:{line}:" in done.stderr
    (result,) = output_list(done.stdout)["results"]
    assert result["file"] == {"path": "generator.yaml"} and result["field"] == {"path": "builds[1].connection"}

    (app / "connections.yaml").write_text("connections:\n  - name: docker-connection-kaniko\n    kind: nope\n")
    done = run_fn([str(installed)], as_input(authored_config(app)), app)
    assert done.returncode == 1
    assert any(r.get("file") == {"path": "connections.yaml"} for r in output_list(done.stdout)["results"])
    assert "connections.yaml:3:" in done.stderr


def test_credential_file_error_never_shows_its_content(installed: Path, app: Path) -> None:
    config = authored_config(app)
    (app / "creds" / "docker.json").write_text('{"auths": {"myregistry.com": {"auth": "' + CANARY + '"')
    config["credentials"]["docker-conf"] = {"dockerConfig": {"file": "creds/docker.json"}}
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 1
    assert CANARY not in done.stdout and CANARY not in done.stderr
    (result,) = output_list(done.stdout)["results"]
    assert result["severity"] == "error" and "not valid JSON" in result["message"]


def test_paths_resolve_against_the_working_directory(installed: Path, app: Path, tmp_path: Path) -> None:
    """kustomize runs exec functions in the kustomization directory; elsewhere the catalog is not found."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_fn([str(installed)], as_input(authored_config(app)), elsewhere)
    assert done.returncode == 1
    assert "catalog 'connections.yaml' not found" in done.stderr


@pytest.mark.parametrize("text, message", [
    ("", "expected a ResourceList"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "expected a ResourceList"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "no functionConfig"),
    ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n", "invalid YAML"),
    ('{"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", ', "invalid JSON"),
])
def test_input_that_is_not_a_resource_list(installed: Path, app: Path, text: str, message: str) -> None:
    done = run_fn([str(installed)], text, app)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert output_list(done.stdout)["results"][0]["severity"] == "error"


def test_tty_without_arguments_prints_usage(installed: Path, app: Path) -> None:
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run([str(installed)], stdin=secondary, cwd=app, capture_output=True, text=True, timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "ResourceList" in done.stderr and done.stdout == ""


def test_legacy_exec_mode_still_works_through_kubectl(installed: Path, tmp_path: Path) -> None:
    """The same installed file, without the function annotation, is a legacy exec plugin."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    app = tmp_path / "legacy"
    shutil.copytree(SEED, app, ignore=shutil.ignore_patterns("expected.yaml"))
    home = installed.parents[3]
    done = subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", str(app)], capture_output=True, text=True,
                          env={**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(home)}, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"]["name"] == "docker-conf"  # mounted by Jobs: not hashed, so rotation changes no Job
    assert "annotations" not in secret["metadata"]
    for job in (o for o in objects if o["kind"] == "Job"):
        assert [v["secret"]["secretName"] for v in job["spec"]["template"]["spec"]["volumes"]
                if "secret" in v] == [secret["metadata"]["name"]]
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_kustomize_build_runs_the_exec_function(installed: Path, app: Path) -> None:
    """A standalone kustomize (kubectl has no --enable-exec): $KUSTOMIZE, else `kustomize` on PATH."""
    kustomize = os.environ.get("KUSTOMIZE") or require_tool("kustomize")
    (app / "conngen-fn").symlink_to(installed)
    done = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(app)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    objects = [d for d in yaml.safe_load_all(done.stdout) if d is not None]
    assert sorted(o["kind"] for o in objects) == ["Job", "Job", "Secret"]
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"]["name"] == "docker-conf"  # mounted by Jobs: never hashed (docs/lifecycle.md)
    for obj in objects:
        assert not [k for k in (obj["metadata"].get("annotations") or {}) if k.startswith(RESERVED)]
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)

    config = authored_config(app)
    config["credentials"]["docker-conf"]["password"] = {"env": "CONNGEN_TEST_UNSET"}
    (app / "generator.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    failed = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(app)],
                            capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "CONNGEN_TEST_UNSET"})
    assert failed.returncode != 0
    assert "CONNGEN_TEST_UNSET is not set" in failed.stderr


# The function image, read as data: its ENTRYPOINT run with this interpreter in place of the
# image's. tests/test_image.py builds and runs the image itself.

PINNED = re.compile(r"^[\w.\-/]+(:[\w.\-]+)?@sha256:[0-9a-f]{64}$")
BUILD_TOOLS = ("gcc", "g++", "cc ", "make", "build-essential", "patchelf", "apt-get install", "pip install", "-dev")


def dockerfile() -> tuple[dict[str, str], list[tuple[str, list[tuple[str, str]]]]]:
    """ARG defaults and the stages (base, [(INSTRUCTION, rest)]), continuations joined."""
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        current += raw.rstrip("\\").strip() + " " if raw.endswith("\\") else raw.strip()
        if not raw.endswith("\\"):
            if current:
                lines.append(current)
            current = ""
    args: dict[str, str] = {}
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif word == "FROM":
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest.split()[0])
            stages.append((base, []))
        else:
            stages[-1][1].append((word, rest))
    return args, stages


def test_dockerfile_is_pinned_multistage_unprivileged_and_without_build_tools() -> None:
    _, stages = dockerfile()
    assert len(stages) >= 2
    for base, _ in stages:
        assert PINNED.match(base), f"base image not pinned by digest: {base}"
    final_base, final = stages[-1]
    assert "slim" in final_base  # a Debian base: /bin/sh for the CMP's `sh -c`
    user = [rest for word, rest in final if word == "USER"]
    assert user and user[-1].split(":")[0].isdigit() and int(user[-1].split(":")[0]) != 0
    (entrypoint,) = [json.loads(rest) for word, rest in final if word == "ENTRYPOINT"]
    assert entrypoint[0].startswith("/") and entrypoint[1:] == ["-I", "-m", "generator.kustomize.plugin"]
    for word, rest in final:
        if word == "RUN":
            assert not [t for t in BUILD_TOOLS if t in rest], rest
        if word == "COPY":
            assert rest.startswith("--from=") and rest.split()[1:] == ["/opt/conngen", "/opt/conngen"], rest
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "PATH=/opt/conngen/bin:" in env  # the CMP's generate runs `conngen`
    build_runs = " ".join(rest for word, rest in stages[0][1] if word == "RUN")
    assert "chmod -R a+rX" in build_runs  # readable by nobody (kustomize) and 999 (ArgoCD)
    assert entrypoint[0].startswith("/opt/conngen/")


def test_dockerignore_sends_only_what_pip_needs() -> None:
    rules = [r for r in (REPO / ".dockerignore").read_text().splitlines() if r and not r.startswith("#")]
    assert rules[0] == "*"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert {"setup.cfg", "pyproject.toml", "generator", "templates"} <= allowed
    assert not allowed & {"tests", "fixtures", "benchmarks", ".git", "deploy"}


def test_entrypoint_ignores_the_hosts_python_environment(app: Path, tmp_path: Path) -> None:
    """kustomize forwards every host variable into the container and runs it in the mounted
    kustomization: neither PYTHONPATH nor a `generator/` directory there may change what runs."""
    _, stages = dockerfile()
    (entrypoint,) = [json.loads(rest) for word, rest in stages[-1][1] if word == "ENTRYPOINT"]
    for planted in (tmp_path / "evil", app):
        (planted / "generator").mkdir(parents=True)
        (planted / "generator" / "__init__.py").write_text("raise SystemExit('planted module imported')\n")
    env = {"PATH": "/nonexistent", "PYTHONPATH": str(tmp_path / "evil"), "PYTHONSAFEPATH": ""}
    done = subprocess.run([sys.executable, *entrypoint[1:]], input=as_input(authored_config(app)), cwd=app,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [o["kind"] for o in output_list(done.stdout)["items"]] == ["Secret", "Job", "Job"]


def test_function_mode_stays_off_click_and_ruamel(installed: Path, app: Path) -> None:
    """kustomize starts the function on every build: the CLI and the error locator stay unloaded.

    (Locating a warning on stderr loads the locator: the seed's dockerizer warns, so it is left out.)
    """
    config = authored_config(app)
    config["builds"] = [b for b in config["builds"] if b["builder"] != "dockerizer"]
    done = run_fn([sys.executable, "-X", "importtime", str(installed)], as_input(config), app)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "generator" in imported and not imported & {"click", "ruamel"}


def test_config_outside_a_kustomization_is_named_functionconfig(installed: Path, app: Path) -> None:
    """kpt or a pipe: no kustomization lists the config, so results carry no file, only the field."""
    (app / "kustomization.yaml").unlink()
    config = authored_config(app)
    config["builds"][0]["connection"] = "no-such-connection"
    done = run_fn([str(installed)], as_input(config), app)
    assert done.returncode == 1
    (result,) = [r for r in output_list(done.stdout)["results"] if r["severity"] == "error"]
    assert "file" not in result and result["field"] == {"path": "builds[0].connection"}
    assert result["resourceRef"]["kind"] == "ConnectionGenerator"
    assert done.stderr.startswith("<functionConfig>: error: builds[0].connection:")


def test_container_form_needs_only_the_documented_mounts(app: Path, tmp_path: Path) -> None:
    """docs/integrations/kustomize.md §3: the container sees only its mounts, under WORKDIR /work.
    Replays that view (the mounts copied to where they land) and runs the ENTRYPOINT in it."""
    _, stages = dockerfile()
    final = stages[-1][1]
    (entrypoint,) = [json.loads(rest) for word, rest in final if word == "ENTRYPOINT"]
    (workdir,) = [rest for word, rest in final if word == "WORKDIR"]
    mounts = [{"src": "./connections.yaml", "dst": "/work/connections.yaml"}, {"src": "./creds", "dst": "/work/creds"}]
    container_root = tmp_path / "container"
    for mount in mounts:
        target = container_root / mount["dst"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (app / mount["src"]).is_dir() else shutil.copy)(app / mount["src"], target)
    cwd = container_root / workdir.lstrip("/")
    done = subprocess.run([sys.executable, *entrypoint[1:]], input=as_input(authored_config(app)), cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [o["kind"] for o in output_list(done.stdout)["items"]] == ["Secret", "Job", "Job"]

    shutil.rmtree(cwd / "creds")  # a mount left out: the error names the file it could not read
    done = subprocess.run([sys.executable, *entrypoint[1:]], input=as_input(authored_config(app)), cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "creds/username" in done.stderr
