"""The files a kustomize build of a conngen config names before conngen checks anything: the
kustomization, the generator files it lists, the catalogs a generator config names.

Used by the exec plugin and the KRM function (to name the user's own file in messages), by
`validate DIR`, by the config loader and by the render cache (which checks these files).
Stdlib only at import: the cache runs on the plugin's hot path.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which a cached build does not need
if TYPE_CHECKING:  # the render cache imports this module on a cached build
    from pathlib import Path
    from typing import Any, Callable

#: The names kustomize reads a kustomization from, in its order.
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization kustomize reads in `directory`, if there is one."""
    return next((directory / name for name in KUSTOMIZATIONS if (directory / name).is_file()), None)


def generators(kfile: Path) -> list[tuple[str, Path]]:
    """Each file entry under the kustomization's `generators:`, as written and as a path (which may not exist)."""
    from generator.read.yamlio import load_yaml_file

    data = load_yaml_file(kfile, str(kfile))
    entries = data.get("generators") if isinstance(data, dict) else None
    return [(e, kfile.parent / e) for e in entries if isinstance(e, str)] if isinstance(entries, list) else []


def catalog_files(data: object) -> list[str] | None:
    """The catalog files a config names as written (`catalog: file` or a list); None if one is not a string."""
    raw = data.get("catalog") if isinstance(data, dict) else None
    files = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return files if all(isinstance(f, str) for f in files) else None


def original_config(root: Path, data: Any, normalise: Callable[[Any], Any] = lambda d: d,
                    read: list[str] | None = None) -> str | None:
    """The kustomization's own file for this config, so errors name it and its real lines.

    kustomize hands the plugin a temporary copy (and the KRM function an annotated one); the
    generator file whose data matches is the user's. The generator files compared are added to
    `read` (the render cache checks them).
    """
    from generator.errors import UserError
    from generator.read.yamlio import load_yaml_file

    kfile = kustomization_file(root)
    if kfile is None:
        return None
    try:
        for entry, candidate in generators(kfile):
            if read is not None:
                read.append(str(candidate))
            if candidate.is_file() and normalise(load_yaml_file(candidate, entry)) == data:
                return entry
    except (UserError, OSError):  # an unreadable kustomization: messages name the temporary copy instead
        return None
    return None
