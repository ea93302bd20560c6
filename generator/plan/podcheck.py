"""An assembled builder pod checked against its image: what a mount hides, what an env var redirects.

Why: a Secret mounted at /kaniko hides the executor and the pod never starts; one mounted inside the
build context is sent to the builder with the context (a `COPY . .` puts it in the image); a catalog
`DOCKER_CONFIG` pointing away from the mount makes the builder read nothing and push with 401. The
Job's YAML looks fine in each case, so conngen refuses them, located at the catalog key that asked.
"""

from __future__ import annotations

import functools
from typing import Any

from generator.model.builders import BuilderProfile
from generator.errors import Issue, Origin
from generator.plan.pod import Pod


def covers(mount_path: str, path: str) -> bool:
    """Whether a mount at `mount_path` hides `path` (the same path or one below it)."""
    mount = mount_path.rstrip("/") or "/"
    return path == mount or path.startswith(mount if mount == "/" else mount + "/")


def local_context_dir(context: str, sub_path: str | None) -> str | None:
    """The context directory in the pod (`dir://` URL or path, sub-path included); None for remote contexts."""
    path = context[len("dir://"):] if context.startswith("dir://") else context
    if not path.startswith("/"):
        return None
    return path.rstrip("/") + "/" + sub_path if sub_path else path


@functools.cache  # once per builder and mount path, not per Job
def _hidden(image_paths: tuple[str, ...], path: str) -> str | None:
    """The first of the image's own files that a mount at `path` hides, if any."""
    return next((p for p in image_paths if covers(path, p)), None)


def check_mounts(pod: Pod, profile: BuilderProfile, context_dir: str | None) -> None:
    """Refuse catalog mounts that hide the image's own files, and Secrets/ConfigMaps in the build context."""
    for mount in pod.mounts:
        path = mount["mountPath"]
        if path in profile.own_paths or path == profile.workspace and _scratch_workspace(pod, path):
            continue
        origin = pod.origins.get(path)
        hidden = _hidden(profile.image_paths, path)
        if hidden is not None:
            pod.issues.append(Issue(origin, f"mountPath {path} hides {hidden} of the {profile.name} image, "
                                    "which the builder needs", _shadow_hint(profile, hidden)))
            continue
        if context_dir and ("secret" in (source := _source(pod, mount)) or "configMap" in source):
            if covers(path, context_dir):
                pod.issues.append(Issue(origin, f"mountPath {path} hides the build context {context_dir}",
                                        "mount it outside the build context"))
            elif covers(context_dir, path):
                pod.issues.append(Issue(origin, f"mountPath {path} is inside the build context {context_dir}: "
                                        "its files would be sent to the builder with the context, and a COPY "
                                        "could put them into the image", "mount it outside the build context"))


def _scratch_workspace(pod: Pod, workspace: str) -> bool:
    """Whether an emptyDir is mounted at the workspace: where a clone or fetch step puts the context."""
    return any(m["mountPath"] == workspace and "emptyDir" in _source(pod, m) for m in pod.mounts)


def _source(pod: Pod, mount: dict) -> dict:
    """The volume a mount mounts (a pod has a few: a scan, not an index built for every pod)."""
    return next((v for v in pod.volumes if v["name"] == mount["name"]), {})


def _shadow_hint(profile: BuilderProfile, hidden: str) -> str:
    if profile.ca_dir and "ssl/certs" in hidden:
        return "for a registry CA set schema.ca on the registry connection (conngen mounts it at " \
               f"{profile.ca_dir}); otherwise mount at a directory of its own"
    return f"mount at a directory of its own, such as the default {profile.default_mount_path}"


def check_credentials_env(pod: Pod, profile: BuilderProfile, mounted_file: str | None, secret: str | None,
                          fallback: Origin) -> None:
    """Refuse an env var (from a catalog connection) that moves the builder's lookup off the mounted file."""
    if mounted_file is None:
        return
    reads = pod_reads(pod, profile)
    if reads == mounted_file:
        return
    values = {e["name"]: e.get("value", "") for e in pod.env}
    names = [step.variable for step in profile.lookup if step.variable] + ["HOME"]
    name = next((n for n in names if n in values), None)
    origin = pod.origins.get(name, fallback) if name else fallback
    setting = f"{name}={values[name]} makes " if name else ""
    pod.issues.append(Issue(origin, f"{setting}{profile.name} read {reads}, where nothing is mounted; "
                            f"the registry Secret {secret} is mounted at {mounted_file.rsplit('/', 1)[0]}",
                            f"remove {name or 'that variable'} from the connection's env (conngen points "
                            f"{profile.name} at the mount itself), or set secret.mountPath to the directory it names"))


def pod_reads(pod: Pod, profile: BuilderProfile) -> str:
    """The credentials file the builder opens in this pod's environment."""
    return profile.reads({e["name"]: e.get("value", "") for e in pod.env}) if pod.env else profile.own_reads


def check_modes(pod: Pod, profile: BuilderProfile, user: tuple[int, int]) -> None:
    """Refuse Secret/ConfigMap file modes a non-root builder cannot read.

    The kubelet writes these files as root:root with the given mode. conngen does not set an fsGroup
    to make them readable: the kubelet would then re-own every volume of the pod (a PVC build context
    recursively, at every start) and make an SSH key group-readable, which ssh refuses.
    """
    uid, gid = user  # profile.run_as of the pod's securityContext
    if uid == 0:
        return
    for mount in pod.mounts:
        source = _source(pod, mount)
        body = source.get("secret") or source.get("configMap")
        if body is None:
            continue
        origin = pod.origins.get(mount["mountPath"])
        base = Origin(origin.file, origin.path[:-1]) if origin and origin.path[-1:] == ("mountPath",) else origin
        modes: list[tuple[Any, tuple[str | int, ...]]] = [(body.get("defaultMode"), ("defaultMode",))]
        modes += [(item.get("mode"), ("items", i, "mode")) for i, item in enumerate(body.get("items") or [])]
        for mode, where in modes:
            if mode is not None and not (mode & 0o004 or (gid == 0 and mode & 0o040)):
                pod.issues.append(Issue(base.at(*where) if base else None,
                                        f"{profile.name} runs as uid {uid}: files with mode {mode:04o} are root's "
                                        f"and it cannot read them", "use a mode others can read, such as 0444 "
                                        "(the volume is read-only anyway), or leave the mode out (0644)"))


def cache_warning(pod: Pod, profile: BuilderProfile, cache: bool, build: Origin) -> None:
    """Say what `cache: true` really does where that is not a layer cache (the dockerizer)."""
    if cache and profile.cache_note:
        pod.issues.append(Issue(build.at("cache"), profile.cache_note, "leave cache off unless every build pushes a new tag",
                                severity="warning"))
