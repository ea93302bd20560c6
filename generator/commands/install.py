"""Installing the exec plugin where kustomize looks for it (same order as kustomize)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Mapping

PLUGIN_PATH = ("conngen.dev", "v1", "connectiongenerator", "ConnectionGenerator")
_MARKER = "# conngen exec plugin for kustomize (written by `conngen install`)"


def plugin_roots(environ: Mapping[str, str]) -> list[Path]:
    """kustomize's candidate plugin homes, in its order (api/konfig/plugins.go), each once."""
    roots = []
    if environ.get("KUSTOMIZE_PLUGIN_HOME"):
        roots.append(Path(environ["KUSTOMIZE_PLUGIN_HOME"]))
    if environ.get("XDG_CONFIG_HOME"):
        roots.append(Path(environ["XDG_CONFIG_HOME"]) / "kustomize" / "plugin")
    home = Path(environ.get("HOME") or Path.home())
    roots.append(home / ".config" / "kustomize" / "plugin")
    roots.append(home / "kustomize" / "plugin")
    return list(dict.fromkeys(roots))  # KUSTOMIZE_PLUGIN_HOME or XDG_CONFIG_HOME may name a default root again


def chosen_root(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The root kustomize will use, and whether it exists yet."""
    roots = plugin_roots(environ)
    for root in roots:
        if root.is_dir():
            return root, True
    return roots[0], False


def plugin_script() -> str:
    """The plugin executable, run by this interpreter with `-S`: site's start-up work (.pth files,
    about 50 ms here) would be paid on every kustomize build, so the paths site added for this
    install are written into the script instead."""
    from generator import __version__

    package_root = str(Path(__file__).resolve().parents[2])
    paths = list(dict.fromkeys([package_root] + [p for p in sys.path[1:] if p and os.path.exists(p)]))
    return "\n".join([f"#!{sys.executable} -S", _MARKER, f"# conngen {__version__}", "import sys",
                      f"sys.path[:0] = {paths!r}", "from generator.kustomize.plugin import main", "sys.exit(main())", ""])


def install(environ: Mapping[str, str]) -> Path:
    root, _ = chosen_root(environ)
    target = root.joinpath(*PLUGIN_PATH)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(plugin_script(), encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
    os.replace(tmp, target)
    return target


def uninstall(environ: Mapping[str, str]) -> tuple[list[Path], list[Path]]:
    """Remove conngen's plugin from every root kustomize may use: (removed, refused) paths.

    A file at the plugin path that `conngen install` did not write (no marker line) is left alone;
    directories are removed only when empty, up to (not including) the root.
    """
    removed: list[Path] = []
    refused: list[Path] = []
    for root in plugin_roots(environ):
        target = root.joinpath(*PLUGIN_PATH)
        if not target.is_file():
            continue
        try:
            with target.open(encoding="utf-8", errors="replace") as fh:
                ours = _MARKER in fh.read(4096)
        except OSError:
            ours = False
        if not ours:
            refused.append(target)
            continue
        target.unlink()
        removed.append(target)
        for parent in target.parents:
            if parent == root:
                break
            try:
                parent.rmdir()
            except OSError:
                break
    return removed, refused
