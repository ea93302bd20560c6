"""The pod runner applies the kubelet's rules in real containers, on a hand-written Job.

The builder e2e tests trust the runner to fail where a pod would; this shows it does: modes and
fsGroup as the process sees them, subPath, projected sources, env from Secrets and `$(VAR)`, an
emptyDir shared with an init container, exit codes and termination messages, and refusals of what
it cannot emulate.
"""

from __future__ import annotations

import base64
import shutil

import pytest

from support.builder_images import ensure_image
from support.podrunner import NotEmulated, run_pod

pytestmark = pytest.mark.e2e

IMAGE = "conngen-test/runner-probe:v1"  # the buildah image: Debian with sh, stat and id


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
          "data": {"a": b64("alpha"), "b": b64("beta"), "token": b64("t0k3n")}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "from-cm"}}

SCRIPT = """
set -u
stat -c '%a %u %g' /s/dir/a.txt
cat /s/dir/a.txt; echo
stat -c '%a' /b.txt
cat /b.txt; echo
cat /p/a /p/k; echo
cat /shared/from-init
echo "groups: $(id -u) $(id -G)"
echo "token=$TOKEN greeting=$1"
echo done > /dev/termination-log
exit 3
"""


def job(**pod_overrides) -> dict:
    spec = {
        "restartPolicy": "Never",
        "securityContext": {"fsGroup": 2000},
        "initContainers": [{"name": "init", "image": IMAGE, "command": ["sh", "-c", "echo from-init > /shared/from-init"],
                            "volumeMounts": [{"name": "shared", "mountPath": "/shared"}]}],
        "containers": [{
            "name": "main", "image": IMAGE, "command": ["sh", "-c", SCRIPT, "sh"], "args": ["$(GREETING)"],
            "env": [{"name": "GREETING", "value": "hi"},
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}],
            "securityContext": {"runAsUser": 1000, "runAsGroup": 1000},
            "volumeMounts": [{"name": "sec", "mountPath": "/s"}, {"name": "sec", "mountPath": "/b.txt", "subPath": "b"},
                             {"name": "proj", "mountPath": "/p"}, {"name": "shared", "mountPath": "/shared"}],
        }],
        "volumes": [
            {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400,
                                       "items": [{"key": "a", "path": "dir/a.txt", "mode": 0o400}, {"key": "b", "path": "b"}]}},
            {"name": "proj", "projected": {"sources": [{"secret": {"name": "s", "items": [{"key": "a", "path": "a"}]}},
                                                       {"configMap": {"name": "c"}}]}},
            {"name": "shared", "emptyDir": {}},
        ],
        **pod_overrides,
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "probe"}, "spec": {"template": {"spec": spec}}}


@pytest.fixture
def probe_image(engine) -> None:
    ensure_image(engine, "buildah", IMAGE)


def test_kubelet_rules_hold_inside_the_container(engine, probe_image, tmp_path):
    pod = run_pod(engine, job(), [SECRET, CONFIG_MAP], tmp_path / "pod")
    try:
        assert [r.name for r in pod.runs] == ["init", "main"] and pod.runs[0].rc == 0, pod.describe()
        main = pod.main
        assert (main.rc, main.reason, main.termination_message) == (3, "Error", "done\n"), pod.describe()
        lines = main.stdout.splitlines()
        assert lines[:2] == ["440 0 2000", "alpha"]  # root-owned, fsGroup's group, 0400 + group read
        assert lines[2:4] == ["440", "beta"]  # subPath of a key: the defaultMode, fsGroup read
        assert lines[4:6] == ["alphafrom-cm", "from-init"]
        assert lines[6] == "groups: 1000 1000 2000"  # runAsUser/runAsGroup, fsGroup supplementary
        assert lines[7] == "token=t0k3n greeting=hi"  # env from a Secret, $(VAR) in args
    finally:
        shutil.rmtree(tmp_path / "pod", ignore_errors=True)


def test_without_fs_group_a_0400_file_is_unreadable_to_a_non_root_user(engine, probe_image, tmp_path):
    spec = job(securityContext={})["spec"]["template"]["spec"]
    spec["containers"][0]["command"] = ["sh", "-c", "cat /s/dir/a.txt"]
    pod = run_pod(engine, job(securityContext={}, containers=spec["containers"]), [SECRET, CONFIG_MAP], tmp_path / "p")
    assert pod.main.rc != 0 and "Permission denied" in pod.main.stderr, pod.describe()


def test_a_missing_program_is_a_start_error(engine, probe_image, tmp_path):
    spec = job()["spec"]["template"]["spec"]
    spec["containers"][0]["command"] = ["/nonexistent/program"]
    pod = run_pod(engine, job(containers=spec["containers"]), [SECRET, CONFIG_MAP], tmp_path / "p")
    assert pod.main.reason == "StartError" and "/nonexistent/program" in pod.main.out, pod.describe()


def test_a_failing_init_container_stops_the_pod(engine, probe_image, tmp_path):
    init = [{"name": "init", "image": IMAGE, "command": ["sh", "-c", "exit 7"]}]
    pod = run_pod(engine, job(initContainers=init), [SECRET, CONFIG_MAP], tmp_path / "p")
    assert [(r.name, r.rc) for r in pod.runs] == [("init", 7)] and not pod.succeeded


def test_missing_secret_and_run_as_non_root_fail_before_start(engine, probe_image, tmp_path):
    pod = run_pod(engine, job(), [CONFIG_MAP], tmp_path / "p")
    assert pod.runs[0].reason == "Completed" and pod.main.reason == "CreateContainerConfigError", pod.describe()
    spec = job()["spec"]["template"]["spec"]
    spec["containers"][0]["securityContext"] = {"runAsUser": 0, "runAsNonRoot": True}
    pod = run_pod(engine, job(containers=spec["containers"]), [SECRET, CONFIG_MAP], tmp_path / "q")
    assert "runAsNonRoot" in pod.main.stderr and pod.main.reason == "CreateContainerConfigError"


@pytest.mark.parametrize("override", [
    {"restartPolicy": "OnFailure"},
    {"volumes": [{"name": "shared", "persistentVolumeClaim": {"claimName": "x"}}]},
    {"hostPID": True},
])
def test_what_it_cannot_emulate_is_refused(engine, probe_image, tmp_path, override):
    with pytest.raises(NotEmulated):
        spec = job(**override)
        if "volumes" in override:
            spec["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "shared", "mountPath": "/x"}]
            spec["spec"]["template"]["spec"]["initContainers"] = []
        run_pod(engine, spec, [SECRET, CONFIG_MAP], tmp_path / "p")
