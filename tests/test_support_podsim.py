"""Prove the pod simulator applies the kubelet's rules, on hand-written manifests only."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from support.podsim import (
    InvalidSpecError,
    MissingReferenceError,
    PodSimError,
    expand,
    load_manifests,
    simulate_pod,
)

KANIKO_IMAGE_ENV = {
    "PATH": "/usr/local/bin:/kaniko",
    "HOME": "/root",
    "USER": "root",
    "DOCKER_CONFIG": "/kaniko/.docker/",
    "SSL_CERT_DIR": "/kaniko/ssl/certs",
}

DOCKER_CONFIG_JSON = json.dumps(
    {"auths": {"registry.example.com:5000": {"username": "u", "password": "p", "auth": "dTpw"}}}
)
B64_CONFIG = base64.b64encode(DOCKER_CONFIG_JSON.encode()).decode()

# Shaped like kaniko's examples/pod.yaml, as a Job, plus the Secret kubectl would create.
KANIKO_JOB = f"""
apiVersion: batch/v1
kind: Job
metadata:
  name: build-app
  namespace: ci
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {{app: build}}
    spec:
      restartPolicy: Never
      containers:
        - name: kaniko
          image: gcr.io/kaniko-project/executor:v1.24.0
          args:
            - --dockerfile=Dockerfile
            - --context=dir:///workspace
            - --destination=$(REGISTRY)/org/app:$(TAG)
          env:
            - name: REGISTRY
              value: registry.example.com:5000
            - name: TAG
              value: v1
          volumeMounts:
            - name: kaniko-secret
              mountPath: /kaniko/.docker
              readOnly: true
      volumes:
        - name: kaniko-secret
          secret:
            secretName: regcred
            items:
              - key: .dockerconfigjson
                path: config.json
