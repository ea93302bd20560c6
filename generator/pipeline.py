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
from generator.read.ahead import forget_files
from generator.read.config import load_config
from generator.render.credentials import docker_config_json, external_secret_parts
from generator.errors import Issue, UserError
from generator.model.records import GeneratorConfig
from generator.plan.planner import JobPlan, Plan, make_plan
from generator.render.builtin import Builtin
from generator.speed.ahead import worth_it
from generator.render.sources import builtin_templates_dir, job_templates_digest, variables
from generator.render.routes import job_route, route_issue, route_problems

if TYPE_CHECKING:
    from generator.render.renderer import Renderer

AHEAD_JOBS = 1000  # Jobs rendered by a second process meanwhile, from this many (speed/ahead.py)
SECRET_WORK = 0.55  # reading a Secret's credential files and rendering it, in Jobs rendered (measured at 10k)


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
    builtin = renderer if out is not None and isinstance(renderer, Builtin) else None  # writes the stream straight
    job_todo = [(job.template, (job,), "batch/v1", "Job", job.name) for job in plan.jobs]
    # the last Jobs, rendered by a child process meanwhile: as many as make its work this process's
    ahead_jobs = min(len(job_todo), int(len(job_todo) + SECRET_WORK * len(plan.secrets) + 1) // 2)
    ahead = builtin.ahead(_runs(job_todo[len(job_todo) - ahead_jobs:])) \
        if builtin and ahead_jobs and worth_it(ahead_jobs, AHEAD_JOBS) else None
    try:
        todo, notes, problems = _todo(plan, environ, job_todo)
        objects = _checked_objects(renderer, todo, problems, config.templates_dir is not None, not builtin)
        warned = strictly(config, list(warnings or []) + list(plan.warnings) + notes)
    except BaseException:
        if ahead is not None:
            ahead.cancel()
        raise
    finally:
        forget_files()  # credential files read ahead (read/ahead.py) serve this render only
    if builtin and out is not None:
        builtin.stream(_runs(todo[:len(todo) - ahead_jobs] if ahead else todo), out, ahead)
        objects = []
    elif out is not None:
        from generator.render.emit import yaml_stream

        out.write(yaml_stream(objects))
    return Result(objects, warned, plan)


def _todo(plan: Plan, environ: Mapping[str, str], jobs: list[tuple]) -> tuple[list[tuple], list[Issue], list[Issue]]:
    """(template, its variables' values (render.variables), apiVersion, kind, name) of every object in
    stream order, the notes about docker configs, and the problems reading credentials."""
    problems: list[Issue] = []
    notes: list[Issue] = []
    todo: list[tuple] = []
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
    todo.extend(("serviceaccount.yaml.j2", (account,), "v1", "ServiceAccount", account.name)
                for account in plan.service_accounts)
    return todo + jobs, notes, problems


def _checked_objects(renderer: Builtin | Renderer, todo: list[tuple], problems: list[Issue], user_templates: bool,
                     every: bool) -> list[dict]:
    """The objects rendered alone and checked (`_checked`): the first of each template, or `every` one;
    every Job's route is checked with user templates. Raises with `problems` and every one found here."""
    objects: list[dict] = []
    seen: set[str] = set()
    for name, context, *what in todo:
        first = name not in seen
        if not (first or every):
            continue
        seen.add(name)
        job = context[0] if what[1] == "Job" and (first or user_templates) else None
        obj, problem = _checked(renderer, name, dict(zip(variables(name), context)), what, job)
        if problem is not None:
            problems.append(problem)
        else:
            objects.append(obj)
    if problems:
        raise UserError(problems)
    return objects


def _runs(todo: list[tuple]) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
    """The stream's runs: (template, its variables, the values of each of its objects in a row)."""
    return [(name, variables(name), [entry[1] for entry in group]) for name, group in groupby(todo, key=lambda e: e[0])]


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
