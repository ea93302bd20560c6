"""A pod simulator: what files and environment would a container of this manifest really see?

Why: a rendered Job can look right and still hand the builder nothing — a Secret mounted one
directory off, a key projected under its own name (`.dockerconfigjson`) instead of `config.json`,
`DOCKER_CONFIG` pointing at a file, `$(HOME)` that Kubernetes never expands because HOME comes from
the image. This module applies the kubelet's rules to plain dicts and lays the result out under a
root directory, so a test can open `/kaniko/.docker/config.json` as the container would.

It knows nothing about conngen: input is Kubernetes manifests only. Rules it follows:

* volumes: `secret`, `configMap`, `projected` (secret, configMap, downwardAPI, serviceAccountToken
  sources) and `downwardAPI`; `items` key->path, `mode`/`defaultMode` (default 0644) as file
  permissions, `optional`; pod `securityContext.fsGroup` adds group read (0440) as the kubelet does
  for these read-only volumes; `emptyDir` and every other type become an empty directory.
* mounts: at `mountPath`, deepest last so nested mounts shadow their parents; `subPath` /
  `subPathExpr` (a subPath missing from the volume becomes an empty directory, as kubelet creates it,
  and a warning is recorded); `readOnly` is recorded, not enforced.
* environment: image defaults (`image_env`) < `envFrom` (in order, with `prefix`) < `env` (in order);
  `$(VAR)` in `env[].value`, `command`, `args` and `subPathExpr` is expanded only from variables the
  pod spec defines (never from the image), `$$` escapes, unknown references stay as written.
* errors: a missing non-optional Secret/ConfigMap/key raises `MissingReferenceError` with the
  kubelet's wording (the container would stay in CreateContainerConfigError); invalid specs that the
  API server would reject raise `InvalidSpecError`.

Not simulated: the `..data` symlink farm kubelet uses for atomic updates (files here are plain
files at the same paths), the auto-mounted service-account token, service-link variables, and
resourceFieldRef.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_MODE = 0o644
_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
_POD_TEMPLATE_KINDS = {"Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}
_FAKE_TOKEN = b"podsim-fake-service-account-token"


class PodSimError(Exception):
    """Base class for everything the simulator refuses."""


class MissingReferenceError(PodSimError):
    """A non-optional Secret/ConfigMap or key is missing: the kubelet would not start the container."""


class InvalidSpecError(PodSimError):
    """The manifest is one the API server (or the runtime) would reject."""


# ---------------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class MountInfo:
    """One volumeMount as laid out: where it is in the container and under the root."""

    volume: str
    mount_path: str
    host_path: Path
    read_only: bool
    sub_path: str | None
    source: str


@dataclass
class ContainerView:
    """What one container sees: files under `root`, its environment, its command line."""

    root: Path
    name: str
    init: bool
    image: str | None
    env: dict[str, str]
    spec_env: dict[str, str]
    command: list[str] | None
    args: list[str] | None
    working_dir: str | None
    mounts: list[MountInfo]
    warnings: list[str] = field(default_factory=list)

    def host_path(self, container_path: str) -> Path:
        """Map an absolute container path (e.g. /kaniko/.docker/config.json) to the file under root."""
        if not container_path.startswith("/"):
            raise ValueError(f"container path must be absolute: {container_path!r}")
        norm = posixpath.normpath(container_path)
        return self.root.joinpath(*[p for p in norm.split("/") if p])

    def exists(self, container_path: str) -> bool:
        return self.host_path(container_path).exists()

    def read_bytes(self, container_path: str) -> bytes:
        return self.host_path(container_path).read_bytes()

    def read_text(self, container_path: str) -> str:
        return self.host_path(container_path).read_text()

    def read_json(self, container_path: str) -> Any:
        return json.loads(self.read_bytes(container_path))

    def mode(self, container_path: str) -> int:
        """Permission bits of the file, e.g. 0o400."""
        return self.host_path(container_path).stat().st_mode & 0o7777

    def mount_for(self, container_path: str) -> MountInfo | None:
        """The mount that provides `container_path` (the deepest one covering it), if any."""
        norm = posixpath.normpath(container_path)
        best: MountInfo | None = None
        for m in self.mounts:
            mp = posixpath.normpath(m.mount_path)
            if norm == mp or norm.startswith(mp.rstrip("/") + "/"):
                if best is None or len(mp) >= len(posixpath.normpath(best.mount_path)):
                    best = m
        return best

    def argv(self, image_entrypoint: list[str] | None = None, image_cmd: list[str] | None = None) -> list[str]:
        """The process the runtime starts, by Kubernetes' command/args vs ENTRYPOINT/CMD rules."""
        if self.command is not None:
            return [*self.command, *(self.args or [])]
        if self.args is not None:
            return [*(image_entrypoint or []), *self.args]
        return [*(image_entrypoint or []), *(image_cmd or [])]