---
apiVersion: v1
kind: Secret
metadata:
  name: regcred
  namespace: ci
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {B64_CONFIG}
"""


def _job(containers, volumes=(), init_containers=(), namespace=None, security_context=None):
    spec = {"restartPolicy": "Never", "containers": list(containers), "volumes": list(volumes)}
    if init_containers:
        spec["initContainers"] = list(init_containers)
    if security_context:
        spec["securityContext"] = security_context
    meta = {"name": "job"}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": {"spec": spec}}}


def _secret(name, data=None, string_data=None, namespace=None, type_="Opaque"):
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": type_}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    if data is not None:
        obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def _configmap(name, data=None, binary=None):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if data is not None:
        obj["data"] = data
    if binary is not None:
        obj["binaryData"] = {k: base64.b64encode(v).decode() for k, v in binary.items()}
    return obj


# ---------------------------------------------------------------------------------------------
# the kaniko recipe


def test_kaniko_secret_lands_where_kaniko_reads_it(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    view = simulate_pod(job, [secret], tmp_path, image_env=KANIKO_IMAGE_ENV)

    path = view.env["DOCKER_CONFIG"].rstrip("/") + "/config.json"
    assert path == "/kaniko/.docker/config.json"
    assert view.host_path(path) == tmp_path / "kaniko" / ".docker" / "config.json"
    assert view.read_text(path) == DOCKER_CONFIG_JSON
    assert view.read_json(path)["auths"]["registry.example.com:5000"]["auth"] == "dTpw"
    assert view.mode(path) == 0o644
    assert sorted(os.listdir(view.host_path("/kaniko/.docker"))) == ["config.json"]
    mount = view.mount_for(path)
    assert mount is not None and mount.read_only and mount.source == "secret:regcred"
    assert view.args == [
        "--dockerfile=Dockerfile",
        "--context=dir:///workspace",
        "--destination=registry.example.com:5000/org/app:v1",
    ]
    assert view.command is None
    assert view.argv(image_entrypoint=["/kaniko/executor"])[0] == "/kaniko/executor"
    assert view.env["HOME"] == "/root"  # image default kept


def test_without_items_the_file_keeps_the_key_name(tmp_path):
    """The classic mistake: no items mapping gives /kaniko/.docker/.dockerconfigjson, not config.json."""
    job, secret = load_manifests(KANIKO_JOB)
    del job["spec"]["template"]["spec"]["volumes"][0]["secret"]["items"]
    view = simulate_pod(job, [secret], tmp_path, image_env=KANIKO_IMAGE_ENV)
    assert view.exists("/kaniko/.docker/.dockerconfigjson")
    assert not view.exists("/kaniko/.docker/config.json")


def test_default_mode_and_item_mode_become_file_permissions(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    vol = job["spec"]["template"]["spec"]["volumes"][0]["secret"]
    vol["defaultMode"] = 0o400
    vol["items"].append({"key": ".dockerconfigjson", "path": "copy/config.json", "mode": 0o440})
    view = simulate_pod(job, [secret], tmp_path)
    assert view.mode("/kaniko/.docker/config.json") == 0o400
    assert view.mode("/kaniko/.docker/copy/config.json") == 0o440
    assert stat.S_ISDIR(os.stat(view.host_path("/kaniko/.docker/copy")).st_mode)


def test_yaml_octal_default_mode_is_read_as_octal(tmp_path):
    text = KANIKO_JOB.replace("secretName: regcred", "secretName: regcred\n            defaultMode: 0400")
    job, secret = load_manifests(text)
    assert simulate_pod(job, [secret], tmp_path).mode("/kaniko/.docker/config.json") == 0o400


def test_fs_group_adds_group_read(tmp_path):
    job = _job(
        [{"name": "c", "volumeMounts": [{"name": "s", "mountPath": "/home/user/.docker"}]}],
        [{"name": "s", "secret": {"secretName": "x", "defaultMode": 0o400}}],
        security_context={"fsGroup": 1000, "runAsUser": 1000},
    )
    view = simulate_pod(job, [_secret("x", {"config.json": "{}"})], tmp_path)
    assert view.mode("/home/user/.docker/config.json") == 0o440
    if os.geteuid() == 0:
        assert view.host_path("/home/user/.docker/config.json").stat().st_gid == 1000


def test_invalid_mode_rejected(tmp_path):
    job = _job(
        [{"name": "c", "volumeMounts": [{"name": "s", "mountPath": "/s"}]}],
        [{"name": "s", "secret": {"secretName": "x", "defaultMode": 0o1777}}],
    )
    with pytest.raises(InvalidSpecError, match="mode"):
        simulate_pod(job, [_secret("x", {"k": "v"})], tmp_path)


# ---------------------------------------------------------------------------------------------
# environment


def test_env_precedence_image_then_envfrom_then_env(tmp_path):
    container = {
        "name": "c",
        "envFrom": [
            {"configMapRef": {"name": "settings"}},
            {"secretRef": {"name": "creds"}, "prefix": "REG_"},
            {"configMapRef": {"name": "late"}},
        ],
        "env": [
            {"name": "DOCKER_CONFIG", "value": "/workspace/.docker"},
            {"name": "MODE", "value": "from-env-1"},
            {"name": "MODE", "value": "from-env-2"},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "USER"}}},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "LEVEL"}}},
        ],
    }
    objects = [
        _configmap("settings", {"MODE": "from-configmap", "LEVEL": "debug", "SHARED": "first"}),
        _secret("creds", {"USER": "alice", "PASSWORD": "pw"}),
        _configmap("late", {"SHARED": "second"}),
    ]
    view = simulate_pod(_job([container]), objects, tmp_path, image_env={"DOCKER_CONFIG": "/kaniko/.docker/", "HOME": "/root"})
    assert view.env["DOCKER_CONFIG"] == "/workspace/.docker"  # env beats image
    assert view.env["HOME"] == "/root"  # image default survives
    assert view.env["MODE"] == "from-env-2"  # env beats envFrom, last env wins
    assert view.env["LEVEL"] == "debug"
    assert view.env["SHARED"] == "second"  # later envFrom beats earlier
    assert view.env["REG_USER"] == "alice" and view.env["REG_PASSWORD"] == "pw"
    assert "USER" not in view.env  # only with the prefix
    assert view.env["FROM_SECRET"] == "alice"
    assert view.env["FROM_CM"] == "debug"
    assert "HOME" not in view.spec_env


def test_dollar_var_expansion_uses_only_spec_variables(tmp_path):
    container = {
        "name": "c",
        "command": ["/bin/sh", "-c", "echo $(GREETING) $$(GREETING) $(UNKNOWN) $HOME"],
        "args": ["--config=$(DOCKER_CONFIG)/config.json", "--home=$(HOME)"],
        "envFrom": [{"configMapRef": {"name": "cm"}}],
        "env": [
            {"name": "BASE", "value": "/kaniko"},
            {"name": "DOCKER_CONFIG", "value": "$(BASE)/.docker"},
            {"name": "FROM_CM", "value": "cm-said-$(CM_VALUE)"},
            {"name": "HOME_DOCKER", "value": "$(HOME)/.docker"},
            {"name": "LATER_REF", "value": "$(DEFINED_LATER)"},
            {"name": "DEFINED_LATER", "value": "x"},
            {"name": "GREETING", "value": "hi"},
            {"name": "RAW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "v"}}},
        ],
    }
    objects = [_configmap("cm", {"CM_VALUE": "yes"}), _secret("s", {"v": "$(BASE)"})]
    view = simulate_pod(_job([container]), objects, tmp_path, image_env={"HOME": "/root"})
    assert view.env["DOCKER_CONFIG"] == "/kaniko/.docker"
    assert view.env["FROM_CM"] == "cm-said-yes"
    assert view.env["HOME_DOCKER"] == "$(HOME)/.docker"  # HOME is the image's: Kubernetes can't see it
    assert view.env["LATER_REF"] == "$(DEFINED_LATER)"  # only earlier variables are visible
    assert view.env["RAW"] == "$(BASE)"  # valueFrom is never expanded
    assert view.command == ["/bin/sh", "-c", "echo hi $(GREETING) $(UNKNOWN) $HOME"]
    assert view.args == ["--config=/kaniko/.docker/config.json", "--home=$(HOME)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "1"),
        ("x$(A)y$(B)z", "x1y2z"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("$(MISSING)", "$(MISSING)"),
        ("$(A", "$(A"),
        ("$A", "$A"),
        ("cost: 5$", "cost: 5$"),
        ("$()", "$()"),
        ("", ""),
    ],
)
def test_expand_matches_kubernetes_rules(text, expected):
    assert expand(text, {"A": "1", "B": "2"}) == expected


def test_fieldref_env(tmp_path):
    container = {
        "name": "c",
        "env": [
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
    }
    view = simulate_pod(_job([container], namespace="builds"), [], tmp_path, field_values={"metadata.name": "job-abc12"})
    assert view.env == {"NS": "builds", "POD": "job-abc12"}


def test_envfrom_names_relaxed_by_default_strict_on_request(tmp_path):
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}]}
    objects = [_configmap("cm", {"GOOD": "1", "1ABC": "2", ".dockerconfigjson": "3"})]
    relaxed = simulate_pod(_job([container]), objects, tmp_path / "a")
    assert relaxed.env == {"GOOD": "1", "1ABC": "2", ".dockerconfigjson": "3"}
    assert relaxed.warnings == []
    strict = simulate_pod(_job([container]), objects, tmp_path / "b", strict_env_names=True)
    assert strict.env == {"GOOD": "1", ".dockerconfigjson": "3"}
    assert any("1ABC" in w for w in strict.warnings)


def test_invalid_configmap_key_rejected(tmp_path):
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}]}
    with pytest.raises(InvalidSpecError, match="invalid key 'a=b'"):
        simulate_pod(_job([container]), [_configmap("cm", {"a=b": "2"})], tmp_path)


# ---------------------------------------------------------------------------------------------
# missing references


def test_missing_secret_volume_raises(tmp_path):
    job, _ = load_manifests(KANIKO_JOB)
    with pytest.raises(MissingReferenceError, match='secret "regcred" not found'):
        simulate_pod(job, [], tmp_path)


def test_secret_in_another_namespace_is_not_found(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    secret["metadata"]["namespace"] = "other"
    with pytest.raises(MissingReferenceError, match="regcred"):
        simulate_pod(job, [secret], tmp_path)


def test_optional_missing_secret_gives_empty_dir(tmp_path):
    job, _ = load_manifests(KANIKO_JOB)
    job["spec"]["template"]["spec"]["volumes"][0]["secret"]["optional"] = True
    view = simulate_pod(job, [], tmp_path)
    assert view.host_path("/kaniko/.docker").is_dir()
    assert os.listdir(view.host_path("/kaniko/.docker")) == []


def test_missing_item_key_raises_unless_optional(tmp_path):
    job, _ = load_manifests(KANIKO_JOB)
    wrong = _secret("regcred", {"config.json": DOCKER_CONFIG_JSON}, namespace="ci")
    with pytest.raises(MissingReferenceError, match="non-existent key '.dockerconfigjson'"):
        simulate_pod(job, [wrong], tmp_path / "a")
    job["spec"]["template"]["spec"]["volumes"][0]["secret"]["optional"] = True
    view = simulate_pod(job, [wrong], tmp_path / "b")
    assert not view.exists("/kaniko/.docker/config.json")


@pytest.mark.parametrize(
    ("env_item", "message"),
    [
        ({"valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}, 'secret "nope" not found'),
        ({"valueFrom": {"secretKeyRef": {"name": "s", "key": "missing"}}}, "couldn't find key missing in Secret default/s"),
        ({"valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}, 'configmap "nope" not found'),
    ],
)
def test_missing_env_references_raise(tmp_path, env_item, message):
    container = {"name": "c", "env": [{"name": "X", **env_item}]}
    with pytest.raises(MissingReferenceError, match=message):
        simulate_pod(_job([container]), [_secret("s", {"k": "v"})], tmp_path)


def test_optional_env_references_leave_variable_unset(tmp_path):
    container = {
        "name": "c",
        "envFrom": [{"secretRef": {"name": "nope", "optional": True}}],
        "env": [
            {"name": "A", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}}},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "zz", "optional": True}}},
        ],
    }
    assert simulate_pod(_job([container]), [_secret("s", {"k": "v"})], tmp_path).env == {}


def test_missing_envfrom_secret_raises(tmp_path):
    container = {"name": "c", "envFrom": [{"secretRef": {"name": "creds"}}]}
    with pytest.raises(MissingReferenceError, match='secret "creds" not found'):
        simulate_pod(_job([container]), [], tmp_path)


# ---------------------------------------------------------------------------------------------
# mounts


def test_subpath_mounts_one_file(tmp_path):
    container = {
        "name": "buildah",
        "volumeMounts": [
            {"name": "cred", "mountPath": "/root/.docker/config.json", "subPath": "config.json", "readOnly": True},
            {"name": "cred", "mountPath": "/etc/extra", "subPath": "nested"},
        ],
    }
    volumes = [{
        "name": "cred",
        "secret": {
            "secretName": "s",
            "items": [
                {"key": ".dockerconfigjson", "path": "config.json"},
                {"key": "other", "path": "nested/other.txt"},
            ],
        },
    }]
    s = _secret("s", {".dockerconfigjson": DOCKER_CONFIG_JSON, "other": "o"})
    view = simulate_pod(_job([container], volumes), [s], tmp_path)
    assert view.host_path("/root/.docker/config.json").is_file()
    assert view.read_text("/root/.docker/config.json") == DOCKER_CONFIG_JSON
    assert sorted(os.listdir(view.host_path("/root/.docker"))) == ["config.json"]
    assert view.read_text("/etc/extra/other.txt") == "o"
    m = view.mount_for("/root/.docker/config.json")
    assert m.sub_path == "config.json" and m.read_only


def test_subpath_missing_from_volume_becomes_directory(tmp_path):
    """A subPath typo gives a directory where the file should be: 'config.json: is a directory'."""
    container = {"name": "c", "volumeMounts": [{"name": "cred", "mountPath": "/kaniko/.docker/config.json", "subPath": "config.json"}]}
    volumes = [{"name": "cred", "secret": {"secretName": "s"}}]
    view = simulate_pod(_job([container], volumes), [_secret("s", {".dockerconfigjson": "{}"})], tmp_path)
    assert view.host_path("/kaniko/.docker/config.json").is_dir()
    assert any("subPath 'config.json' does not exist" in w for w in view.warnings)


def test_subpath_expr_uses_container_env(tmp_path):
    container = {
        "name": "c",
        "env": [{"name": "WHICH", "value": "b.txt"}],
        "volumeMounts": [{"name": "cm", "mountPath": "/conf/picked", "subPathExpr": "$(WHICH)"}],
    }
    volumes = [{"name": "cm", "configMap": {"name": "cm"}}]
    view = simulate_pod(_job([container], volumes), [_configmap("cm", {"a.txt": "A", "b.txt": "B"})], tmp_path)
    assert view.read_text("/conf/picked") == "B"


def test_nested_mounts_shadow_parent(tmp_path):
    container = {
        "name": "c",
        "volumeMounts": [
            {"name": "cred", "mountPath": "/kaniko/.docker"},
            {"name": "scratch", "mountPath": "/kaniko"},
            {"name": "ca", "mountPath": "/kaniko/ssl/certs"},
        ],
    }
    volumes = [
        {"name": "scratch", "emptyDir": {}},
        {"name": "cred", "secret": {"secretName": "s", "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}},
        {"name": "ca", "configMap": {"name": "ca", "items": [{"key": "ca.crt", "path": "registry.crt"}]}},
    ]
    objects = [_secret("s", {".dockerconfigjson": "{}"}), _configmap("ca", {"ca.crt": "PEM"})]
    view = simulate_pod(_job([container], volumes), objects, tmp_path)
    assert view.read_text("/kaniko/.docker/config.json") == "{}"
    assert view.read_text("/kaniko/ssl/certs/registry.crt") == "PEM"
    assert [m.mount_path for m in view.mounts] == ["/kaniko/.docker", "/kaniko", "/kaniko/ssl/certs"]
    assert view.mount_for("/kaniko/.docker/config.json").volume == "cred"
    assert view.mount_for("/kaniko/Dockerfile").volume == "scratch"
    assert view.mount_for("/etc/passwd") is None


def test_projected_volume_and_string_data_and_binary_data(tmp_path):
    container = {"name": "c", "volumeMounts": [{"name": "all", "mountPath": "/home/user/.docker"}]}
    volumes = [{
        "name": "all",
        "projected": {
            "defaultMode": 0o440,
            "sources": [
                {"secret": {"name": "s", "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}},
                {"configMap": {"name": "cm"}},
                {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            ],
        },
    }]
    s = _secret("s", {".dockerconfigjson": "old"}, string_data={".dockerconfigjson": DOCKER_CONFIG_JSON})
    cm = _configmap("cm", {"buildkitd.toml": "[registry]\n"}, binary={"blob.bin": b"\x00\x01"})
    job = _job([container], volumes)
    job["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    view = simulate_pod(job, [s, cm], tmp_path)
    assert view.read_text("/home/user/.docker/config.json") == DOCKER_CONFIG_JSON  # stringData wins
    assert view.read_text("/home/user/.docker/buildkitd.toml") == "[registry]\n"
    assert view.read_bytes("/home/user/.docker/blob.bin") == b"\x00\x01"
    assert view.read_text("/home/user/.docker/labels") == 'app="x"\n'
    assert view.mode("/home/user/.docker/config.json") == 0o440


def test_projected_conflicting_paths_rejected(tmp_path):
    container = {"name": "c", "volumeMounts": [{"name": "p", "mountPath": "/p"}]}
    volumes = [{"name": "p", "projected": {"sources": [{"secret": {"name": "a"}}, {"configMap": {"name": "b"}}]}}]
    with pytest.raises(InvalidSpecError, match="conflicting"):
        simulate_pod(_job([container], volumes), [_secret("a", {"k": "1"}), _configmap("b", {"k": "2"})], tmp_path)


@pytest.mark.parametrize("kind", ["secret", "configMap"])
def test_projected_missing_sources_fail_unless_optional(tmp_path, kind):
    container = {"name": "c", "volumeMounts": [{"name": "p", "mountPath": "/p"}]}
    required = [{"name": "p", "projected": {"sources": [{kind: {"name": "gone"}}]}}]
    with pytest.raises(MissingReferenceError, match=f'{kind.lower()} "gone" not found'):
        simulate_pod(_job([container], required), [], tmp_path / "a")
    optional = [{"name": "p", "projected": {"sources": [{kind: {"name": "gone", "optional": True}},
                                                        {"secret": {"name": "s"}}]}}]
    view = simulate_pod(_job([container], optional), [_secret("s", {"k": "1"})], tmp_path / "b")
    assert view.read_bytes("/p/k") == b"1"


@pytest.mark.parametrize(
    ("mount", "message"),
    [
        ({"name": "s", "mountPath": "kaniko/.docker"}, "not absolute"),
        ({"name": "nope", "mountPath": "/x"}, "not found in pod volumes"),
        ({"name": "s", "mountPath": "/x", "subPath": "../etc"}, "must not contain '..'"),
    ],
)
def test_invalid_mounts_rejected(tmp_path, mount, message):
    job = _job([{"name": "c", "volumeMounts": [mount]}], [{"name": "s", "secret": {"secretName": "s"}}])
    with pytest.raises(InvalidSpecError, match=message):
        simulate_pod(job, [_secret("s", {"k": "v"})], tmp_path)


def test_dockerconfigjson_secret_must_hold_json(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    secret["data"][".dockerconfigjson"] = base64.b64encode(b"not json").decode()
    with pytest.raises(InvalidSpecError, match="not valid JSON"):
        simulate_pod(job, [secret], tmp_path)


# ---------------------------------------------------------------------------------------------
# container selection and kinds


def test_init_container_selected_by_name(tmp_path):
    job = _job(
        [{"name": "main", "env": [{"name": "WHO", "value": "main"}]},
         {"name": "side", "env": [{"name": "WHO", "value": "side"}]}],
        init_containers=[{
            "name": "prepare",
            "command": ["sh", "-c", "cp $(SRC) /workspace"],
            "env": [{"name": "SRC", "value": "/src"}],
            "volumeMounts": [{"name": "ws", "mountPath": "/workspace"}],
        }],
        volumes=[{"name": "ws", "emptyDir": {}}],
    )
    init = simulate_pod(job, [], tmp_path / "init", "prepare")
    assert init.init and init.command == ["sh", "-c", "cp /src /workspace"]
    assert init.host_path("/workspace").is_dir()
    assert simulate_pod(job, [], tmp_path / "side", "side").env == {"WHO": "side"}
    with pytest.raises(PodSimError, match="pass a container name"):
        simulate_pod(job, [], tmp_path / "x")
    with pytest.raises(PodSimError, match="no container 'ghost'"):
        simulate_pod(job, [], tmp_path / "y", "ghost")


def test_pod_and_cronjob_kinds(tmp_path):
    pod_spec = {"containers": [{"name": "c", "env": [{"name": "K", "value": "v"}]}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": pod_spec}
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "cj"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
    }
    assert simulate_pod(pod, [], tmp_path / "p").env == {"K": "v"}
    assert simulate_pod(cron, [], tmp_path / "c").env == {"K": "v"}
    with pytest.raises(InvalidSpecError, match="pod template"):
        simulate_pod({"kind": "Secret"}, [], tmp_path / "s")


def test_objects_may_be_a_list_and_other_kinds_are_ignored(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    bundle = {"apiVersion": "v1", "kind": "List", "items": [secret, {"kind": "ServiceAccount", "metadata": {"name": "sa"}}]}
    view = simulate_pod(job, [bundle, job], tmp_path)
    assert view.exists("/kaniko/.docker/config.json")


def test_host_path_rejects_relative_and_normalises(tmp_path):
    job, secret = load_manifests(KANIKO_JOB)
    view = simulate_pod(job, [secret], tmp_path)
    assert view.host_path("/kaniko/./.docker//config.json") == view.host_path("/kaniko/.docker/config.json")
    assert view.host_path("/../../etc") == tmp_path / "etc"
    with pytest.raises(ValueError):
        view.host_path("kaniko/.docker")
