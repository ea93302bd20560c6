"""Day two against a real API server: each render of tests/test_lifecycle.py's STEPS is applied over
the previous one with `kubectl apply --server-side`, and the API server itself judges immutability.

tests/test_lifecycle.py checks the rule in Python; here kube-apiserver (tests/support/apiserver.py,
no controllers: Jobs are stored, never run) validates every update. argocd and helm Jobs keep their
names and rely on their controller deleting a hook before creating it again (BeforeHookCreation,
before-hook-creation); that deletion is emulated with `kubectl delete` of every Job of the new render
that carries the hook-delete-policy, and only for those Jobs — without it the tag step is refused, as
it is for the old Job names (no hash) in plain mode. plain and flux get no help.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.apiserver import ApiServer, apiserver  # noqa: F401 - the fixture
from test_lifecycle import REPLACED_BY, STEPS, App, jobs_by_build, render_cli

pytestmark = pytest.mark.e2e

HOOK_MODES = {"argocd", "helm"}


def apply(server: ApiServer, namespace: str, objects: list[dict]) -> str:
    """`kubectl apply --server-side` of the objects; the API server's error text, or "" on success."""
    result = server.kubectl("apply", "--server-side", "--force-conflicts", "-n", namespace, "-f", "-",
                            stdin=yaml.safe_dump_all(objects, sort_keys=False))
    return result.stderr if result.returncode else ""


def delete_replaced_hooks(server: ApiServer, namespace: str, objects: list[dict], mode: str) -> list[str]:
    """What a hook controller does before creating a hook: delete the Job of that name if it exists."""
    key, value = REPLACED_BY[mode]
    names = [o["metadata"]["name"] for o in objects
             if o["kind"] == "Job" and (o["metadata"].get("annotations") or {}).get(key) == value]
    if names:
        result = server.kubectl("delete", "job", "-n", namespace, "--ignore-not-found", "--wait", *names)
        assert result.returncode == 0, result.stderr
    return names


def namespace(server: ApiServer, name: str) -> str:
    result = server.kubectl("create", "namespace", name)
    assert result.returncode == 0, result.stderr
    return name


def stored_jobs(server: ApiServer, ns: str) -> dict[str, str]:
    """{Job name: uid} as the API server has them."""
    result = server.kubectl("get", "jobs", "-n", ns, "-o",
                            "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}{\"\\n\"}{end}")
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.split())


@pytest.mark.parametrize("mode", ["plain", "flux", "argocd", "helm"])
def test_every_change_applies_to_a_real_api_server(tmp_path: Path, apiserver: ApiServer, mode: str) -> None:  # noqa: F811
    ns = namespace(apiserver, f"day-two-{mode}")
    app = App(tmp_path / "app", mode)
    current = render_cli(app)
    assert apply(apiserver, ns, current) == ""
    for step, rebuilt in STEPS:
        before = stored_jobs(apiserver, ns)
        step(app)
        app.write()
        current = render_cli(app)
        deleted = delete_replaced_hooks(apiserver, ns, current, mode) if mode in HOOK_MODES else []
        assert apply(apiserver, ns, current) == "", step.__name__
        after = stored_jobs(apiserver, ns)
        names = {o["metadata"]["name"] for o in current if o["kind"] == "Job"}
        assert names <= set(after), step.__name__
        # a Job neither deleted nor renamed is the same object: nothing re-runs for it
        kept = names - set(deleted)
        assert {n: after[n] for n in kept & set(before)} == {n: before[n] for n in kept & set(before)}
        if mode not in HOOK_MODES:  # a Job of a new name is a new build, only where the build changed
            builds = jobs_by_build(current)
            assert {b for b, n in builds.items() if n not in before} == rebuilt & set(builds), step.__name__


def first_refusal(server: ApiServer, ns: str, app: App, rename: bool) -> tuple[str, str]:
    """Apply the renders in order, with no help from a controller; (step, API server error) of the first refused."""
    for step in [None] + [s for s, _ in STEPS]:
        if step is not None:
            step(app)
            app.write()
        objects = render_cli(app)
        for job in (o for o in objects if o["kind"] == "Job" and rename):
            job["metadata"]["name"] = job["metadata"]["labels"]["app.kubernetes.io/instance"]
        error = apply(server, ns, objects)
        if error:
            return step.__name__ if step else "first render", error.strip()
    return "", ""


@pytest.mark.parametrize("mode, rename", [("plain", True), ("argocd", False), ("helm", False)],
                         ids=["old-names", "argocd-without-hook-deletion", "helm-without-hook-deletion"])
def test_the_api_server_refuses_a_changed_template_under_the_same_name(tmp_path: Path, apiserver: ApiServer,  # noqa: F811
                                                                       mode: str, rename: bool) -> None:
    """Jobs named by their build alone — the old names, or a hook mode without its controller — are refused
    by the API server itself at the first changed template: the tag step."""
    ns = namespace(apiserver, f"refused-{mode}")
    step, message = first_refusal(apiserver, ns, App(tmp_path / "app", mode), rename)
    assert step == "_tag", (step, message)
    assert message.startswith('The Job "trainer" is invalid: spec.template: Invalid value: '), message
    assert message.endswith(": field is immutable"), message