# ---------------------------------------------------------------------------------------------
# helpers


def load_manifests(text: str) -> list[dict]:
    """Parse multi-document YAML, skipping empty documents and flattening `kind: List`."""
    return list(_flatten(doc for doc in yaml.safe_load_all(text) if doc))


def _flatten(objects: Iterable[Mapping]) -> Iterable[dict]:
    for obj in objects:
        if obj.get("kind") == "List" or (obj.get("kind", "").endswith("List") and "items" in obj):
            yield from _flatten(obj.get("items") or [])
        else:
            yield dict(obj)


def expand(text: str, mapping: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: `$$` -> `$`, unknown `$(X)` kept, lone `$` kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append("$(")
                i += 2
            else:
                name = text[i + 2:close]
                out.append(mapping[name] if name in mapping else f"$({name})")
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


_STRICT_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _valid_env_name(name: str, strict: bool = False) -> bool:
    """KEP-4369 (beta and on by default since 1.32, GA 1.34): any printable ASCII except '='.

    `strict` is the older IsEnvVarName rule, `[-._a-zA-Z][-._a-zA-Z0-9]*`, under which envFrom keys
    such as `1KEY` are skipped (with an event) instead of exported.
    """
    if strict:
        return bool(_STRICT_ENV_NAME.match(name))
    return bool(name) and all(32 <= ord(c) <= 126 for c in name) and "=" not in name


def _check_key(key: str, where: str) -> None:
    if not (_KEY_RE.match(key) and len(key) <= 253 and key not in {".", ".."}):
        raise InvalidSpecError(f"{where}: invalid key {key!r} (must match [-._a-zA-Z0-9]+)")


def _check_rel_path(path: str, where: str) -> None:
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise InvalidSpecError(f"{where}: path {path!r} must be relative and must not contain '..'")


def _check_mode(mode: Any, where: str) -> int:
    if not isinstance(mode, int) or isinstance(mode, bool) or not 0 <= mode <= 0o777:
        raise InvalidSpecError(f"{where}: mode {mode!r} must be an integer between 0 and 0777")
    return mode


# ---------------------------------------------------------------------------------------------
# the simulation


class _Objects:
    """Secrets and ConfigMaps by name, filtered to the pod's namespace."""

    def __init__(self, objects: Iterable[Mapping], namespace: str | None) -> None:
        self.namespace = namespace
        self.by_key: dict[tuple[str, str], list[dict]] = {}
        for obj in _flatten(objects):
            kind = obj.get("kind")
            if kind not in {"Secret", "ConfigMap"}:
                continue
            name = (obj.get("metadata") or {}).get("name")
            if not name:
                raise InvalidSpecError(f"{kind} without metadata.name")
            self.by_key.setdefault((kind, name), []).append(obj)

    def get(self, kind: str, name: str) -> dict | None:
        candidates = []
        for obj in self.by_key.get((kind, name), []):
            ns = (obj.get("metadata") or {}).get("namespace")
            # A missing namespace on either side means "applied to the current namespace": same one.
            if ns is None or self.namespace is None or ns == self.namespace:
                candidates.append(obj)
        if len(candidates) > 1:
            exact = [o for o in candidates if (o.get("metadata") or {}).get("namespace") == self.namespace]
            candidates = exact or candidates
        if len(candidates) > 1:
            raise InvalidSpecError(f"{kind} {name!r} given more than once for namespace {self.namespace!r}")
        return candidates[0] if candidates else None

    def ns_name(self, name: str) -> str:
        return f"{self.namespace or 'default'}/{name}"

    def secret_data(self, name: str) -> dict[str, bytes] | None:
        obj = self.get("Secret", name)
        if obj is None:
            return None
        data: dict[str, bytes] = {}
        for key, value in (obj.get("data") or {}).items():
            _check_key(key, f"Secret {name!r} data")
            try:
                data[key] = base64.b64decode(value or "", validate=True)
            except (binascii.Error, TypeError) as exc:
                raise InvalidSpecError(f"Secret {name!r} data[{key!r}] is not valid base64: {exc}") from exc
        for key, value in (obj.get("stringData") or {}).items():
            _check_key(key, f"Secret {name!r} stringData")
            data[key] = str(value).encode()  # the API server merges stringData over data
        _validate_secret_type(name, obj.get("type"), data)
        return data

    def configmap_data(self, name: str) -> dict[str, bytes] | None:
        obj = self.get("ConfigMap", name)
        if obj is None:
            return None
        data: dict[str, bytes] = {}
        for key, value in (obj.get("data") or {}).items():
            _check_key(key, f"ConfigMap {name!r} data")
            data[key] = str(value).encode()
        for key, value in (obj.get("binaryData") or {}).items():
            _check_key(key, f"ConfigMap {name!r} binaryData")
            if key in data:
                raise InvalidSpecError(f"ConfigMap {name!r}: key {key!r} in both data and binaryData")
            try:
                data[key] = base64.b64decode(value or "", validate=True)
            except (binascii.Error, TypeError) as exc:
                raise InvalidSpecError(f"ConfigMap {name!r} binaryData[{key!r}] is not valid base64") from exc
        return data


def _validate_secret_type(name: str, secret_type: str | None, data: Mapping[str, bytes]) -> None:
    """The API server's content checks for the docker config secret types."""
    required = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}
    key = required.get(secret_type or "")
    if key is None:
        return
    if key not in data:
        raise InvalidSpecError(f"Secret {name!r} of type {secret_type}: data[{key}] is required")
    try:
        json.loads(data[key])
    except ValueError as exc:
        raise InvalidSpecError(f"Secret {name!r}: data[{key}] is not valid JSON: {exc}") from exc


