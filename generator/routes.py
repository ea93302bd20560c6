"""Following a rendered Job's credentials: which file the builder opens, and what is there.

This reads only the Kubernetes object (env, volumeMounts, volumes, args), never the plan,
so a template override that moves a mount or renames a key is caught before it ships.
`explain` prints these routes; rendering refuses a Job whose route is broken.
"""

from __future__ import annotations

import posixpath

from msgspec import Struct

from generator.builders import BuilderProfile


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
        source = next((v for v in spec.get("volumes") or [] if v["name"] == mount["name"]), {})
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
