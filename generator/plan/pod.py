"""One builder pod being assembled: volumes, mounts, env and annotations, refusing clashes.

Also Polyaxon's rules for how a connection's secret, configMap, env and annotations reach a pod.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable

from msgspec import Struct, field

from generator.errors import Issue, Origin
from generator.model.records import Connection, KeyToPath, Resource
from generator.model.names import dns_label


class Pod(Struct):
    """Volumes, mounts and env of one builder pod, refusing clashes as they are added."""

    origin: Origin
    issues: list[Issue]
    volumes: list[dict] = field(default_factory=list)
    mounts: list[dict] = field(default_factory=list)
    env: list[dict] = field(default_factory=list)
    env_from: list[dict] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    _volume_of: dict[str, list[tuple[dict, str]]] = field(default_factory=dict)  # mount path -> (source, volume)
    _mounted_at: dict[str, str] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)  # mount path or env name -> where it was asked for

    def sibling(self) -> "Pod":
        """Another container of the same pod (an init step): shares the volumes, has its own mounts and env."""
        return Pod(self.origin, self.issues, volumes=self.volumes, _volume_of=self._volume_of)

    def volume(self, base: str, source: dict) -> str:
        """Add a volume under a free name derived from `base`, mounted by no container yet."""
        name = dns_label(base)
        if self.volumes:  # most pods get their first volume here: no names taken
            taken = {v["name"] for v in self.volumes}
            n = 2
            while name in taken:
                name = dns_label(f"{base}-{n}")
                n += 1
        self.volumes.append({"name": name, **source})
        return name

    def mount(self, base: str, source: dict, mount_path: str, read_only: bool, origin: Origin) -> str:
        """Mount `source` at `mount_path` under a volume named after `base`; the same source at the same
        path (two connections sharing a Secret, say) is the volume already there, in any container of the pod."""
        known = self._volume_of.setdefault(mount_path, [])
        for existing, volume in known:
            if existing == source:
                return volume
        name = self.volume(base, source)
        if mount_path in self._mounted_at:
            self.issues.append(Issue(origin, f"mount path {mount_path} is already used by volume {self._mounted_at[mount_path]}",
                                     "give each connection its own mountPath"))
        self._mounted_at[mount_path] = name
        known.append((source, name))
        self.origins[mount_path] = origin
        mount: dict[str, Any] = {"name": name, "mountPath": mount_path}
        if read_only:
            mount["readOnly"] = True
        self.mounts.append(mount)
        return name

    def set_env(self, entry: dict, origin: Origin) -> None:
        for existing in self.env:
            if existing["name"] == entry["name"]:
                if existing != entry:
                    self.issues.append(Issue(origin, f"environment variable {entry['name']} is set twice with different values",
                                             "remove one of them"))
                return
        self.env.append(entry)
        self.origins[entry["name"]] = origin

    def annotate(self, pairs: Iterable[tuple[str, str]], origin: Origin) -> None:
        for key, value in pairs:
            if self.annotations.get(key, value) != value:
                self.issues.append(Issue(origin, f"pod annotation {key} is set twice with different values"))
            self.annotations[key] = value


def resource_volume(kind: str, name: str, items: tuple[KeyToPath, ...] | None, default_mode: int | None) -> dict:
    """A Kubernetes secret/configMap volume source: Secret or ConfigMap `name`, its `items` and `default_mode`."""
    ref_key = "secretName" if kind == "secret" else "name"
    body: dict[str, Any] = {ref_key: name}
    if items:
        body["items"] = _projection(items)
    if default_mode is not None:
        body["defaultMode"] = default_mode
    return {kind: body}


@functools.cache  # per distinct items: most registry Secrets project the one docker config; never mutated
def _projection(items: tuple[KeyToPath, ...]) -> list[dict]:
    """A volume's `items`: each key, its path and its mode if set."""
    return [{"key": i.key, "path": i.path, **({"mode": i.mode} if i.mode is not None else {})} for i in items]


def expose(pod: Pod, res: Resource, kind: str) -> None:
    """Polyaxon's rules: mounted if mountPath, else one env var per item, else envFrom."""
    if res.mount_path:
        pod.mount(res.name, resource_volume(kind, res.name, res.items, res.default_mode), res.mount_path,
                  kind == "secret", res.origin)
    elif res.items:
        ref = "secretKeyRef" if kind == "secret" else "configMapKeyRef"
        for item in res.items:
            pod.set_env({"name": item.key, "valueFrom": {ref: {"name": res.name, "key": item.key}}}, res.origin)
    else:
        ref = "secretRef" if kind == "secret" else "configMapRef"
        entry = {ref: {"name": res.name}}
        if entry not in pod.env_from:
            pod.env_from.append(entry)


def use_connection(pod: Pod, conn: Connection, mount_secret: bool = True) -> None:
    if conn.secret is not None and mount_secret:
        expose(pod, conn.secret, "secret")
    if conn.config_map is not None:
        expose(pod, conn.config_map, "configMap")
    if conn.kind in ("volume_claim", "host_path") and isinstance(conn.schema, dict):
        source = ({"persistentVolumeClaim": {"claimName": conn.schema["volumeClaim"]}} if conn.kind == "volume_claim"
                  else {"hostPath": {"path": conn.schema["hostPath"]}})
        pod.mount(conn.name, source, conn.schema["mountPath"], bool(conn.schema.get("readOnly")), conn.origin)
    for name, value in conn.env:
        pod.set_env({"name": name, "value": value}, conn.origin.at("env", name))
    if conn.annotations:
        pod.annotate(conn.annotations, conn.origin.at("annotations"))
