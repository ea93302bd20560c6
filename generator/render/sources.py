"""The built-in templates' files: where they are, what each is rendered with, and what depends on their bytes.

Shared by the Jinja-free built-in path (builtin.py) and Jinja's (renderer.py), with the one check
of what any template rendered: the object its plan describes (`expect`).
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from generator.errors import Issue, Origin, UserError, shown
from generator.model.names import sha256
from generator.render.placement import REWRITE
from generator.speed import precompiled

#: the variables each built-in template is rendered with, in order (docs/templates.md); a builder's Job template gets `job`
VARIABLES = {
    "secret.yaml.j2": ("secret", "dockerconfigjson_b64"),
    "externalsecret.yaml.j2": ("secret", "external", "dockerconfigjson_template", "remote_data"),
    "serviceaccount.yaml.j2": ("account",),
}


def variables(template: str) -> tuple[str, ...]:
    """The names a template's context holds (see VARIABLES)."""
    return VARIABLES.get(template, ("job",))


def builtin_templates_dir() -> Path:
    spec = find_spec("generator.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "templates"


def job_templates_digest(search: list[str], template: str) -> str:
    """A digest of the sources a builder's Job is rendered from: its template and every `_` partial.

    Looked up as the template loader does (the first directory that has a name wins), so an
    override or a conngen upgrade that changes what a Job is made of names a new Job.
    """
    found: dict[str, bytes] = {}
    for directory in search:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if name in found or not (name == template or (name.startswith("_") and name.endswith(".j2"))):
                continue
            try:
                found[name] = _read(os.path.join(directory, name))
            except OSError:
                continue
    digest = sha256()
    for name in sorted(found):
        digest.update(name.encode() + b"\0" + sha256(found[name]).digest())
    return digest.hexdigest()


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def builtin_sources() -> dict[str, bytes]:
    """Every built-in template's bytes by name: each loop's code depends on them all."""
    directory = str(builtin_templates_dir())
    return {n: _read(os.path.join(directory, n)) for n in sorted(os.listdir(directory)) if n.endswith(".j2")}


def loop_module(name: str) -> str:
    return precompiled.module_file(str(builtin_templates_dir()), name + " loop")


def loop_key(sources: dict[str, bytes], names: tuple[str, ...]) -> str:
    """A loop's code depends on its variables and on every built-in template it may write into itself."""
    return precompiled.key(REWRITE, repr(names).encode(), *(p for n, s in sources.items() for p in (n.encode(), s)))


def expect(obj: Any, template: str, api_version: str, kind: str, name: str) -> dict:
    """A template must render exactly the object its plan describes."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    got = (obj.get("apiVersion"), obj.get("kind"), meta.get("name") if isinstance(meta, dict) else None) \
        if isinstance(obj, dict) else None
    if got != (api_version, kind, name):
        raise UserError([Issue(Origin(template), f"template rendered {shown(got)}, expected {api_version} {kind} {shown(name)}",
                               "a template renders one object: keep apiVersion, kind and metadata.name")])
    return obj
