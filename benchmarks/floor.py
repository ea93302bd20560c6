#!/usr/bin/env python3
"""The least two mandated steps of a render cost, timed alone: a floor under conngen's time.

Usage: python benchmarks/floor.py CONFIG [REPEAT]  (prints JSON: step -> median seconds)

conngen reads user YAML with PyYAML's C parser and renders every object through a Jinja
template (the design fixes both). Each step is timed here at its barest, in one process:

- `read`: pulling the libyaml events of the config and its catalogs into Python, before
  anything is built from them (no resolving, no documents, no checks);
- `render`: the bundled templates rendered by a plain, unsandboxed Jinja environment with
  `json.dumps` as the filter, for the plan conngen makes of CONFIG (planned beforehand,
  not timed), with no parse-back, no checks and nothing written.

Their sum is less CPU time than any render takes with this stack; run.py sets it beside the budget.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import jinja2
import yaml
from yaml._yaml import CParser

from generator.cli import load_config_file
from generator.plan import make_plan
from generator.render import builtin_templates_dir

# base64 of {"auths":{}}: each Secret's real value is a few dozen bytes longer, which Jinja only copies
PLACEHOLDER = "eyJhdXRocyI6e319"


def median_time(step: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs after one warm-up run."""
    step()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def pull_events(texts: list[str]) -> int:
    count = 0
    for text in texts:
        parser = CParser(text)
        while parser.get_event() is not None:
            count += 1
            if not parser.check_event():
                break
    return count


def plain_renderer(config_file: Path) -> tuple[Callable[[], list[str]], int]:
    """A function rendering every object of the config's plan with plain Jinja, and their count."""
    config, _ = load_config_file(str(config_file), None, None)
    plan = make_plan(config)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(builtin_templates_dir())),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["json"] = json.dumps
    secret_template = env.get_template("secret.yaml.j2")
    job_templates = {job.template: env.get_template(job.template) for job in plan.jobs}

    def render() -> list[str]:
        texts = [secret_template.render(secret=secret, dockerconfigjson_b64=PLACEHOLDER) for secret in plan.secrets]
        texts.extend(job_templates[job.template].render(job=job) for job in plan.jobs)
        return texts

    return render, len(plan.secrets) + len(plan.jobs)


def main(argv: list[str]) -> int:
    config_file = Path(argv[1])
    repeat = int(argv[2]) if len(argv) > 2 else 5
    catalogs = yaml.safe_load(config_file.read_text())["catalog"]
    texts = [config_file.read_text()] + [(config_file.parent / c).read_text() for c in catalogs]
    render, objects = plain_renderer(config_file)
    times = {"read": median_time(lambda: pull_events(texts), repeat), "render": median_time(render, repeat)}
    print(json.dumps({**times, "objects": objects}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
