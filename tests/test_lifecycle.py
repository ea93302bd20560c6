"""Day two: every change a user makes applies cleanly over the previous render.

A Job's `spec.template` is immutable. For each lifecycle mode, a sequence of user changes is
rendered (by `conngen render` and by the real `kubectl kustomize --enable-alpha-plugins`) and
each consecutive pair is checked the way the API server would: a Job name present in both
renders must have an equal pod template, unless the mode makes the Job a resource its
controller replaces (a hook with a before-creation delete policy, or Flux's force). And a
build whose inputs did not change keeps its Job: a credential rotation re-runs nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest
import yaml

from conftest import FIXTURES, REGCRED_CATALOG, assert_valid_k8s, load_stream, require_tool, run_conngen

SOPS_FIXTURE = FIXTURES / "sops-credentials"
CATALOG = REGCRED_CATALOG + """\
  - name: files
    kind: registry
    schema: {url: https://files.acme.example/ml}
    secret: {name: filecred, mountPath: /root/.docker}
  - name: sealed
    kind: registry
    schema: {url: https://registry.acme.example/sealed}
    secret: {name: acme-regcred, mountPath: /kaniko/.docker}
"""

#: what each mode marks a Job with when its controller replaces the Job instead of updating it
REPLACED_BY = {
    "argocd": ("argocd.argoproj.io/hook-delete-policy", "BeforeHookCreation"),
    "helm": ("helm.sh/hook-delete-policy", "before-hook-creation"),
    "flux": ("kustomize.toolkit.fluxcd.io/force", "enabled"),
}


def base_config(mode: str) -> dict:
    config = {
        "apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "day-two"},
        "lifecycle": mode, "catalog": ["connections.yaml"],
        "credentials": {
            "regcred": {"username": {"env": "REG_USER"}, "password": {"env": "REG_PASS"}},
            "filecred": {"username": {"file": "creds/username"}, "password": {"file": "creds/password"}},
            "acme-regcred": {"dockerConfig": {"sops": "creds/config.enc.json"}},
        },
        "builds": [
            {"name": "trainer", "connection": "reg", "image": "trainer:1.4.0",
             "context": "git://github.com/acme/trainer.git#refs/heads/main"},
            {"name": "server", "connection": "files", "builder": "dockerizer", "image": "server:2.0.0",
             "context": "git://github.com/acme/server.git#refs/heads/main"},
            {"name": "sealed", "connection": "sealed", "builder": "buildkit", "image": "sealed:1.0",
             "context": "git://github.com/acme/sealed.git#refs/heads/main"},
        ],
    }
    if mode in ("argocd", "helm"):
        config["jobDefaults"] = {"ttlSecondsAfterFinished": 3600}
    return config


class App:
    """A kustomization directory the steps edit, and the environment conngen renders it with."""

    def __init__(self, root: Path, mode: str):
        self.root = root
        root.mkdir()
        shutil.copytree(SOPS_FIXTURE / "creds", root / "creds")
        (root / "creds" / "username").write_text("bot\n")
        (root / "creds" / "password").write_text("file-pass-1\n")
        (root / "connections.yaml").write_text(CATALOG)
        (root / "kustomization.yaml").write_text("generators: [generator.yaml]\n")
        self.config = base_config(mode)
        self.env = {"REG_USER": "bot", "REG_PASS": "env-pass-1",
                    "SOPS_AGE_KEY_FILE": str(SOPS_FIXTURE / "test-only-age.key")}
        self.write()

    def write(self) -> None:
        (self.root / "generator.yaml").write_text(yaml.safe_dump(self.config, sort_keys=False))

    def build(self, name: str) -> dict:
        return next(b for b in self.config["builds"] if b["name"] == name)


def _tag(app: App) -> None:
    app.build("trainer")["image"] = "trainer:1.4.1"


def _context(app: App) -> None:
    app.build("trainer")["context"] = "git://github.com/acme/trainer.git#refs/tags/v1.4.1"


def _dockerfile(app: App) -> None:
    app.build("trainer")["dockerfile"] = "docker/Dockerfile.gpu"


def _build_arg(app: App) -> None:
    app.build("trainer")["buildArgs"] = {"CUDA": "12.4"}


def _builder_image(app: App) -> None:
    app.config["builders"] = {"buildkit": {"image": "moby/buildkit:v0.99.0-rootless"}}


def _rotate_env(app: App) -> None:
    app.env["REG_PASS"] = "env-pass-2"


def _rotate_file(app: App) -> None:
    (app.root / "creds" / "password").write_text("file-pass-2\n")


def _rotate_sops(app: App) -> None:
    """The credential now comes out of another sops-encrypted file: new Secret data, nothing else."""
    login = "creds/login.enc.yaml"
    app.config["credentials"]["acme-regcred"] = {"username": {"sops": login, "key": "username"},
                                                 "password": {"sops": login, "key": "password"}}


def _add_build(app: App) -> None:
    app.config["builds"].append({"name": "eval", "connection": "reg", "image": "eval:0.1",
                                 "context": "git://github.com/acme/eval.git#refs/heads/main"})


def _remove_build(app: App) -> None:
    app.config["builds"] = [b for b in app.config["builds"] if b["name"] != "server"]


def _mount_path(app: App) -> None:
    (app.root / "connections.yaml").write_text(CATALOG.replace("mountPath: /root/.docker", "mountPath: /etc/docker"))


#: (what the user did, the builds whose Job must be new; None: every other Job keeps its name)
STEPS: list[tuple[Callable[[App], None], set[str]]] = [
    (_tag, {"trainer"}),
    (_context, {"trainer"}),
    (_dockerfile, {"trainer"}),
    (_build_arg, {"trainer"}),
    (_builder_image, {"sealed"}),
    (_rotate_env, set()),
    (_rotate_file, set()),
    (_rotate_sops, set()),
    (_add_build, {"eval"}),
    (_remove_build, set()),
    (_mount_path, {"server"}),
]


def immutability_violations(before: list[dict], after: list[dict], mode: str) -> list[str]:
    """What the API server would refuse when `after` is applied over `before`."""
    old = {o["metadata"]["name"]: o for o in before if o["kind"] == "Job"}
    problems = []
    for job in (o for o in after if o["kind"] == "Job"):
        name = job["metadata"]["name"]
        if name not in old or job["spec"]["template"] == old[name]["spec"]["template"]:
            continue
        key, value = REPLACED_BY.get(mode, (None, None))
        if key is not None and (job["metadata"].get("annotations") or {}).get(key) == value:
            continue  # the controller deletes and re-creates it
        problems.append(f"Job {name}: spec.template changed under the same name (field is immutable)")
    return problems


def jobs_by_build(objects: list[dict]) -> dict[str, str]:
    return {o["metadata"]["labels"]["app.kubernetes.io/instance"]: o["metadata"]["name"]
            for o in objects if o["kind"] == "Job"}


def render_cli(app: App) -> list[dict]:
    result = run_conngen("render", str(app.root / "generator.yaml"), env=app.env)
    assert result.returncode == 0, result.stderr
    return load_stream(result.stdout)


def render_kustomize(app: App, plugin_env: dict) -> list[dict]:
    result = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(app.root)],
                            env={**os.environ, **plugin_env, **app.env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return load_stream(result.stdout)


def walk(app: App, render: Callable[[App], list[dict]], mode: str) -> None:
    previous = render(app)
    assert_valid_k8s(previous)
    for step, rebuilt in STEPS:
        step(app)
        app.write()
        current = render(app)
        assert immutability_violations(previous, current, mode) == [], step.__name__
        before, after = jobs_by_build(previous), jobs_by_build(current)
        for build in set(before) & set(after):
            changed = before[build] != after[build]
            hashed = mode in ("plain", "flux")
            assert changed == (hashed and build in rebuilt), f"{step.__name__}: Job of {build}"
        assert set(after) - set(before) == rebuilt & {"eval"}, step.__name__
        previous = current


@pytest.mark.parametrize("mode", ["plain", "argocd", "helm", "flux"])
def test_every_change_applies_over_the_previous_conngen_render(tmp_path: Path, mode: str) -> None:
    app = App(tmp_path / "app", mode)
    walk(app, render_cli, mode)


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["plain", "argocd"])
def test_every_change_applies_over_the_previous_kustomize_build(tmp_path: Path, plugin_home: dict, mode: str) -> None:
    app = App(tmp_path / "app", mode)
    walk(app, lambda a: render_kustomize(a, plugin_home), mode)


def test_the_check_catches_the_old_behaviour(tmp_path: Path) -> None:
    """Names without a hash (as before lifecycle modes) fail the check on a tag change."""
    app = App(tmp_path / "app", "plain")
    before = render_cli(app)
    _tag(app)
    app.write()
    after = render_cli(app)
    for objects in (before, after):
        for job in (o for o in objects if o["kind"] == "Job"):
            job["metadata"]["name"] = job["metadata"]["labels"]["app.kubernetes.io/instance"]
    assert immutability_violations(before, after, "plain") == [
        "Job trainer: spec.template changed under the same name (field is immutable)"]


def test_rotation_keeps_secret_names_so_no_job_changes_under_kustomize(tmp_path: Path, plugin_home: dict) -> None:
    """A Secret a Job mounts is not hashed by kustomize: its data changes in place, the Job stays."""
    app = App(tmp_path / "app", "plain")
    before = render_kustomize(app, plugin_home)
    _rotate_env(app)
    after = render_kustomize(app, plugin_home)
    secrets = lambda objects: {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "Secret"}  # noqa: E731
    assert set(secrets(before)) == set(secrets(after)) == {"regcred", "filecred", "acme-regcred"}
    assert secrets(before)["regcred"] != secrets(after)["regcred"]
    assert [o for o in before if o["kind"] == "Job"] == [o for o in after if o["kind"] == "Job"]


@pytest.mark.parametrize("mode, ttl, ok", [("plain", 60, False), ("flux", 60, False), ("argocd", 60, True),
                                          ("helm", 60, True), ("plain", None, True)])
def test_a_ttl_is_refused_where_a_controller_would_recreate_the_job(tmp_path: Path, mode: str, ttl: int | None,
                                                                    ok: bool) -> None:
    app = App(tmp_path / "app", mode)
    app.config["jobDefaults"] = {"ttlSecondsAfterFinished": ttl} if ttl is not None else {}
    app.write()
    result = run_conngen("render", str(app.root / "generator.yaml"), env=app.env)
    assert (result.returncode == 0) == ok, result.stderr
    if not ok:
        assert "generator.yaml:" in result.stderr and "jobDefaults.ttlSecondsAfterFinished" in result.stderr
        assert "builds again" in result.stderr and "hint:" in result.stderr


def test_mutable_job_fields_update_the_job_in_place(tmp_path: Path) -> None:
    """backoffLimit and activeDeadlineSeconds may change on a live Job: no new name, no new build."""
    app = App(tmp_path / "app", "plain")
    before = jobs_by_build(render_cli(app))
    app.config["jobDefaults"] = {"backoffLimit": 3, "activeDeadlineSeconds": 7200}
    app.write()
    assert jobs_by_build(render_cli(app)) == before


def test_a_changed_template_names_new_jobs(tmp_path: Path) -> None:
    """The pod template is made by the template too: an override that changes it is a new Job."""
    app = App(tmp_path / "app", "plain")
    before = jobs_by_build(render_cli(app))
    override = app.root / "templates"
    override.mkdir()
    builtin = Path(__file__).resolve().parent.parent / "templates"
    source = (builtin / "kaniko.yaml.j2").read_text()
    text = source.replace("- --digest-file=/dev/termination-log\n", "- --digest-file=/dev/termination-log\n        - -v=debug\n")
    assert text != source
    (override / "kaniko.yaml.j2").write_text(text)
    app.config["templates"] = "templates"
    app.write()
    after = jobs_by_build(render_cli(app))
    assert after["trainer"] != before["trainer"]
    assert after["server"] == before["server"] and after["sealed"] == before["sealed"]
