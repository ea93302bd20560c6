"""What the `conngen` commands share: their common options and reading the generator config.

Commands in other modules (helm.py, doctor.py, scaffold.py) import this, never cli.py, which
only registers them (so no module imports the CLI back).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click

from generator.read.stdin import STDIN

RESTRICTORS = click.Choice(["LoadRestrictionsRootOnly", "LoadRestrictionsNone"])

#: File texts read from stdin (`-`), so that messages about them can still name a line.
STDIN_TEXTS: dict[str, str] = {}


def load_config_file(config_file: str, root: str | None, restrictor: str | None, templates: str | None = None,
                     strict: bool = False) -> Any:
    """The checked config and its warnings; `-` reads stdin, with paths relative to the working directory."""
    from generator.read.ahead import ReadingAhead
    from generator.read.stdin import read_stdin
    from generator import verbose
    from generator.verbose import note
    from generator.read.yamlio import parse_yaml, read_text

    if config_file == "-":
        text = STDIN_TEXTS[STDIN] = read_stdin("the config")
        display, base = STDIN, Path(root or os.getcwd())
    else:
        path = Path(config_file)
        text, display = read_text(path, config_file), config_file
        base = Path(root) if root else path.resolve().parent
    with ReadingAhead(text, base):  # imports the pipeline meanwhile
        from msgspec.structs import replace

        from generator.pipeline import load

        data = parse_yaml(text, display)
        note(f"read config {display}; relative paths start at {base}")
        config, warnings = load(data, display, base, restrictor, str(Path(templates).resolve()) if templates else None)
    if verbose.level >= verbose.VERBOSE:  # notes for every credential: not made unless shown
        _notes(config)
    return (replace(config, strict=True) if strict else config), warnings


def _notes(config: Any) -> None:
    from generator.verbose import note

    catalogs = sorted({c.origin.file for c in config.connections})
    note(f"read catalog{'s' if len(catalogs) != 1 else ''} {', '.join(catalogs) or '(none)'}: "
         f"{len(config.connections)} connections, {len(config.builds)} builds, {len(config.credentials)} credentials")
    for cred in config.credentials:
        note(f"credential {cred.secret_name}: {_sources(cred)}")


def _sources(cred: Any) -> str:
    """Where a credential's values come from, in words: never the values themselves."""
    if cred.external is not None:
        return f"an ExternalSecret from {cred.external.store_kind} {cred.external.store_name}"
    parts = []
    for field in ("docker_config", "username", "password"):
        source = getattr(cred, field)
        if source is None:
            continue
        where = (f"env {source.env}" if source.env else f"file {source.file}" if source.file else
                 f"sops file {source.sops}" + (f" key {source.key}" if source.key else "") if source.sops else "a literal")
        parts.append(f"{field.replace('_c', 'C')} from {where}")
    return ", ".join(parts)


# click's option decorators make a new option each time they are applied, so one serves every command
strict_option = click.option("--strict", is_flag=True, help="Treat warnings as errors (also `strict: true` in the config).")
format_option = click.option("--output", "fmt", type=click.Choice(["text", "json"]), default="text",
                             help="Output format.")
templates_option = click.option("--templates", type=click.Path(file_okay=False, exists=True),
                                help="Directory of template overrides.")


def verbosity(fn: Callable) -> Callable:
    """-q/--quiet and -v/--verbose, the way kubectl-family tools spell them."""
    def set_level(level: int) -> Callable:
        def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
            if value and not ctx.resilient_parsing:
                from generator import verbose

                verbose.set_level(level)
        return callback

    fn = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=set_level(1),
                      help="Say what is read, where credentials come from, the cache decision, and timings "
                           "(never a value).")(fn)
    fn = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=set_level(-1),
                      help="Print only errors.")(fn)
    return fn


def quiet() -> bool:
    from generator import verbose

    return verbose.level < verbose.NORMAL


def root_options(fn: Callable) -> Callable:
    fn = click.option("--root", type=click.Path(file_okay=False),
                      help="Directory relative paths start from (default: the config's directory).")(fn)
    fn = click.option("--load-restrictor", type=RESTRICTORS, default=None,
                      help="LoadRestrictionsNone allows files outside the root.")(fn)
    return fn