@dataclass
class _PodContext:
    metadata: dict
    spec: dict
    namespace: str | None
    objects: _Objects
    fields: dict[str, str]
    strict_env_names: bool = False


def _pod_parts(manifest: Mapping) -> tuple[dict, dict, str | None]:
    """(pod metadata, pod spec, namespace) for a Pod, PodTemplate, Job, CronJob or workload."""
    kind = manifest.get("kind")
    meta = dict(manifest.get("metadata") or {})
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        return meta, dict(spec), meta.get("namespace")
    if kind == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    elif kind == "PodTemplate":
        template = manifest.get("template") or {}
    elif kind in _POD_TEMPLATE_KINDS:
        template = spec.get("template") or {}
    else:
        raise InvalidSpecError(f"cannot find a pod template in kind {kind!r}")
    pod_meta = dict(template.get("metadata") or {})
    namespace = pod_meta.get("namespace") or meta.get("namespace")
    pod_meta.setdefault("name", f"{meta.get('name', 'pod')}-podsim")
    return pod_meta, dict(template.get("spec") or {}), namespace


def _default_fields(meta: dict, spec: dict, namespace: str | None) -> dict[str, str]:
    fields = {
        "metadata.name": str(meta.get("name", "podsim")),
        "metadata.namespace": namespace or "default",
        "metadata.uid": "00000000-0000-4000-8000-000000000000",
        "spec.nodeName": "podsim-node",
        "spec.serviceAccountName": spec.get("serviceAccountName") or "default",
        "status.hostIP": "10.0.0.1",
        "status.hostIPs": "10.0.0.1",
        "status.podIP": "10.0.0.10",
        "status.podIPs": "10.0.0.10",
    }
    for key, value in (meta.get("labels") or {}).items():
        fields[f"metadata.labels['{key}']"] = str(value)
    for key, value in (meta.get("annotations") or {}).items():
        fields[f"metadata.annotations['{key}']"] = str(value)
    fields["metadata.labels"] = "".join(f'{k}="{v}"\n' for k, v in sorted((meta.get("labels") or {}).items()))
    fields["metadata.annotations"] = "".join(
        f'{k}="{v}"\n' for k, v in sorted((meta.get("annotations") or {}).items())
    )
    return fields


