"""read → model → plan → render, shared by every front end (CLI, exec plugin, KRM, Helm)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from msgspec import Struct, structs

from generator.builders import PROFILES
from generator.collector import paused
from generator.config import load_config
from generator.credentials import docker_config_json, external_secret_parts
from generator.errors import Issue, UserError
from generator.model import GeneratorConfig
from generator.lifecycle import job_templates_digest
from generator.plan import Plan, make_plan
from generator.render import Renderer, builtin_templates_dir
from generator.routes import job_route, route_issue, route_problems


class Result(Struct):
    """What a render produced: the objects (or what `keep` made of them), warnings and the plan."""

    objects: list[Any]  # the rendered objects, or what `keep` made of each
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
             keep: Callable[[dict], Any] | None = None) -> Result:
    """Render every object of the config's plan; raise with every problem found.

    `keep` turns each checked object into what the caller holds on to (`conngen render` keeps
    its YAML text, a third of the memory of the object itself on large catalogs).
    """
    plan = planned(config)
    renderer = Renderer(config.templates_dir, environ, config.templates_root)
    objects: list[Any] = []
    add = objects.append if keep is None else (lambda obj: objects.append(keep(obj)))
    problems: list[Issue] = []
    notes: list[Issue] = []
    for secret in plan.secrets:
        try:
            if secret.credential.external is not None:
                add(renderer.external_secret(secret, *external_secret_parts(secret.credential, secret.servers)))
                continue
            data = docker_config_json(secret.credential, secret.servers, environ, _helpers(plan, secret.name), notes)
        except UserError as exc:
            problems.extend(exc.issues)
            continue
        add(renderer.secret(secret, data))
    for account in plan.service_accounts:
        add(renderer.service_account(account))
    for job in plan.jobs:
        obj = renderer.job(job)
        try:
            wrong = route_problems(job_route(obj, job), job)
        except UserError as exc:
            problems.extend(exc.issues)
            continue
        if wrong:
            problems.append(route_issue(job, wrong))
        add(obj)
    if problems:
        raise UserError(problems)
    return Result(objects, strictly(config, list(warnings or []) + list(plan.warnings) + notes), plan)


def strictly(config: GeneratorConfig, warnings: list[Issue]) -> list[Issue]:
    """The warnings, raised as errors when the config (or `--strict`) asks for it."""
    if config.strict and warnings:
        raise UserError(as_errors(warnings))
    return warnings


def as_errors(issues: list[Issue]) -> list[Issue]:
    """Every warning among `issues` as an error that says why (strict)."""
    return [structs.replace(i, severity="error", hint=(i.hint + "; " if i.hint else "") + "strict: warnings are errors")
            if i.severity == "warning" else i for i in issues]


def _helpers(plan: Plan, secret: str) -> frozenset[str] | None:
    """The credential helpers every builder mounting `secret` has; None when no Job mounts it."""
    builders = {job.builder for job in plan.jobs if job.credential.secret == secret}
    if not builders:
        return None
    return frozenset.intersection(*(PROFILES[b].helpers for b in builders))
