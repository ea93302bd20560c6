"""The kustomize plugin entry point (legacy exec plugin and KRM function): the hot path,
kept free of click and ruamel.

One executable, two protocols, chosen per call the way KSOPS does (argv alone decides):
- with a config path in argv it is a legacy exec plugin: kustomize runs
  `<plugin> <temp copy of the config>` from the kustomization directory with
  KUSTOMIZE_PLUGIN_CONFIG_ROOT set; paths resolve against that root, never against the
  temporary file. The YAML stream goes to stdout.
- with no argument it is a KRM function (generator/krm.py): a ResourceList on stdin and
  on stdout, run in the kustomization directory.
Errors go to stderr (kustomize shows them) with exit 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from generator.collector import process_entry

# exit codes as generator.errors defines them; that module (and msgspec) loads only off the cache hit path
EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3

USAGE = """\
usage: ConnectionGenerator <config file>    legacy kustomize exec plugin (--enable-alpha-plugins)
       ConnectionGenerator < resourcelist    KRM function: ResourceList on stdin and stdout
                                             (kustomize --enable-alpha-plugins --enable-exec, kpt)
"""


def original_config(root: Path, data: Any, normalise: Callable[[Any], Any] = lambda d: d) -> str | None:
    """The kustomization's own file for this config, so errors name it and its real lines."""
    from generator.errors import UserError
    from generator.yamlio import load_yaml_file

    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        kfile = root / name
        if kfile.is_file():
            break
    else:
        return None
    try:
        kustomization = load_yaml_file(kfile, name)
        for entry in kustomization.get("generators") or []:
            candidate = root / entry
            if isinstance(entry, str) and candidate.is_file() and normalise(load_yaml_file(candidate, entry)) == data:
                return entry
    except (UserError, AttributeError, TypeError, OSError):
        return None
    return None


def run(config_file: str, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    from generator import cache

    root = Path(environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd())
    slot = cache.probe(config_file, str(root), environ)
    if slot is not None and slot.replay(out, err, environ):
        return EXIT_OK

    import io

    from generator.emit import read_stream, yaml_stream
    from generator.errors import UserError
    from generator.pipeline import generate, load
    from generator.render import builtin_templates_dir
    from generator.report import print_issues
    from generator.yamlio import load_yaml_file

    texts: dict[str, str] = {}
    try:
        data = load_yaml_file(Path(config_file), config_file)
        display = original_config(root, data) or config_file
        config, warnings = load(data, display, root)
        rendered = io.StringIO()
        result = generate(config, environ, warnings, out=rendered)
    except UserError as exc:
        print_issues(exc.issues, err, texts)
        return EXIT_USER
    shown = io.StringIO()
    print_issues(result.warnings, shown)
    stream = rendered.getvalue()
    err.write(shown.getvalue())
    out.write(stream)
    if slot is not None:  # the entry keeps the objects with their Secrets' values taken out
        slot.store(data, display, config, result.plan, result.objects or read_stream(stream), stream,
                   shown.getvalue(), yaml_stream, str(builtin_templates_dir()))
    return EXIT_OK


def _read_stdin() -> str:
    """stdin as text, refusing a huge or non-UTF-8 input before parsing it."""
    from generator.errors import Issue, Origin, UserError
    from generator.yamlio import MAX_FILE_BYTES

    raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise UserError([Issue(Origin("<stdin>"), f"input is more than {MAX_FILE_BYTES} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError([Issue(Origin("<stdin>"), f"input is not UTF-8 (byte {exc.start})")]) from None


def run_function(err: TextIO, environ: dict[str, str]) -> int:
    from generator import krm
    from generator.errors import UserError
    from generator.report import print_issues

    try:
        text = _read_stdin()
    except UserError as exc:
        print_issues(exc.issues, err)
        return EXIT_USER
    return krm.run(text, sys.stdout, err, environ)


@process_entry  # imports included: a plugin process lives for one build
def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    try:
        if args[1:] == ["--version"]:  # `conngen doctor` asks the installed plugin itself
            from generator import __version__

            print(__version__)
            return EXIT_OK
        if len(args) >= 2:
            return run(args[1], sys.stdout, sys.stderr, dict(os.environ))
        if sys.stdin is None or sys.stdin.isatty():
            sys.stderr.write(USAGE)
            return EXIT_USAGE
        return run_function(sys.stderr, dict(os.environ))
    except Exception as exc:  # noqa: BLE001 - a bug: say so without a traceback or any value
        print(f"conngen: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