def _field(ctx: _PodContext, field_path: str, where: str) -> str:
    if field_path not in ctx.fields:
        raise PodSimError(f"{where}: unsupported or unknown fieldRef {field_path!r}")
    return ctx.fields[field_path]


def _select_container(spec: dict, name: str | None) -> tuple[dict, bool]:
    containers = spec.get("containers") or []
    inits = spec.get("initContainers") or []
    if name is None:
        if len(containers) != 1:
            names = [c.get("name") for c in containers]
            raise PodSimError(f"pod has {len(containers)} containers {names}; pass a container name")
        return containers[0], False
    for c in containers:
        if c.get("name") == name:
            return c, False
    for c in inits:
        if c.get("name") == name:
            return c, True
    names = [c.get("name") for c in containers] + [f"{c.get('name')} (init)" for c in inits]
    raise PodSimError(f"no container {name!r} in pod; have {names}")


# ---- environment -----------------------------------------------------------------------------


def _spec_env(container: dict, ctx: _PodContext, warnings: list[str]) -> dict[str, str]:
    cname = container.get("name")
    env: dict[str, str] = {}
    for i, source in enumerate(container.get("envFrom") or []):
        prefix = source.get("prefix") or ""
        if "secretRef" in source:
            ref = source["secretRef"] or {}
            raw = ctx.objects.secret_data(ref.get("name", ""))
            what = "secret"
        elif "configMapRef" in source:
            ref = source["configMapRef"] or {}
            raw = ctx.objects.configmap_data(ref.get("name", ""))
            what = "configmap"
        else:
            raise InvalidSpecError(f"container {cname!r} envFrom[{i}] has neither secretRef nor configMapRef")
        if raw is None:
            if ref.get("optional"):
                continue
            raise MissingReferenceError(f'{what} "{ref.get("name")}" not found (container {cname!r} envFrom[{i}])')
        skipped = []
        for key, value in raw.items():
            name = prefix + key
            if not _valid_env_name(name, ctx.strict_env_names):
                skipped.append(name)
                continue
            env[name] = value.decode(errors="replace")
        if skipped:
            warnings.append(f"envFrom[{i}] {what} {ref.get('name')!r}: skipped invalid variable names {skipped}")

    for i, item in enumerate(container.get("env") or []):
        name = item.get("name")
        if not name or not _valid_env_name(name, ctx.strict_env_names):
            raise InvalidSpecError(f"container {cname!r} env[{i}]: invalid name {name!r}")
        source = item.get("valueFrom")
        if source is None:
            env[name] = expand(str(item.get("value", "")), env)
            continue
        value = _value_from(source, ctx, f"container {cname!r} env[{i}] {name}")
        if value is not None:
            env[name] = value
    return env


