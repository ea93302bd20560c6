"""read → model → plan → render, shared by every front end (CLI, exec plugin, KRM, Helm)."""

from __future__ import annotations

import base64
import os
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, TextIO

from msgspec import Struct, structs

from generator.model.builders import PROFILES
from generator.speed.collector import paused
from generator.read.config import load_config
from generator.render.credentials import docker_config_json, external_secret_parts
from generator.errors import Issue, UserError
from generator.model.records import GeneratorConfig
from generator.plan.planner import JobPlan, Plan, make_plan
from generator.render.builtin import Builtin
from generator.render.sources import builtin_templates_dir, job_templates_digest, variables
from generator.render.routes import job_route, route_issue, route_problems

if TYPE_CHECKING:
    from generator.render.renderer import Renderer


class Result(Struct):
    """What a render produced: the objects (none if built-in templates wrote the stream), warnings and the plan."""

    objects: list[Any]
    warnings: list[Issue]
    plan: Plan

    @property
    def count(self) -> int:
        """How many objects were rendered."""
        return len(self.plan.secrets) + len(self.plan.service_accounts) + len(self.plan.jobs)


@paused
def load(data: Any, display: str, root: Path, restrictor: str | None = None,
         templates_dir: str | None = None) -> tuple[GeneratorConfig, list[Issue]]:
    """Check a generator config and its catalogs; raise with every error found."""
    config, issues = load_config(data, display, root, restrictor)
    errors = [i for i in issues if i.severity == "error"]
    if errors or config is None:
        raise UserError(issues)
    if templates_dir:  # named on the command line: its files stay inside it, unless nothing is restricted
        config = structs.replace(config, templates_dir=templates_dir,
                         templates_root=config.templates_root and os.path.realpath(templates_dir))
    return config, issues


def planned(config: GeneratorConfig) -> Plan:
    """The config's plan, its Job names made from the templates its builders render with."""
    search = [config.templates_dir] if config.templates_dir else []
    search.append(str(builtin_templates_dir()))
    templates = {PROFILES[b.builder].template for b in config.builds}
    return make_plan(config, {t: job_templates_digest(search, t) for t in templates})


@paused
def generate(config: GeneratorConfig, environ: Mapping[str, str], warnings: list[Issue] | None = None,
             out: TextIO | None = None) -> Result:
    """Render every object of the config's plan; raise with every problem found.

    With `out`, the YAML stream is written to it. Built-in templates render it straight, once
    every problem is known. Every object is checked by one path (`_checked`): all of a user
    template's, the first of each built-in template (their shapes are proven by tests).
    Without `out`, or with user templates, every object is rendered alone and read back; user
    templates' objects are then written by PyYAML.
    """
    plan = planned(config)
    renderer = renderer_for(config, environ)
    problems: list[Issue] = []
    notes: list[Issue] = []
    todo: list[tuple[str, tuple, str, str, str]] = []  # template, its variables' values (render.variables), what
    helpers = _helpers(plan)
    for secret in plan.secrets:
        try:
            if secret.credential.external is not None:
                template, remote = external_secret_parts(secret.credential, secret.servers)
                todo.append(("externalsecret.yaml.j2", (secret, secret.credential.external, template, remote),
                             "external-secrets.io/v1", "ExternalSecret", secret.name))
                continue
            data = docker_config_json(secret.credential, secret.servers, environ, helpers.get(secret.name), notes)
        except UserError as exc:
            problems.extend(exc.issues)
            continue
        todo.append(("secret.yaml.j2", (secret, base64.b64encode(data).decode("ascii")), "v1", "Secret", secret.name))
    for account in plan.service_accounts:
        todo.append(("serviceaccount.yaml.j2", (account,), "v1", "ServiceAccount", account.name))
    jobs = dict(zip(range(len(todo), len(todo) + len(plan.jobs)), plan.jobs))
    todo.extend((job.template, (job,), "batch/v1", "Job", job.name) for job in plan.jobs)
    straight = out is not None and config.templates_dir is None
    objects: list[Any] = []
    checked: set[str] = set()
    for i, (name, context, *what) in enumerate(todo):
        check = config.templates_dir is not None or name not in checked
        if straight and not check:
            continue
        checked.add(name)
        obj, problem = _checked(renderer, name, dict(zip(variables(name), context)), what, jobs.get(i) if check else None)
        if problem is not None:
            problems.append(problem)
            continue
        objects.append(obj)
    if problems:
        raise UserError(problems)
    warned = strictly(config, list(warnings or []) + list(plan.warnings) + notes)
    if out is not None and isinstance(renderer, Builtin):
        renderer.stream([(name, variables(name), [entry[1] for entry in group])
                         for name, group in groupby(todo, key=lambda entry: entry[0])], out)
        objects = []
    elif out is not None:
        from generator.render.emit import yaml_stream

        out.write(yaml_stream(objects))
    return Result(objects, warned, plan)


def renderer_for(config: GeneratorConfig, environ: Mapping[str, str] | None) -> Builtin | Renderer:
    """Built-in templates render without Jinja; a templates directory's through Jinja, imported only then."""
    if config.templates_dir is None:
        return Builtin()
    from generator.render.renderer import Renderer

    return Renderer(config.templates_dir, environ, config.templates_root)


def _checked(renderer: Builtin | Renderer, name: str, context: dict, what: list[str], job: JobPlan | None
             ) -> tuple[dict, Issue | None]:
    """The one check of a rendered object: read back with the planned apiVersion, kind and name (else it
    raises), and, for a Job, its credential route: a pod a route can follow, whose builder reads the
    Secret the plan mounts (else the problem, so that one run names every Job's)."""
    obj = renderer.object(name, context, *what)
    if job is None:
        return obj, None
    try:
        wrong = route_problems(job_route(obj, job), job)
    except UserError as exc:
        return obj, exc.issues[0]
    return obj, route_issue(job, wrong) if wrong else None


def strictly(config: GeneratorConfig, warnings: list[Issue]) -> list[Issue]:
    """The warnings, raised as errors when the config (or `--strict`) asks for it."""
    if config.strict and warnings:
        raise UserError(as_errors(warnings))
    return warnings


def as_errors(issues: list[Issue]) -> list[Issue]:
    """Every warning among `issues` as an error that says why (strict)."""
    return [structs.replace(i, severity="error", hint=(i.hint + "; " if i.hint else "") + "strict: warnings are errors")
            if i.severity == "warning" else i for i in issues]


def _helpers(plan: Plan) -> dict[str, frozenset[str]]:
    """For each Secret a Job mounts, the credential helpers every builder mounting it has."""
    builders: dict[str, set[str]] = {}
    for job in plan.jobs:
        if job.credential.secret is not None:
            builders.setdefault(job.credential.secret, set()).add(job.builder)
    return {secret: frozenset.intersection(*(PROFILES[b].helpers for b in names)) for secret, names in builders.items()}
