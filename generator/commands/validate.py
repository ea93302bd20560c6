"""`conngen validate`: every problem in every file, not just the first."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping, TypeVar

from generator.read.catalog import LEGACY_KEY, legacy_private_registries, load_catalog_file
from generator.read.config import KIND
from generator.errors import Issue, Origin, UserError
from generator.read.yamlio import load_yaml_file

T = TypeVar("T")


def validate_paths(args: tuple[str, ...], root: str | None, restrictor: str | None, skip_credentials: bool,
                   environ: Mapping[str, str]) -> list[Issue]:
    """The problems of every file the arguments name (a directory: the files it stands for, targets.py)."""
    from generator.commands.targets import expand
    from generator.verbose import note

    issues: list[Issue] = []
    targets = [target for arg in args for target in _found(lambda: expand(arg, root), issues)]
    for file, file_root in targets:
        note(f"validating {file}" + (f" (root {file_root})" if file_root else ""))
        # a catalog given beside the config that reads it would report its problems twice
        found = _found(lambda: _validate_one(file, file_root, restrictor, skip_credentials, environ), issues)
        issues.extend(i for i in found if i not in issues)
    return issues


def _found(step: Callable[[], list[T]], issues: list[Issue]) -> list[T]:
    """What `step` returns, or nothing when it raises: its errors join `issues`, to be listed with the rest."""
    try:
        return step()
    except UserError as exc:
        issues.extend(i for i in exc.issues if i not in issues)
        return []


def _validate_one(file: str, root: str | None, restrictor: str | None, skip_credentials: bool,
                  environ: Mapping[str, str]) -> list[Issue]:
    from generator.pipeline import generate, load, planned, strictly

    path = Path(file)
    data = load_yaml_file(path, file)
    if isinstance(data, dict) and data.get("kind") == KIND:
        config, warnings = load(data, file, Path(root) if root else path.resolve().parent, restrictor)
        if skip_credentials:
            return strictly(config, warnings + list(planned(config).warnings))
        with open(os.devnull, "w") as discard:  # rendered and checked as `conngen render` does, nothing kept
            return generate(config, environ, warnings, out=discard).warnings
    if isinstance(data, dict) and ("connections" in data or "artifactsStore" in data):
        return load_catalog_file(path, file)[1]
    if isinstance(data, dict) and LEGACY_KEY in data:
        return [legacy_private_registries(data, file)]
    return [Issue(Origin(file), f"not a generator config (kind: {KIND}) nor a catalog (connections:)",
                  "validate generator configs and catalog files")]