def _value_from(source: dict, ctx: _PodContext, where: str) -> str | None:
    """Resolve one env valueFrom; None means optional-and-missing (the variable is not set)."""
    if "secretKeyRef" in source or "configMapKeyRef" in source:
        is_secret = "secretKeyRef" in source
        ref = source["secretKeyRef" if is_secret else "configMapKeyRef"] or {}
        name, key = ref.get("name", ""), ref.get("key", "")
        data = ctx.objects.secret_data(name) if is_secret else ctx.objects.configmap_data(name)
        kind = "Secret" if is_secret else "ConfigMap"
        if data is None:
            if ref.get("optional"):
                return None
            raise MissingReferenceError(f'{"secret" if is_secret else "configmap"} "{name}" not found ({where})')
        if key not in data:
            if ref.get("optional"):
                return None
            raise MissingReferenceError(f"couldn't find key {key} in {kind} {ctx.objects.ns_name(name)} ({where})")
        return data[key].decode(errors="replace")
    if "fieldRef" in source:
        return _field(ctx, (source["fieldRef"] or {}).get("fieldPath", ""), where)
    raise PodSimError(f"{where}: unsupported valueFrom {sorted(source)}")


# ---- volumes ---------------------------------------------------------------------------------

Payload = dict[str, tuple[bytes, int]]


def _project(
    data: Mapping[str, bytes], items: list | None, mode: int, optional: bool, what: str
) -> Payload:
    """kubelet's key->path projection: all keys, or only `items` (a missing key fails unless optional)."""
    out: Payload = {}
    if not items:
        for key, content in data.items():
            out[key] = (content, mode)
        return out
    for j, item in enumerate(items):
        key, path = item.get("key", ""), item.get("path", "")
        _check_rel_path(path, f"{what} items[{j}]")
        if key not in data:
            if optional:
                continue
            raise MissingReferenceError(f"{what} references non-existent key {key!r}")
        item_mode = _check_mode(item["mode"], f"{what} items[{j}]") if item.get("mode") is not None else mode
        out[path] = (data[key], item_mode)
    return out


def _merge(into: Payload, extra: Payload, where: str) -> None:
    for path, value in extra.items():
        if path in into:
            raise InvalidSpecError(f"{where}: conflicting projected path {path!r}")
        into[path] = value


def _downward_items(items: list, ctx: _PodContext, mode: int, where: str) -> Payload:
    out: Payload = {}
    for j, item in enumerate(items or []):
        path = item.get("path", "")
        _check_rel_path(path, f"{where} items[{j}]")
        if "fieldRef" not in item:
            raise PodSimError(f"{where} items[{j}]: only fieldRef is simulated")
        value = _field(ctx, (item["fieldRef"] or {}).get("fieldPath", ""), f"{where} items[{j}]")
        item_mode = _check_mode(item["mode"], f"{where} items[{j}]") if item.get("mode") is not None else mode
        out[path] = (value.encode(), item_mode)
    return out


# projected sources that name a Secret or ConfigMap: how messages call it, and where its data comes from
_RESOURCE_SOURCES = {"secret": ("secret", lambda objects, name: objects.secret_data(name)),
                     "configMap": ("configmap", lambda objects, name: objects.configmap_data(name))}


