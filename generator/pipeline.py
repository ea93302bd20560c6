"""read → model → plan → render, shared by every front end (CLI, exec plugin, KRM, Helm)."""

from __future__ import annotations

import base64
from itertools import groupby
from pathlib import Path
from typing import Any, Mapping, TextIO

from msgspec import Struct

from generator.builders import PROFILES
from generator.collector import paused
from generator.config import load_config
from generator.credentials import docker_config_json, external_secret_parts
from generator.errors import Issue, Origin, UserError
from generator.model import GeneratorConfig
from generator.plan import JobPlan, Plan, make_plan
from generator.render import Renderer
from generator.routes import credential_route


class Result(Struct):
    """What a render produced: the objects (none if built-in templates wrote the stream), warnings and the plan."""

    objects: list[Any]
    warnings: list[Issue]
    plan: Plan


@paused
def load(data: Any, display: str, root: Path, restrictor: str | None = None,
         templates_dir: str | None = None) -> tuple[GeneratorConfig, list[Issue]]:
    """Check a generator config and its catalogs; raise with every error found."""
    config, issues = load_config(data, display, root, restrictor)
    errors = [i for i in issues if i.severity == "error"]
    if errors or config is None:
        raise UserError(issues)
    if templates_dir:
        from msgspec.structs import replace
        config = replace(config, templates_dir=templates_dir)
    return config, issues


@paused
def generate(config: GeneratorConfig, environ: Mapping[str, str], warnings: list[Issue] | None = None,
             out: TextIO | None = None) -> Result:
    """Render every object of the config's plan; raise with every problem found.

    With `out`, the YAML stream is written to it. Built-in templates render it straight, a
    run of objects per template call, once every problem is known; the first Job of each
    template is also parsed back and its credential route checked. Otherwise, and for user
    templates, every object is parsed back and checked.
    """
    plan = make_plan(config)
    renderer = Renderer(config.templates_dir, environ)
    problems: list[Issue] = []
    todo: list[tuple[str, tuple[str, ...], tuple, str, str, str]] = []  # template, names, context, what
    for secret in plan.secrets:
        try:
            if secret.credential.external is not None:
                template, remote = external_secret_parts(secret.credential, secret.servers)
                todo.append(("externalsecret.yaml.j2", _EXTERNAL, (secret, secret.credential.external, template, remote),
                             "external-secrets.io/v1", "ExternalSecret", secret.name))
                continue
            data = base64.b64encode(docker_config_json(secret.credential, secret.servers, environ)).decode("ascii")
        except UserError as exc:
            problems.extend(exc.issues)
            continue
        todo.append(("secret.yaml.j2", ("secret", "dockerconfigjson_b64"), (secret, data), "v1", "Secret", secret.name))
    for account in plan.service_accounts:
        todo.append(("serviceaccount.yaml.j2", ("account",), (account,), "v1", "ServiceAccount", account.name))
    jobs = dict(zip(range(len(todo), len(todo) + len(plan.jobs)), plan.jobs))
    todo.extend((job.template, ("job",), (job,), "batch/v1", "Job", job.name) for job in plan.jobs)
    straight = out is not None and config.templates_dir is None
    objects: list[Any] = []
    checked: set[str] = set()
    for i, (name, names, context, *what) in enumerate(todo):
        if straight and (i not in jobs or name in checked):
            continue
        checked.add(name)
        obj = renderer.object(name, dict(zip(names, context)), *what)
        if i in jobs:
            problems.extend(_route_problems(obj, jobs[i]))
        objects.append(obj)
    if problems:
        raise UserError(problems)
    if straight:
        renderer.stream([(name, names, [entry[2] for entry in group])
                         for (name, names), group in groupby(todo, key=lambda entry: entry[:2])], out)
        objects = []
    elif out is not None:
        from generator.emit import yaml_stream

        out.write(yaml_stream(objects))
    return Result(objects, list(warnings or []) + list(plan.warnings), plan)


_EXTERNAL = ("secret", "external", "dockerconfigjson_template", "remote_data")


def _route_problems(obj: dict, job: JobPlan) -> list[Issue]:
    """A rendered Job's builder must read the registry Secret the plan mounts for it."""
    route = credential_route(obj, PROFILES[job.builder])
    expected = job.credential
    if expected.secret is not None and (route.secret, route.key) != (expected.secret, expected.key):
        return [Issue(Origin(job.template), f"Job {job.name}: {job.builder} reads {route.reads}, "
                      f"which is {route.key!r} of Secret {route.secret!r}, not {expected.key!r} of {expected.secret!r}",
                      "; ".join(route.problems) or "keep the volume and mount the plan gives")]
    if route.problems and expected.secret is not None:
        return [Issue(Origin(job.template), f"Job {job.name}: " + "; ".join(route.problems))]
    return []
