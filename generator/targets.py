"""What `conngen validate DIR` checks: the conngen configs a kustomization lists, or else the
files the pre-commit hook's naming convention picks (generator.yaml, connections.yaml, *.conngen.yaml).

A config listed by a kustomization is checked with that directory as its root, as kustomize runs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from generator.cache import KUSTOMIZATIONS
from generator.config import KIND
from generator.errors import Issue, Origin, UserError
from generator.yamlio import load_yaml_file

#: the same pattern as the `conngen-validate` hook in .pre-commit-hooks.yaml
CONVENTION = re.compile(r"(^|/)(generator|connections)\.ya?ml$|\.conngen\.ya?ml$")


def expand(args: tuple[str, ...], root: str | None) -> tuple[list[tuple[str, str | None]], list[Issue]]:
    """Each argument as (file, root) pairs: a file stays itself, a directory becomes what it holds."""
    targets: list[tuple[str, str | None]] = []
    issues: list[Issue] = []
    for arg in args:
        path = Path(arg)
        if not path.is_dir():
            targets.append((arg, root))
            continue
        kfile = _kustomization(path)
        try:
            found = _kustomization_configs(path, kfile) if kfile else _by_convention(path)
        except UserError as exc:
            issues.extend(exc.issues)
            continue
        targets.extend((file, root or (arg if kfile else None)) for file in found)
    return targets, issues


def _kustomization(directory: Path) -> Path | None:
    return next((directory / name for name in KUSTOMIZATIONS if (directory / name).is_file()), None)


def _kustomization_configs(directory: Path, kfile: Path) -> list[str]:
    shown = str(kfile)
    data = load_yaml_file(kfile, shown)
    entries = data.get("generators") if isinstance(data, dict) else None
    configs = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        candidate = directory / entry if isinstance(entry, str) else None
        if candidate is None or not candidate.is_file():
            continue
        doc = load_yaml_file(candidate, str(candidate))
        if isinstance(doc, dict) and doc.get("kind") == KIND:
            configs.append(str(candidate))
    if not configs:
        raise UserError([Issue(Origin(shown, ("generators",)), f"lists no conngen config (kind: {KIND}) under generators:",
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