def _volume_payload(volume: dict, ctx: _PodContext) -> tuple[Payload | None, str]:
    """Files of a volume (None for a plain directory volume) and a short description of its source."""
    name = volume.get("name")
    for kind, ref_field, label, lookup in (("secret", "secretName", "secret", ctx.objects.secret_data),
                                           ("configMap", "name", "configmap", ctx.objects.configmap_data)):
        if kind not in volume:
            continue
        src = volume[kind] or {}
        ref = src.get(ref_field, "")
        mode = _check_mode(src.get("defaultMode", DEFAULT_MODE), f"volume {name!r} defaultMode")
        data = lookup(ref)
        if data is None:
            if src.get("optional"):
                return {}, f"{kind}:{ref} (optional, missing)"
            raise MissingReferenceError(f'{label} "{ref}" not found (volume {name!r})')
        return _project(data, src.get("items"), mode, bool(src.get("optional")), f'{label} "{ref}"'), f"{kind}:{ref}"
    if "projected" in volume:
        src = volume["projected"] or {}
        mode = _check_mode(src.get("defaultMode", DEFAULT_MODE), f"volume {name!r} defaultMode")
        payload: Payload = {}
        for k, source in enumerate(src.get("sources") or []):
            where = f"volume {name!r} sources[{k}]"
            kind = next((kind for kind in _RESOURCE_SOURCES if kind in source), None)
            if kind is not None:
                label, lookup = _RESOURCE_SOURCES[kind]
                ref = source[kind] or {}
                data = lookup(ctx.objects, ref.get("name", ""))
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise MissingReferenceError(f'{label} "{ref.get("name")}" not found ({where})')
                part = _project(data, ref.get("items"), mode, bool(ref.get("optional")), f'{label} "{ref.get("name")}"')
            elif "downwardAPI" in source:
                part = _downward_items((source["downwardAPI"] or {}).get("items") or [], ctx, mode, where)
            elif "serviceAccountToken" in source:
                path = (source["serviceAccountToken"] or {}).get("path", "")
                _check_rel_path(path, where)
                part = {path: (_FAKE_TOKEN, mode)}
            else:
                raise PodSimError(f"{where}: unsupported projected source {sorted(source)}")
            _merge(payload, part, f"volume {name!r}")
        return payload, "projected"
    if "downwardAPI" in volume:
        src = volume["downwardAPI"] or {}
        mode = _check_mode(src.get("defaultMode", DEFAULT_MODE), f"volume {name!r} defaultMode")
        return _downward_items(src.get("items") or [], ctx, mode, f"volume {name!r}"), "downwardAPI"
    kinds = [k for k in volume if k != "name"]
    return None, (kinds[0] if kinds else "emptyDir")


def _apply_fs_group(mode: int, fs_group: int | None) -> int:
    # kubelet's SetVolumeOwnership for read-only volumes: chgrp to fsGroup and add 0440.
    return mode | 0o440 if fs_group is not None else mode


