"""The kustomize plugin entry point (legacy exec plugin and KRM function): the hot path,
kept free of click and ruamel.

One executable, two protocols, chosen per call the way KSOPS does (argv alone decides):
- with a config path in argv it is a legacy exec plugin: kustomize runs
  `<plugin> <temp copy of the config>` from the kustomization directory with
  KUSTOMIZE_PLUGIN_CONFIG_ROOT set; paths resolve against that root, never against the
  temporary file. The YAML stream goes to stdout.
- with no argument it is a KRM function (generator/kustomize/krm.py): a ResourceList on stdin and
  on stdout, run in the kustomization directory.
Errors go to stderr (kustomize shows them) with exit 1.
"""

from __future__ import annotations

import os
import sys

from generator import __version__
from generator.speed.collector import process_entry
from generator.exits import EXIT_OK, EXIT_USAGE, EXIT_USER, guarded

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which a cached build does not need
if TYPE_CHECKING:
    from typing import Callable, Sequence, TextIO

    from generator.errors import UserError

USAGE = """\
usage: ConnectionGenerator <config file>    legacy kustomize exec plugin (--enable-alpha-plugins)
       ConnectionGenerator < resourcelist    KRM function: ResourceList on stdin and stdout
                                             (kustomize --enable-alpha-plugins --enable-exec, kpt)
"""


def run(config_file: str, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    """One exec plugin call: the config's objects on `out`, or its problems on `err` and exit 1."""
    return guarded(lambda: _build(config_file, out, err, environ), err, _printer(err))


def _printer(err: TextIO) -> Callable[[UserError], None]:
    """How the exec plugin reports a user's problems: located messages on stderr, which kustomize shows."""
    def report(exc: UserError) -> None:
        from generator.report import print_issues

        print_issues(exc.issues, err)
    return report


def _build(config_file: str, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    from generator.speed import cache
    from generator.verbose import note

    root_dir = environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd()
    note(f"plugin: config {config_file}, root {root_dir}")
    slot = cache.probe(config_file, root_dir, environ)
    if slot is None:
        note("render cache: off" + (" (CONNGEN_CACHE=off, or neither XDG_CACHE_HOME nor HOME is set)" if cache.cache_dir(environ) is None else " (config unreadable)"))
    elif slot.replay(out, err, environ):
        note(f"render cache: hit, replayed {slot.path} with fresh credentials")
        return EXIT_OK
    else:
        note(f"render cache: miss ({slot.miss}); rendering")

    import io
    from pathlib import Path  # with re, enum and urllib.parse: ~12 ms a cached build does without

    from generator.render.emit import read_stream, yaml_stream
    from generator.read.kustomization import original_config
    from generator.pipeline import generate, load
    from generator.render.sources import builtin_templates_dir
    from generator.report import print_issues
    from generator.read.ahead import ReadingAhead
    from generator.read.yamlio import parse_yaml, read_text

    root = Path(root_dir)
    read: list[str] = []
    text = read_text(Path(config_file), config_file)
    with ReadingAhead(text, root):
        data = parse_yaml(text, config_file)
        display = original_config(root, data, read=read) or config_file
        config, warnings = load(data, display, root)
    rendered = io.StringIO()
    result = generate(config, environ, warnings, out=rendered)
    shown = io.StringIO()
    print_issues(result.warnings, shown)
    stream = rendered.getvalue()
    err.write(shown.getvalue())
    out.write(stream)
    if slot is not None:  # the entry keeps the objects with their Secrets' values taken out
        kept = slot.store(data, config, result.plan, result.objects or read_stream(stream), stream,
                          shown.getvalue(), yaml_stream, str(builtin_templates_dir()), read)
        note(f"render cache: stored {slot.path}" if kept else
             "render cache: not stored (this build's inputs cannot be replayed without a value, or the cache "
             "directory is not writable)")
    note(f"plugin: {result.count} objects written")
    return EXIT_OK


@process_entry  # imports included: a plugin process lives for one build
def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    if sys.stdout is None or sys.stderr is None:  # started with `>&-`: nowhere to put the stream or a message
        if sys.stderr is not None:
            sys.stderr.write("conngen: error: standard output is closed\n")
        return EXIT_USER
    if args[1:] == ["--version"]:  # `conngen doctor` asks the installed plugin itself
        return guarded(lambda: print(__version__), sys.stderr, _printer(sys.stderr))
    if len(args) >= 2:
        return run(args[1], sys.stdout, sys.stderr, dict(os.environ))
    if sys.stdin is None or sys.stdin.isatty():
        sys.stderr.write(USAGE)
        return EXIT_USAGE
    from generator.kustomize import krm

    return krm.run(None, sys.stdout, sys.stderr, dict(os.environ))


if __name__ == "__main__":
    sys.exit(main())
