"""The `conngen` command line: the commands, registered here, and the one place they end (`LazyGroup.invoke`)."""

from __future__ import annotations

import errno
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from generator.errors import Issue, Origin, UserError
from generator.exits import EXIT_USER, guarded
from generator.commands.options import (STDIN_TEXTS, format_option, load_config_file, quiet, root_options, strict_option,
                               templates_option, verbosity)

#: Commands defined in other modules, imported only when they run ("module:attribute").
LAZY_COMMANDS: dict[str, str] = {
    "post-render": "generator.commands.helm:post_render_command",
    "init": "generator.commands.scaffold:init",
    "doctor": "generator.commands.doctor:doctor",
}


class LazyGroup(click.Group):
    """A group whose integration commands are imported on use, keeping start-up small, and
    whose commands all end through the one handler: a command returns its exit code or raises."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(name)
        if target is None:
            return super().get_command(ctx, name)
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        ctx.exit(guarded(lambda: super(LazyGroup, self).invoke(ctx), sys.stderr, _print_user_error,
                         passes=(click.ClickException, click.exceptions.Exit, click.Abort)))


def _print_user_error(exc: UserError) -> None:
    from generator.report import print_issues

    print_issues(exc.issues, texts=STDIN_TEXTS)


def write_dir(objects: list[dict], directory: Path) -> list[Path]:
    """One file per object: written into a fresh directory beside them, then renamed into place.

    Anything that fails while writing (a full disk, a target that is a directory, a parent that
    is a file) leaves the directory as it was; only a rename can fail half-way, and then the
    message says exactly which files were replaced.
    """
    import shutil
    import tempfile  # only for -o DIR: kept off the plugin's start-up path

    from generator.render.emit import yaml_stream

    names = [f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml" for obj in objects]
    where = Origin(str(directory))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = tempfile.mkdtemp(dir=directory, prefix=".conngen-")
    except OSError as exc:
        raise UserError([Issue(where, f"cannot create the output directory ({exc.strerror or type(exc).__name__})",
                               "give -o a directory you can write, or one that does not exist yet")]) from None
    try:
        for name, obj in zip(names, objects):
            target = directory / name
            if target.is_dir() or (target.exists() and not target.is_file()):
                raise UserError([Issue(where, f"{name} is there and is not a file; nothing was written",
                                       "move it away, or give -o another directory")])
            try:
                with open(os.path.join(staging, name), "w", encoding="utf-8") as fh:
                    fh.write(yaml_stream([obj]))
            except OSError as exc:
                raise UserError([Issue(where, f"cannot write {name} ({exc.strerror or type(exc).__name__}); "
                                       "nothing was written")]) from None
        for done, name in enumerate(names):
            try:
                os.replace(os.path.join(staging, name), directory / name)
            except OSError as exc:
                written = ", ".join(names[:done]) or "none"
                raise UserError([Issue(where, f"cannot replace {name} ({exc.strerror or type(exc).__name__}) after "
                                       f"writing {done} of {len(names)} files (written: {written})")]) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [directory / name for name in names]


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              help="Show the version and whether the installed kustomize plugin matches it.",
              callback=lambda ctx, _param, value: value and importlib.import_module("generator.commands.doctor").print_version(ctx))
def cli() -> None:
    """Registry Secrets and image-builder Jobs from a Polyaxon-style connections catalog."""


@cli.command()
@click.argument("config_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Write one file per object into this directory.")
@templates_option
@strict_option
@root_options
@verbosity
def render(config_file: str, output: str | None, templates: str | None, strict: bool, root: str | None,
           load_restrictor: str | None) -> None:
    """Render the Secrets and Jobs of CONFIG_FILE (`-`: stdin) as a YAML stream."""
    from generator.pipeline import generate
    from generator.report import print_issues
    from generator.verbose import note

    config, warnings = load_config_file(config_file, root, load_restrictor, templates, strict)
    note("render cache: not used (it serves only the kustomize plugin, whose repeated builds it replays)")
    result = generate(config, os.environ, warnings, out=None if output else sys.stdout)
    note(f"rendered {result.count} objects")
    if not quiet():
        print_issues(result.warnings, texts=STDIN_TEXTS)
    if output:
        for path in write_dir(result.objects, Path(output)):
            if not quiet():
                click.echo(str(path), err=True)
    note("written")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--skip-credentials", is_flag=True, help="Do not read credential values (env vars, files).")
@format_option
@strict_option
@root_options
@verbosity
def validate(files: tuple[str, ...], skip_credentials: bool, fmt: str, strict: bool, root: str | None,
             load_restrictor: str | None) -> int:
    """Check generator configs and catalogs; list every problem (exit 1 if any, or any warning with --strict).

    A directory stands for the conngen configs its kustomization lists (each checked with that
    directory as its root, as kustomize runs it), or else for the files in it named
    generator.yaml, connections.yaml or *.conngen.yaml.
    """
    from generator.commands.validate import validate_paths

    issues = validate_paths(files, root, load_restrictor, skip_credentials, os.environ)
    if strict:
        from generator.pipeline import as_errors

        issues = as_errors(issues)
    _print_report(issues, fmt)
    return EXIT_USER if any(i.severity == "error" for i in issues) else 0


def _print_report(issues: list[Issue], fmt: str) -> None:
    from generator.errors import dotted
    from generator.report import format_issue, position

    if fmt == "json":
        rows = []
        for issue in issues:
            line, column = position(issue)
            rows.append({"severity": issue.severity, "message": issue.message, "hint": issue.hint,
                         "file": issue.origin.file if issue.origin else None, "line": line, "column": column,
                         "path": dotted(issue.origin.path) if issue.origin and issue.origin.path else None})
        click.echo(json.dumps({"ok": not any(i.severity == "error" for i in issues), "issues": rows}, indent=2))
        return
    for issue in issues:
        if issue.severity == "error" or not quiet():
            click.echo(format_issue(issue), err=True)
    if not any(i.severity == "error" for i in issues) and not quiet():
        click.echo("ok", err=True)


@cli.command()
@click.argument("config_file", type=click.Path(dir_okay=False, allow_dash=True))
@templates_option
@format_option
@root_options
@verbosity
def explain(config_file: str, templates: str | None, fmt: str, root: str | None, load_restrictor: str | None) -> int:
    """Show, per build, how credentials travel: registry → Secret → mount → file read → destination.

    Given a catalog instead of a generator config, say what each of its connections gives a build.
    """
    from generator.commands.explain import explain_config

    if config_file != "-" and _is_catalog(config_file):
        from generator.commands.catalog_explain import explain_catalog

        text, ok = explain_catalog(config_file, fmt)
    else:
        config, _ = load_config_file(config_file, root, load_restrictor, templates)
        text, ok = explain_config(config, fmt)
    click.echo(text)
    return 0 if ok else EXIT_USER


@cli.command()
@click.argument("which", type=click.Choice(["config", "catalog"]), default="config")
def schema(which: str) -> None:
    """Print the JSON Schema of the generator config or of the catalog."""
    from generator.commands.scaffold import schema_json

    click.echo(schema_json(which), nl=False)


def _is_catalog(file: str) -> bool:
    """A file that is a catalog (connections:) rather than a generator config (kind:)."""
    from generator.read.yamlio import load_yaml_file

    data = load_yaml_file(Path(file), file)
    return isinstance(data, dict) and "kind" not in data and ("connections" in data or "artifactsStore" in data)


@cli.command()
@verbosity
def install() -> None:
    """Install the kustomize exec plugin under the first plugin root kustomize will use."""
    from generator.commands.install import install as do_install

    target = do_install(os.environ)
    root = target.parents[3]
    if quiet():
        return
    click.echo(f"installed {target}")
    env = "" if root == Path.home() / ".config" / "kustomize" / "plugin" else f"KUSTOMIZE_PLUGIN_HOME={root} "
    click.echo(f"build with: {env}kubectl kustomize --enable-alpha-plugins <dir>")
    click.echo(f"        or: {env}kustomize build --enable-alpha-plugins <dir>")


@cli.command()
@verbosity
def uninstall() -> int:
    """Remove the kustomize exec plugin `conngen install` wrote, from every plugin root kustomize may use."""
    from generator.commands.install import plugin_roots
    from generator.commands.install import uninstall as do_uninstall

    removed, refused = do_uninstall(os.environ)
    for path in refused:
        click.echo(f"left {path} alone: `conngen install` did not write it", err=True)
    if not quiet():
        for path in removed:
            click.echo(f"removed {path}")
        if not removed and not refused:
            click.echo("no conngen plugin installed (looked in " + ", ".join(map(str, plugin_roots(os.environ)))
                       + ")")
    return EXIT_USER if refused else 0


class _Closed:
    """Standard output when conngen was started with it closed (`>&-`): writing is an error, said once."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    writelines = write

    def flush(self) -> None:
        pass


def main() -> None:
    if sys.stdout is None:
        sys.stdout = _Closed()
    cli(prog_name="conngen")