def _write_file(path: Path, content: bytes, mode: int, fs_group: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.chmod(path, _apply_fs_group(mode, fs_group))
    if fs_group is not None:
        try:
            os.chown(path, -1, fs_group)
        except PermissionError:  # not root: the mode is still right, only the group differs
            pass


def _write_payload(target: Path, payload: Payload, fs_group: int | None) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for rel, (content, mode) in sorted(payload.items()):
        _write_file(target.joinpath(*rel.split("/")), content, mode, fs_group)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _sub_payload(payload: Payload, sub: str) -> tuple[str, Payload | bytes | None, int]:
    """Restrict a payload to `sub`: ('file', bytes, mode) | ('dir', payload, 0) | ('missing', None, 0)."""
    sub = sub.strip("/")
    if sub in payload:
        content, mode = payload[sub]
        return "file", content, mode
    inner = {rel[len(sub) + 1:]: v for rel, v in payload.items() if rel.startswith(sub + "/")}
    if inner:
        return "dir", inner, 0
    return "missing", None, 0


# ---------------------------------------------------------------------------------------------
# entry point


def simulate_pod(
    manifest: Mapping,
    objects: Iterable[Mapping],
    root: Path,
    container: str | None = None,
    *,
    image_env: Mapping[str, str] | None = None,
    field_values: Mapping[str, str] | None = None,
    strict_env_names: bool = False,
) -> ContainerView:
    """Lay out under `root` what `container` of `manifest` would see, and compute its env and argv.

    `manifest` is a Pod, Job, CronJob, PodTemplate or workload dict; `objects` the Secrets and
    ConfigMaps that exist in the namespace (other kinds are ignored). `container` may name an init
    container; without it the pod must have exactly one container. `image_env` is the image's ENV
    (e.g. kaniko's `DOCKER_CONFIG=/kaniko/.docker/`, `HOME=/root`), which the spec's variables
    override. `field_values` overrides fieldRef values such as `metadata.name`. `strict_env_names`
    applies the pre-1.32 rule for variable names (see `_valid_env_name`).
    """
    meta, spec, namespace = _pod_parts(manifest)
    fields = _default_fields(meta, spec, namespace)
    fields.update(field_values or {})
    ctx = _PodContext(meta, spec, namespace, _Objects(objects, namespace), fields, strict_env_names)
    cont, is_init = _select_container(spec, container)
    cname = cont.get("name")
    warnings: list[str] = []

    spec_env = _spec_env(cont, ctx, warnings)
    env = dict(image_env or {})
    env.update(spec_env)

    volumes: dict[str, dict] = {}
    for v in spec.get("volumes") or []:
        vname = v.get("name")
        if not vname or vname in volumes:
            raise InvalidSpecError(f"volume name {vname!r} missing or duplicated")
        volumes[vname] = v
    fs_group = (spec.get("securityContext") or {}).get("fsGroup")

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    mounts_spec = list(cont.get("volumeMounts") or [])
    seen_paths: set[str] = set()
    for i, m in enumerate(mounts_spec):
        mp = m.get("mountPath", "")
        where = f"container {cname!r} volumeMounts[{i}]"
        if not mp:
            raise InvalidSpecError(f"{where}: mountPath is required")
        if not mp.startswith("/"):
            raise InvalidSpecError(f"{where}: mountPath {mp!r} is not absolute")
        if ":" in mp:
            raise InvalidSpecError(f"{where}: mountPath must not contain ':'")
        norm = posixpath.normpath(mp)
        if norm in seen_paths:
            raise InvalidSpecError(f"{where}: mountPath {mp!r} must be unique")
        seen_paths.add(norm)
        if m.get("name") not in volumes:
            raise InvalidSpecError(f"{where}: volume {m.get('name')!r} not found in pod volumes")
        if m.get("subPath") and m.get("subPathExpr"):
            raise InvalidSpecError(f"{where}: subPath and subPathExpr are mutually exclusive")

    order = {posixpath.normpath(m["mountPath"]): i for i, m in enumerate(mounts_spec)}
    payloads: dict[str, tuple[Payload | None, str]] = {}
    mounts: list[MountInfo] = []
    # Shallow mounts first so that deeper ones shadow what they cover, as the runtime does.
    for i, m in sorted(enumerate(mounts_spec), key=lambda im: posixpath.normpath(im[1]["mountPath"]).count("/")):
        vname = m["name"]
        if vname not in payloads:
            payloads[vname] = _volume_payload(volumes[vname], ctx)
        payload, source = payloads[vname]
        mp = posixpath.normpath(m["mountPath"])
        target = root.joinpath(*[p for p in mp.split("/") if p])
        sub = m.get("subPath") or None
        if m.get("subPathExpr"):
            sub = expand(m["subPathExpr"], spec_env)
        if sub is not None:
            _check_rel_path(sub, f"container {cname!r} volumeMounts[{i}] subPath")
        if target.exists() or target.is_symlink():
            _remove(target)
        fg = fs_group if payload is not None else None
        if payload is None:
            target.mkdir(parents=True, exist_ok=True)
        elif sub is None:
            _write_payload(target, payload, fg)
        else:
            kind, content, mode = _sub_payload(payload, sub)
            if kind == "file":
                assert isinstance(content, bytes)
                _write_file(target, content, mode, fg)
            elif kind == "dir":
                assert isinstance(content, dict)
                _write_payload(target, content, fg)
            else:
                target.mkdir(parents=True, exist_ok=True)
                warnings.append(
                    f"volumeMounts[{i}] {vname!r}: subPath {sub!r} does not exist in {source}; "
                    f"kubelet mounts an empty directory at {mp}"
                )
        mounts.append(
            MountInfo(
                volume=vname,
                mount_path=mp,
                host_path=target,
                read_only=bool(m.get("readOnly")),
                sub_path=sub,
                source=source,
            )
        )

    command = cont.get("command")
    args = cont.get("args")
    return ContainerView(
        root=root,
        name=cname,
        init=is_init,
        image=cont.get("image"),
        env=env,
        spec_env=spec_env,
        command=[expand(str(c), spec_env) for c in command] if command is not None else None,
        args=[expand(str(a), spec_env) for a in args] if args is not None else None,
        working_dir=cont.get("workingDir"),
        mounts=sorted(mounts, key=lambda mi: order[mi.mount_path]),
        warnings=warnings,
    )
