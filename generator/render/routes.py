"""Following a rendered Job's credentials: which file the builder opens, and what is there.

A route is read only off the Kubernetes object (env, volumeMounts, volumes, args), never the
plan, so a template override that moves a mount or renames a key is caught before it ships;
`route_problems` then holds it against what the plan mounts. `explain` prints the routes and
their problems; rendering refuses a Job that has any. Both say them in the same words.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from msgspec import Struct

from generator.model.builders import PROFILES, BuilderProfile
from generator.errors import Issue, Origin, UserError, shown

if TYPE_CHECKING:
    from generator.plan.planner import JobPlan


class Route(Struct, frozen=True):
    """Which file a builder in a rendered Job would read its docker config from, and what is mounted there."""

    reads: str
    docker_config: str | None
    mount_path: str | None
    volume: str | None
    secret: str | None
    key: str | None
    destinations: tuple[str, ...]
    problems: tuple[str, ...]


def _destinations(args: list[str]) -> tuple[str, ...]:
    """Pushed images: kaniko and the dockerizer `-d`/`--destination`, buildah `--tag`, buildctl `--output name=`."""
    out = []
    for i, arg in enumerate(args):
        if arg.startswith(("--destination=", "-d=", "--tag=")):
            out.append(arg.split("=", 1)[1])
        elif arg in ("-d", "--destination") and i + 1 < len(args):
            out.append(args[i + 1])
        elif arg.startswith("--output="):
            # buildctl's exporter attributes are one CSV record: type=image,"name=a,b",push=true
            import csv  # only buildkit Jobs need it

            for attr in next(csv.reader([arg.split("=", 1)[1]])):
                if attr.startswith("name="):
                    out.extend(n for n in attr[len("name="):].split(",") if n)
    return tuple(out)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _records(value: object, *required: str, optional: tuple[str, ...] = ()) -> bool:
    """A list of mappings whose `required` (and present `optional`) fields are strings."""
    return isinstance(value, list) and all(
        isinstance(v, dict) and all(isinstance(v.get(f), str) for f in required)
        and all(isinstance(v[f], str) for f in optional if f in v) for v in value)


def pod_shape_problem(job: dict) -> str | None:
    """What in a rendered Job's pod spec a route cannot follow (and Kubernetes would refuse), if anything.

    A user template may render any data; this checks the fields credential_route reads.
    """
    spec = job.get("spec", {}).get("template", {}).get("spec") if isinstance(job.get("spec"), dict) and \
        isinstance(job["spec"].get("template"), dict) else None
    if not isinstance(spec, dict):
        return "spec.template.spec is not a mapping"
    containers = spec.get("containers")
    if not _records(containers, "name") or not containers:
        return "spec.template.spec.containers is not a non-empty list of containers with names"
    if not _records(spec.get("initContainers") or [], "name"):
        return "spec.template.spec.initContainers is not a list of containers with names"
    for c in containers + (spec.get("initContainers") or []):
        for field in ("args", "command"):
            if not _strings(c.get(field) or []):
                return f"container {c['name']}: {field} is not a list of strings"
        if not _records(c.get("env") or [], "name", optional=("value",)):
            return f"container {c['name']}: env is not a list of {{name, value}} with string values"
        if not _records(c.get("volumeMounts") or [], "name", "mountPath"):
            return f"container {c['name']}: volumeMounts is not a list of {{name, mountPath}}"
    volumes = spec.get("volumes") or []
    if not _records(volumes, "name"):
        return "spec.template.spec.volumes is not a list of volumes with names"
    for v in volumes:
        secret = v.get("secret")
        if secret is not None and not (isinstance(secret, dict) and _records(secret.get("items") or [], "key", "path")
                                       and isinstance(secret.get("secretName", ""), str)):
            return f"volume {v['name']}: secret is not {{secretName, items: [{{key, path}}]}}"
    return None


def credential_route(job: dict, profile: BuilderProfile) -> Route:
    spec = job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env") or [] if "value" in e}
    reads = profile.reads(env)
    problems = []
    names = [v["name"] for v in spec.get("volumes") or []]
    if len(names) != len(set(names)):
        problems.append("two volumes share a name")
    for c in spec["containers"] + (spec.get("initContainers") or []):
        paths = [m["mountPath"] for m in c.get("volumeMounts") or []]
        if len(paths) != len(set(paths)):
            problems.append(f"container {c['name']} mounts two volumes at the same path")
    mounts = sorted(container.get("volumeMounts") or [], key=lambda m: -len(m["mountPath"]))
    mount = next((m for m in mounts if reads.startswith(m["mountPath"].rstrip("/") + "/")), None)
    volume = secret = key = None
    if mount is None:
        problems.append(f"nothing is mounted where {profile.name} reads {reads}")
    else:
        rel = posixpath.relpath(reads, mount["mountPath"])
        source: dict = next((v for v in spec.get("volumes") or [] if v["name"] == mount["name"]), {})
        volume = mount["name"]
        if "secret" not in source:
            problems.append(f"volume {volume} at {mount['mountPath']} is not a Secret")
        else:
            secret = source["secret"].get("secretName")
            items = source["secret"].get("items")
            if items:
                key = next((i["key"] for i in items if i["path"] == rel), None)
                if key is None:
                    problems.append(f"Secret {secret} projects no file named {rel} at {mount['mountPath']}")
            else:
                key = rel
    return Route(reads, env.get(profile.dir_env), mount["mountPath"] if mount else None, volume, secret, key,
                 _destinations(container.get("args") or []), tuple(problems))


def job_route(obj: dict, job: JobPlan) -> Route:
    """The credential route of `job` rendered as `obj`; raises when the template made something a route cannot follow."""
    shape = pod_shape_problem(obj)
    if shape is not None:
        raise UserError([Issue(Origin(job.template), f"Job {job.name}: {shape}", "a template must render a valid Job")])
    return credential_route(obj, PROFILES[job.builder])


def route_problems(route: Route, job: JobPlan) -> tuple[str, ...]:
    """What keeps the builder from reading the registry Secret the plan mounts for `job`; () when nothing does.

    A Job without a registry Secret (a credential helper, an anonymous push) has no route to hold.
    """
    expected = job.credential
    if expected.secret is None:
        return ()
    if (route.secret, route.key) == (expected.secret, expected.key):
        return route.problems
    found = (f"which is {shown(route.key)} of Secret {shown(route.secret)}" if route.secret
             else "where no Secret is mounted")
    return (f"{job.builder} reads {route.reads}, {found}, not {shown(expected.key)} of {shown(expected.secret)} "
            f"(the plan mounts it as {expected.mounted_file})", *route.problems)


def route_issue(job: JobPlan, problems: tuple[str, ...]) -> Issue:
    """`route_problems` as the error that refuses the render."""
    return Issue(Origin(job.template), f"Job {job.name}: {problems[0]}",
                 "; ".join(problems[1:]) or "keep the volume and mount the plan gives")
