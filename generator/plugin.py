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
EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

USAGE = """\
usage: ConnectionGenerator <config file>    legacy kustomize exec plugin (--enable-alpha-plugins)
       ConnectionGenerator < resourcelist    KRM function: ResourceList on stdin and stdout
                                             (kustomize --enable-alpha-plugins --enable-exec, kpt)
"""


def original_config(root: Path, data: Any, normalise: Callable[[Any], Any] = lambda d: d,
                    read: list[str] | None = None) -> str | None:
    """The kustomization's own file for this config, so errors name it and its real lines.

    The generator files it compares are added to `read` (the render cache checks them).
    """
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
            candidate = root / entry if isinstance(entry, str) else None
            if candidate is not None and read is not None:
                read.append(str(candidate))
            if candidate is not None and candidate.is_file() and normalise(load_yaml_file(candidate, entry)) == data:
                return entry
    except (UserError, AttributeError, TypeError, OSError):
        return None
    return None


def run(config_file: str, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    from generator import cache

    from generator.verbose import note

    root = Path(environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd())
    note(f"plugin: config {config_file}, root {root}")
    slot = cache.probe(config_file, str(root), environ)
    if slot is None:
        note("render cache: off" + (" (CONNGEN_CACHE=off, or neither XDG_CACHE_HOME nor HOME is set)" if cache.cache_dir(environ) is None else " (config unreadable)"))
    elif slot.replay(out, err, environ):
        note(f"render cache: hit, replayed {slot.path} with fresh credentials")
        return EXIT_OK
    else:
        note(f"render cache: miss ({slot.miss}); rendering")

    import io

    from generator.emit import read_stream, yaml_stream
    from generator.errors import UserError
    from generator.pipeline import generate, load
    from generator.render import builtin_templates_dir
    from generator.report import print_issues
    from generator.yamlio import load_yaml_file

    texts: dict[str, str] = {}
    read: list[str] = []
    try:
        data = load_yaml_file(Path(config_file), config_file)
        display = original_config(root, data, read=read) or config_file
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
        kept = slot.store(data, display, config, result.plan, result.objects or read_stream(stream), stream,
                          shown.getvalue(), yaml_stream, str(builtin_templates_dir()), read)
        note(f"render cache: stored {slot.path}" if kept else
             "render cache: not stored (this build's inputs cannot be replayed without a value, or the cache "
             "directory is not writable)")
    note(f"plugin: {result.count} objects written")
    return EXIT_OK


def read_stdin(what: str = "input") -> str:
    """stdin as text, refusing more than the input limit or non-UTF-8 before parsing any of it."""
    from generator.errors import Issue, Origin, UserError
    from generator.yamlio import MAX_FILE_BYTES

    raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # a pipe or /dev/zero stops here too
    if len(raw) > MAX_FILE_BYTES:
        raise UserError([Issue(Origin("<stdin>"), f"{what} is more than the limit of {MAX_FILE_BYTES} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError([Issue(Origin("<stdin>"), f"{what} is not UTF-8 (byte {exc.start})")]) from None


def run_function(err: TextIO, environ: dict[str, str]) -> int:
    from generator import krm
    from generator.errors import UserError
    from generator.report import print_issues

    try:
        text = read_stdin()
    except UserError as exc:
        print_issues(exc.issues, err)
        return EXIT_USER
    return krm.run(text, sys.stdout, err, environ)


@process_entry  # imports included: a plugin process lives for one build
def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    if sys.stdout is None or sys.stderr is None:  # started with `>&-`: nowhere to put the stream or a message
        if sys.stderr is not None:
            sys.stderr.write("conngen: error: standard output is closed\n")
        return EXIT_USER
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
    except KeyboardInterrupt:  # Ctrl-C: the user knows; no traceback, the shell's usual code
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of stdout left (kustomize was stopped): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USER
    except OSError as exc:  # writing the output failed (a full disk behind a redirect): the environment, not a bug
        print(f"conngen: error: cannot write the output ({exc.strerror or type(exc).__name__})", file=sys.stderr)
        return EXIT_USER
    except Exception as exc:  # noqa: BLE001 - a bug: say so without a traceback or any value
        print(f"conngen: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
