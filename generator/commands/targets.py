"""What `conngen validate DIR` checks: the conngen configs a kustomization lists, or else the
files the pre-commit hook's naming convention picks (generator.yaml, connections.yaml, *.conngen.yaml).

A config listed by a kustomization is checked with that directory as its root, as kustomize runs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from generator.read.config import KIND
from generator.errors import Issue, Origin, UserError
from generator.read.kustomization import generators, kustomization_file
from generator.read.yamlio import load_yaml_file

#: the same pattern as the `conngen-validate` hook in .pre-commit-hooks.yaml
CONVENTION = re.compile(r"(^|/)(generator|connections)\.ya?ml$|\.conngen\.ya?ml$")


def expand(arg: str, root: str | None) -> list[tuple[str, str | None]]:
    """One argument as (file, root) pairs: a file stays itself, a directory becomes what it holds."""
    path = Path(arg)
    if not path.is_dir():
        return [(arg, root)]
    kfile = kustomization_file(path)
    if kfile is None:
        return [(file, root) for file in _by_convention(path)]
    return [(file, root or arg) for file in _kustomization_configs(kfile)]


def _kustomization_configs(kfile: Path) -> list[str]:
    configs = []
    for _, candidate in generators(kfile):
        if not candidate.is_file():
            continue
        doc = load_yaml_file(candidate, str(candidate))
        if isinstance(doc, dict) and doc.get("kind") == KIND:
            configs.append(str(candidate))
    if not configs:
        raise UserError([Issue(Origin(str(kfile), ("generators",)), f"lists no conngen config (kind: {KIND}) under generators:",
                               "add the generator config's file name under generators:, or validate the files "
                               "themselves")])
    return configs


def _by_convention(directory: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [os.path.join(dirpath, f) for f in sorted(filenames) if CONVENTION.search(f)]
    if not found:
        raise UserError([Issue(Origin(str(directory)), "holds no kustomization and no file named generator.yaml, "
                               "connections.yaml or *.conngen.yaml",
                               "name the files to validate, or run it on the kustomization directory")])
    return found
