"""Writing objects out: one deterministic YAML stream (PyYAML's C dumper when present)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import yaml



class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (scripts, certificates) as literal blocks, so they stay readable."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value[:1].isspace() and all(
        c == "\n" or c.isprintable() for c in value) and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def yaml_stream(objects: Iterable[dict]) -> str:
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096, explicit_start=True)


def write_dir(objects: list[dict], directory: Path) -> list[Path]:
    """One file per object, each written atomically (temp file, then rename)."""
    import tempfile  # only for -o DIR: kept off the plugin's start-up path

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in objects:
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        target = directory / name
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(yaml_stream([obj]))
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        written.append(target)
    return written
