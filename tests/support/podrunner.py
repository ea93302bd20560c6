"""Run a rendered Job's containers on our Docker engine the way the kubelet would (tests only).

Why: the judge of a mount is the builder's own program. podsim lays out what a container would see;
this module hands that layout to real containers: every Secret/ConfigMap/projected/downwardAPI volume
materialised by podsim (items, modes, defaultMode, subPath, fsGroup) and bind-mounted read-only,
emptyDir and hostPath as host directories shared by the pod's containers, the spec's env, command,
args and workingDir, the effective user and groups, init containers first and in order.

Kubelet rules kept here, not Docker's defaults: `command` replaces the image's ENTRYPOINT and drops
its CMD, `args` replaces only CMD; `$(VAR)` is expanded from the spec's variables only (podsim); a
container without `seccompProfile` runs Unconfined (the kubelet's default) and `RuntimeDefault` is
the runtime's profile; `fsGroup` is a supplementary group and owns the volumes (secret files get
group read); `runAsNonRoot` refuses a root or non-numeric image user; `/dev/termination-log` is a
host file read back after exit.

Deliberate differences: every container runs with `--network host` (the test registry listens on
the host's loopback; a real pod has its own network namespace); the docker socket hostPath
(/var/run/docker.sock) is this engine's socket, the node's daemon in this emulation. Accepted and
not enforced: resources, scheduling fields, imagePullPolicy (no image is ever pulled: `--pull never`).
Anything else the runner cannot emulate raises `NotEmulated` instead of running differently.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .engine import DOCKER, Engine
from .podsim import ContainerView, MissingReferenceError, _pod_parts, simulate_pod

DOCKER_SOCKET = "/var/run/docker.sock"
TERMINATION_LOG = "/dev/termination-log"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DATA_VOLUMES = {"secret", "configMap", "projected", "downwardAPI"}

_CONTAINER_FIELDS = {"name", "image", "imagePullPolicy", "command", "args", "workingDir", "env", "envFrom",
                     "volumeMounts", "resources", "securityContext", "terminationMessagePath",
                     "terminationMessagePolicy"}
_POD_FIELDS = {"containers", "initContainers", "volumes", "restartPolicy", "serviceAccountName",
               "automountServiceAccountToken", "securityContext", "activeDeadlineSeconds",
               "terminationGracePeriodSeconds", "imagePullSecrets", "nodeSelector", "tolerations", "affinity",
               "priorityClassName"}
_POD_SECURITY = {"runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "fsGroupChangePolicy",
                 "supplementalGroups", "seccompProfile", "appArmorProfile", "seLinuxOptions"}
_CONTAINER_SECURITY = {"runAsUser", "runAsGroup", "runAsNonRoot", "capabilities", "privileged", "seccompProfile",
                       "appArmorProfile", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "seLinuxOptions"}
#: variables the docker CLI itself reads: passed as `-e NAME=VALUE`, every other one by name only
_CLI_VARIABLES = ("DOCKER_", "PATH", "HOME")
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


class NotEmulated(Exception):
    """The Job asks for something the runner cannot do the kubelet's way: refused, never approximated."""


class ConfigError(Exception):
    """What the kubelet refuses before the container starts (CreateContainerConfigError, a failed mount)."""


@dataclass
class ContainerRun:
    """One container's run: exit code, output, and why it ended (Completed, Error, StartError)."""

    name: str
    init: bool
    rc: int
    stdout: str
    stderr: str
    reason: str
    termination_message: str
    view: ContainerView | None  # None when the kubelet would not have got as far as the mounts

    @property
    def out(self) -> str:
        return self.stdout + self.stderr


