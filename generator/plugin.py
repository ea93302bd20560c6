"""The kustomize exec-plugin entry point: the hot path, kept free of click and ruamel.

kustomize runs `<plugin> <temp copy of the config>` from the kustomization directory with
KUSTOMIZE_PLUGIN_CONFIG_ROOT set; paths in the config resolve against that root, never
against the temporary file. Errors go to stderr (kustomize shows them) with exit 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from generator.errors import EXIT_BUG, EXIT_OK, EXIT_USER, EXIT_USAGE, UserError


def _original_config(root: Path, data: Any) -> str | None:
    """The kustomization's own file for this config, so errors name it and its real lines."""
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
            if isinstance(entry, str) and candidate.is_file() and load_yaml_file(candidate, entry) == data:
                return entry
    except (UserError, AttributeError, TypeError, OSError):
        return None
    return None


def run(config_file: str, out: TextIO, err: TextIO, environ: dict[str, str]) -> int:
    from generator.emit import yaml_stream
    from generator.pipeline import generate, load
    from generator.report import print_issues
    from generator.yamlio import load_yaml_file

    root = Path(environ.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd())
    texts: dict[str, str] = {}
    try:
        data = load_yaml_file(Path(config_file), config_file)
        display = _original_config(root, data) or config_file
        config, warnings = load(data, display, root)
        result = generate(config, environ, warnings)
    except UserError as exc:
        print_issues(exc.issues, err, texts)
        return EXIT_USER
    print_issues(result.warnings, err)
    out.write(yaml_stream(result.objects))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    if len(args) < 2:
        print("usage: ConnectionGenerator <config file>  (run by kustomize --enable-alpha-plugins)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run(args[1], sys.stdout, sys.stderr, dict(os.environ))
    except Exception as exc:  # noqa: BLE001 - a bug: say so without a traceback or any value
        print(f"conngen: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return EXIT_BUG
