"""The `conngen` command line. The only place (with the plugin entry) that prints or exits."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from generator.errors import EXIT_BUG, EXIT_USER, Issue, UserError

RESTRICTORS = click.Choice(["LoadRestrictionsRootOnly", "LoadRestrictionsNone"])

#: Commands defined in other modules, imported only when they run ("module:attribute").
LAZY_COMMANDS: dict[str, str] = {
    "post-render": "generator.helm:post_render_command",
    "init": "generator.scaffold:init",
    "doctor": "generator.doctor:doctor",
}


class LazyGroup(click.Group):
    """A group whose integration commands are imported on use, keeping start-up small."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(name)
        if target is None:
            return super().get_command(ctx, name)
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


def run_guarded(fn: Callable[[], int | None]) -> None:
    """Run a command: user errors print located messages (exit 1), bugs never a traceback."""
    from generator.report import print_issues

    try:
        code = fn() or 0
    except UserError as exc:
        print_issues(exc.issues)
        sys.exit(EXIT_USER)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except BrokenPipeError:  # `conngen render ... | head`: the reader left; not a bug, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_USER)
    except Exception as exc:  # noqa: BLE001
        click.echo(f"conngen: internal error ({type(exc).__name__}); please report it", err=True)
        sys.exit(EXIT_BUG)
    sys.exit(code)


def load_config_file(config_file: str, root: str | None, restrictor: str | None, templates: str | None = None) -> Any:
    from generator.pipeline import load
    from generator.yamlio import load_yaml_file

    path = Path(config_file)
    data = load_yaml_file(path, config_file)
    base = Path(root) if root else path.resolve().parent
    return load(data, config_file, base, restrictor, str(Path(templates).resolve()) if templates else None)


def root_options(fn: Callable) -> Callable:
    fn = click.option("--root", type=click.Path(file_okay=False),
                      help="Directory relative paths start from (default: the config's directory).")(fn)
    fn = click.option("--load-restrictor", type=RESTRICTORS, default=None,
                      help="LoadRestrictionsNone allows files outside the root.")(fn)
    return fn


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              help="Show the version and whether the installed kustomize plugin matches it.",
              callback=lambda ctx, _param, value: value and importlib.import_module("generator.doctor").print_version(ctx))
def cli() -> None:
    """Registry Secrets and image-builder Jobs from a Polyaxon-style connections catalog."""


@cli.command()
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Write one file per object into this directory.")
@click.option("--templates", type=click.Path(file_okay=False, exists=True), help="Directory of template overrides.")
@root_options
def render(config_file: str, output: str | None, templates: str | None, root: str | None,
           load_restrictor: str | None) -> None:
    """Render the Secrets and Jobs of CONFIG_FILE as a YAML stream."""

    def go() -> None:
        from generator.emit import write_dir
        from generator.pipeline import generate
        from generator.report import print_issues

        config, warnings = load_config_file(config_file, root, load_restrictor, templates)
        result = generate(config, os.environ, warnings, out=None if output else sys.stdout)
        print_issues(result.warnings)
        if output:
            for path in write_dir(result.objects, Path(output)):
                click.echo(str(path), err=True)

    run_guarded(go)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--skip-credentials", is_flag=True, help="Do not read credential values (env vars, files).")
@click.option("--output", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@root_options
def validate(files: tuple[str, ...], skip_credentials: bool, fmt: str, root: str | None,
             load_restrictor: str | None) -> None:
    """Check generator configs and catalogs; list every problem (exit 1 if any)."""

    def go() -> int:
        from generator.validate import validate_files

        issues = validate_files(files, root, load_restrictor, skip_credentials, os.environ)
        _print_report(issues, fmt)
        return EXIT_USER if any(i.severity == "error" for i in issues) else 0

    run_guarded(go)


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
        click.echo(format_issue(issue), err=True)
    if not any(i.severity == "error" for i in issues):
        click.echo("ok", err=True)


@cli.command()
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--templates", type=click.Path(file_okay=False, exists=True), help="Directory of template overrides.")
@click.option("--output", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@root_options
def explain(config_file: str, templates: str | None, fmt: str, root: str | None, load_restrictor: str | None) -> None:
    """Show, per build, how credentials travel: registry → Secret → mount → file read → destination."""

    def go() -> int:
        from generator.explain import explain_config

        config, _ = load_config_file(config_file, root, load_restrictor, templates)
        text, ok = explain_config(config, fmt)
        click.echo(text)
        return 0 if ok else EXIT_USER

    run_guarded(go)


@cli.command()
@click.argument("which", type=click.Choice(["config", "catalog"]), default="config")
def schema(which: str) -> None:
    """Print the JSON Schema of the generator config or of the catalog."""
    from generator.catalog import CATALOG_SCHEMA
    from generator.config import CONFIG_SCHEMA

    click.echo(json.dumps(CONFIG_SCHEMA if which == "config" else CATALOG_SCHEMA, indent=2, sort_keys=True))


@cli.command()
def install() -> None:
    """Install the kustomize exec plugin under the first plugin root kustomize will use."""

    def go() -> None:
        from generator.install import install as do_install

        target = do_install(os.environ)
        root = target.parents[3]
        click.echo(f"installed {target}")
        default = target.parents[3] in (Path.home() / ".config" / "kustomize" / "plugin",)
        env = "" if default else f"KUSTOMIZE_PLUGIN_HOME={root} "
        click.echo(f"build with: {env}kubectl kustomize --enable-alpha-plugins <dir>")
        click.echo(f"        or: {env}kustomize build --enable-alpha-plugins <dir>")

    run_guarded(go)


def main() -> None:
    cli(prog_name="conngen")
