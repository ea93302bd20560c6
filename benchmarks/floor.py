#!/usr/bin/env python3
"""Two steps every render takes, timed alone at their barest: a floor under conngen's time.

Usage: python benchmarks/floor.py CONFIG [REPEAT]  (prints JSON: step -> median seconds)

conngen reads user YAML with PyYAML's C parser and renders each object with one Jinja
template call (the design fixes both). Each step is timed here with the least work it can
be, in one process, with the cycle collector off as in conngen:

- `read`: pulling the libyaml events of the config and its catalogs into Python, before
  anything is built from them (no resolving, no documents, no checks);
- `render`: the bundled templates rendered by a plain, unsandboxed Jinja environment with
  `json.dumps` as the filter, one `Template.render` per Secret and Job of the plan conngen
  makes of CONFIG (planned beforehand, not timed), with no parse-back, no checks and
  nothing written.

A render that takes these steps cannot spend less time on them on one core; run.py sets
their sum beside the budget.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import jinja2
from yaml._yaml import CParser

from generator.options import load_config_file
from generator.pipeline import planned
from generator.render import builtin_templates_dir
from generator.yamlio import load_yaml_file

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


def input_texts(config_file: Path) -> list[str]:
    """The config's text and its catalogs' (`catalog:` is one path or a list, relative to the config)."""
    catalogs = load_yaml_file(config_file, str(config_file)).get("catalog") or []
    names = [catalogs] if isinstance(catalogs, str) else catalogs
    return [config_file.read_text()] + [(config_file.parent / name).read_text() for name in names]


def pull_events(texts: list[str]) -> int:
    """Every libyaml event of the texts, pulled into Python and dropped; returns how many."""
    count = 0
    for text in texts:
        parser = CParser(text)
        while parser.get_event() is not None:
            count += 1
            if not parser.check_event():
                break
    return count


def plain_renderer(config_file: Path) -> tuple[Callable[[], list[str]], int]:
    """A function rendering each Secret and Job of the config's plan with plain Jinja, and their count.

    Only file/env credentials and no ServiceAccounts, as the benchmark catalogs have: other
    plans render other templates, which this floor does not time.
    """
    config, _ = load_config_file(str(config_file), None, None)
    plan = planned(config)
    if plan.service_accounts or any(secret.credential.external is not None for secret in plan.secrets):
        raise SystemExit("floor.py times file/env credentials and Jobs only: this plan has more")
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
    texts = input_texts(config_file)
    render, objects = plain_renderer(config_file)
    gc.disable()  # conngen renders with the cycle collector paused (generator/collector.py)
    times = {"read": median_time(lambda: pull_events(texts), repeat), "render": median_time(render, repeat)}
    print(json.dumps({**times, "events": pull_events(texts), "objects": objects}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