@dataclass
class PodRun:
    """The pod's containers in the order they ran; it succeeded when every one exited 0."""

    runs: list[ContainerRun] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return bool(self.runs) and all(r.rc == 0 for r in self.runs) and not self.runs[-1].init

    @property
    def main(self) -> ContainerRun:
        return self.runs[-1]

    def describe(self) -> str:
        """Every container's reason, exit code and output, for assertion messages."""
        return "\n".join(f"--- {r.name} ({'init, ' if r.init else ''}{r.reason}, rc={r.rc})\n{r.out.strip()}"
                         for r in self.runs)


def _check_fields(found: Iterable[str], allowed: set[str], where: str) -> None:
    extra = sorted(set(found) - allowed)
    if extra:
        raise NotEmulated(f"{where}: {', '.join(extra)} not emulated")


class _Pod:
    """Per-pod state: the volumes shared by its containers and the work dir they live in."""

    def __init__(self, engine: Engine, manifest: Mapping, objects: list[dict], workdir: Path,
                 timeout: float | None) -> None:
        self.engine = engine
        self.manifest = manifest
        self.objects = objects
        self.workdir = workdir
        self.meta, self.spec, _ = _pod_parts(manifest)
        _check_fields(self.spec, _POD_FIELDS, "pod spec")
        if self.spec.get("restartPolicy", "Always") != "Never":
            raise NotEmulated("restartPolicy other than Never (the runner runs each container once)")
        if len(self.spec.get("containers") or []) != 1:
            raise NotEmulated("a pod with other than one main container (sidecar lifecycles)")
        self.security = dict(self.spec.get("securityContext") or {})
        _check_fields(self.security, _POD_SECURITY, "pod securityContext")
        self.volumes = {v["name"]: v for v in self.spec.get("volumes") or []}
        self.shared: dict[str, Path] = {}
        deadline = self.spec.get("activeDeadlineSeconds") or (manifest.get("spec") or {}).get("activeDeadlineSeconds")
        self.timeout = float(deadline or timeout or 900)

    # ---- volumes ------------------------------------------------------------------------------

    def shared_dir(self, name: str) -> Path:
        """The host dir of an emptyDir, one per volume for all containers (0777, fsGroup-owned)."""
        if name not in self.shared:
            path = self.workdir / "volumes" / name
            path.mkdir(parents=True)
            path.chmod(0o777)
            fs_group = self.security.get("fsGroup")
            if fs_group is not None:
                os.chown(path, -1, fs_group)
                path.chmod(0o777 | stat.S_ISGID)
            self.shared[name] = path
        return self.shared[name]

    def host_source(self, volume: dict) -> Path:
        source = volume["hostPath"]
        path, kind = source.get("path", ""), source.get("type", "")
        host = Path(self.engine.socket if path == DOCKER_SOCKET else path)
        checks = {"Socket": stat.S_ISSOCK, "Directory": stat.S_ISDIR, "File": stat.S_ISREG}
        if kind == "DirectoryOrCreate":
            host.mkdir(parents=True, exist_ok=True)
        elif kind in checks:
            if not host.exists() or not checks[kind](host.stat().st_mode):
                raise ConfigError(f"hostPath type check failed: {path} is not a {kind}")
        elif kind:
            raise NotEmulated(f"hostPath type {kind!r}")
        return host

    def mount_args(self, view: ContainerView, spec_mounts: list[dict]) -> list[str]:
        args = []
        for spec_mount, mount in zip(spec_mounts, view.mounts):
            volume = self.volumes[mount.volume]
            kind = next((k for k in volume if k != "name"), "emptyDir")
            read_only = bool(mount.read_only)
            if kind in DATA_VOLUMES:
                source, read_only = mount.host_path, True  # the kubelet mounts these read-only, always
            elif kind == "emptyDir":
                source = self.shared_dir(mount.volume)
                if mount.sub_path:
                    source = source / mount.sub_path
                    source.mkdir(parents=True, exist_ok=True)
            elif kind == "hostPath":
                source = self.host_source(volume)
                if mount.sub_path:
                    source = source / mount.sub_path
            else:
                raise NotEmulated(f"volume {mount.volume!r} of kind {kind}")
            if spec_mount.get("mountPropagation"):
                raise NotEmulated("mountPropagation")
            args += ["--mount", _mount(source, mount.mount_path, read_only)]
        return args

    # ---- one container ------------------------------------------------------------------------

    def run(self, container: dict, init: bool) -> ContainerRun:
        name = container.get("name", "")
        _check_fields(container, _CONTAINER_FIELDS, f"container {name!r}")
        try:
            return self._run(container, init)
        except (ConfigError, MissingReferenceError) as exc:
            return ContainerRun(name, init, 1, "", str(exc), "CreateContainerConfigError", "", None)

    def _run(self, container: dict, init: bool) -> ContainerRun:
        name = container["name"]
        view = simulate_pod(self.manifest, self.objects, self.workdir / f"root-{name}", container=name)
        argv = [DOCKER, "run", "--name", f"podrunner-{uuid.uuid4().hex[:12]}", "--pull", "never",
                "--network", "host"]
        argv += self.security_args(container, name)
        argv += self.mount_args(view, list(container.get("volumeMounts") or []))
        argv += self.service_account(container)
        message = self.workdir / f"termination-{name}"
        message.touch()
        message.chmod(0o666)
        argv += ["--mount", _mount(message, container.get("terminationMessagePath") or TERMINATION_LOG, False)]
        cli_env = dict(self.engine.env)
        for key, value in view.spec_env.items():
            if key.startswith(_CLI_VARIABLES):
                argv += ["-e", f"{key}={value}"]
            else:  # the value travels in the CLI's environment, never on a command line
                argv += ["-e", key]
                cli_env[key] = value
        if view.working_dir:
            argv += ["-w", view.working_dir]
        rest: list[str] = []
        if view.command is not None:
            if not view.command:
                raise NotEmulated("an empty command list")
            argv += ["--entrypoint", view.command[0]]
            rest = [*view.command[1:], *(view.args or [])]
        elif view.args is not None:
            rest = list(view.args)
        argv += [container["image"], *rest]
        return self.execute(argv, cli_env, view, container, init, message)

    def security_args(self, container: dict, name: str) -> list[str]:
        pod, own = self.security, dict(container.get("securityContext") or {})
        _check_fields(own, _CONTAINER_SECURITY, f"container {name!r} securityContext")
        merged = {**{k: v for k, v in pod.items() if k in _CONTAINER_SECURITY}, **own}
        args = []
        uid, gid = merged.get("runAsUser"), merged.get("runAsGroup")
        if uid is not None:
            args += ["--user", f"{uid}:{gid}" if gid is not None else str(uid)]
        elif gid is not None:
            raise NotEmulated("runAsGroup without runAsUser (the image user's uid with another gid)")
        if merged.get("runAsNonRoot"):
            self.check_non_root(container["image"], uid)
        for group in [*(pod.get("supplementalGroups") or []), *([pod["fsGroup"]] if "fsGroup" in pod else [])]:
            args += ["--group-add", str(group)]
        caps = merged.get("capabilities") or {}
        args += [a for cap in caps.get("add") or [] for a in ("--cap-add", cap)]
        args += [a for cap in caps.get("drop") or [] for a in ("--cap-drop", cap)]
        if merged.get("privileged"):
            args.append("--privileged")
        if merged.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        if merged.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        seccomp = (merged.get("seccompProfile") or {}).get("type", "Unconfined")
        if seccomp == "Unconfined":
            args += ["--security-opt", "seccomp=unconfined"]
        elif seccomp != "RuntimeDefault":
            raise NotEmulated(f"seccompProfile {seccomp}")
        apparmor = (merged.get("appArmorProfile") or {}).get("type")
        annotation = (self.meta.get("annotations") or {}).get(_APPARMOR_ANNOTATION + name)
        if apparmor == "Unconfined" or annotation == "unconfined":
            args += ["--security-opt", "apparmor=unconfined"]
        elif apparmor not in (None, "RuntimeDefault") or annotation not in (None, "runtime/default"):
            raise NotEmulated(f"AppArmor profile {apparmor or annotation}")
        return args

    def check_non_root(self, image: str, uid: int | None) -> None:
        """The kubelet's runAsNonRoot check, which fails the container before it starts."""
        if uid is None:
            user = self.engine.docker("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
            user = user.split(":")[0]
            if not user.isdigit():
                raise ConfigError(f"container has runAsNonRoot and image has non-numeric user ({user or 'root'}), "
                                   "cannot verify user is non-root")
            uid = int(user)
        if uid == 0:
            raise ConfigError("container has runAsNonRoot and image will run as root")

    def service_account(self, container: dict) -> list[str]:
        """The token volume the kubelet mounts unless automount is off or the path is taken."""
        if self.spec.get("automountServiceAccountToken") is False:
            return []
        if any(m.get("mountPath", "").rstrip("/") == SERVICE_ACCOUNT_DIR for m in container.get("volumeMounts") or []):
            return []
        token = self.workdir / "serviceaccount"
        if not token.exists():
            token.mkdir()
            for file, text in (("token", "podrunner-fake-token"), ("namespace", "default"), ("ca.crt", "")):
                (token / file).write_text(text)
                (token / file).chmod(0o644)
        return ["--mount", _mount(token, SERVICE_ACCOUNT_DIR, True)]

    def execute(self, argv: list[str], cli_env: dict, view: ContainerView, container: dict, init: bool,
                message: Path) -> ContainerRun:
        cname = argv[argv.index("--name") + 1]
        try:
            try:
                proc = subprocess.run(argv, env=cli_env, stdin=subprocess.DEVNULL, capture_output=True,
                                      timeout=self.timeout, check=False)
                rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
            except subprocess.TimeoutExpired as exc:
                self.engine.docker("kill", cname, check=False)
                rc, stdout, stderr = 137, exc.stdout or b"", (exc.stderr or b"") + b"\nDeadlineExceeded"
            state = self.engine.docker("inspect", "--format", "{{json .State}}", cname, check=False)
            started = state.returncode == 0 and not json.loads(state.stdout).get("StartedAt", "").startswith("0001")
        finally:
            self.engine.docker("rm", "-f", cname, check=False)
        text = message.read_text(errors="replace")
        reason = "Completed" if rc == 0 else ("Error" if started else "StartError")
        out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
        if not text and rc != 0 and container.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            text = "\n".join((out + err).splitlines()[-80:])
        return ContainerRun(container.get("name", ""), init, rc, out, err, reason, text, view)


def _mount(source: Path, target: str, read_only: bool) -> str:
    """A `--mount` value; paths with commas cannot be expressed there and are refused."""
    if "," in str(source) or "," in target:
        raise NotEmulated(f"a mount path with a comma ({target})")
    return f"type=bind,source={source},target={posixpath.normpath(target)}" + (",readonly" if read_only else "")


def run_pod(engine: Engine, manifest: Mapping, objects: Iterable[Mapping], workdir: Path, *,
            timeout: float | None = None) -> PodRun:
    """Run the pod of `manifest` (Job, Pod, ...) with `objects` (its Secrets/ConfigMaps) on `engine`.

    Init containers run first, in order; the first that fails ends the pod, as with
    restartPolicy: Never. `workdir` holds the materialised volumes (credentials included): the
    caller removes it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    pod = _Pod(engine, manifest, [dict(o) for o in objects], workdir, timeout)
    result = PodRun()
    for container in pod.spec.get("initContainers") or []:
        result.runs.append(pod.run(container, init=True))
        if result.runs[-1].rc != 0:
            return result
    result.runs.append(pod.run(pod.spec["containers"][0], init=False))
    return result

