"""Reading a large config on two CPUs: a child parses the config while this process checks its catalogs.

At 10,000 registries and builds, parsing the config takes a quarter of a render, and parsing
and checking the catalog about as long; neither needs the other. When the config is large
(and speed/ahead.py finds a second CPU), a child parses its text while this process imports
the rest of conngen and loads the catalogs the config names near its top, before the
config is checked: `parse_yaml` of the config's text takes the child's parse (its data comes
back through `marshal`), and `load_catalog_file` the catalogs, for the same text and name.
Whatever is not done ahead is done the usual way, in the usual order, so every problem is
found and located exactly as without this.
"""

from __future__ import annotations

import marshal
import os
from functools import partial
from pathlib import Path
from typing import IO, Any

from generator.errors import UserError
from generator.read.kustomization import catalog_files
from generator.read.yamlio import PARSED_AHEAD, read_events, read_limited, top_level_value
from generator.speed.ahead import Child, worth_it

MIN_CHARS = 512 << 10  # a config this large (about 2,000 registries and builds) is parsed by a child


class ReadingAhead:
    """A context manager around parsing and loading the config whose text is `text`, relative to `root`."""

    def __init__(self, text: str, root: Path) -> None:
        self._text = text
        self._root = root
        forget_files()
        self._child = Child(self._parse) if worth_it(len(text), MIN_CHARS) else None
        if self._child is None:
            return
        from generator.read.catalog import load_catalog_ahead
        from generator.read.config import RESTRICT_NONE, Paths

        paths = Paths(root, RESTRICT_NONE)  # load_config applies the restrictor: a file outside is not asked for
        for name in catalog_files({"catalog": top_level_value(text, "catalog")}) or []:
            try:
                path = Path(paths.resolve(name, None))
                load_catalog_ahead(path, paths.display(path))
            except UserError:  # loading it again says why, at its turn
                continue

    def _parse(self, file: IO[bytes]) -> None:
        marshal.dump(read_events(self._text), file)

    def _take(self, text: str) -> tuple[Any, bool] | None:
        """The child's parse of the config (None if it failed: parse_yaml then parses and says why).

        A second child then reads the credential files it names, while this process checks and plans.
        """
        file = self._child.result() if self._child else None
        if file is None:
            return None
        with file:
            parsed = marshal.loads(file.read())  # marshal.load(file) reads it in small steps, 10 times slower
        _files.append(Child(partial(_read_credential_files, parsed[0], self._root)))
        return parsed

    def __enter__(self) -> ReadingAhead:
        if self._child is not None:
            PARSED_AHEAD[self._text] = self._take
        return self

    def __exit__(self, *exc: object) -> None:
        if self._child is None:
            return
        from generator.read.catalog import LOADED_AHEAD

        PARSED_AHEAD.pop(self._text, None)
        LOADED_AHEAD.clear()
        self._child.cancel()


#: Credential files read by a child process while this one checks and plans, by real path; each
#: is taken once (`read_ahead`), so that reading the same file again reads it again.
FILES: dict[str, bytes] = {}
_files: list[Child] = []  # the child reading them, until its result is taken


def read_ahead(path: str) -> bytes | None:
    """The bytes of a credential file a child read ahead (None if it did not: then read it now)."""
    while _files:
        file = _files.pop().result()
        if file is not None:
            with file:
                FILES.update(marshal.loads(file.read()))
    return FILES.pop(path, None) if FILES else None


def forget_files() -> None:
    """Drop the files read ahead and not taken, and stop a child still reading them (a run ended)."""
    while _files:
        _files.pop().cancel()
    FILES.clear()


def _read_credential_files(data: Any, root: Path, file: IO[bytes]) -> None:
    """The files a config's credentials name (`{file: path}`), each that can be read within the limits."""
    from generator.read.config import RESTRICT_NONE, Paths

    paths = Paths(root, RESTRICT_NONE)  # the loader applies the restrictor before a file is asked for
    found: dict[str, bytes] = {}
    credentials = data.get("credentials") if isinstance(data, dict) else None
    for entry in credentials.values() if isinstance(credentials, dict) else ():
        for value in entry.values() if isinstance(entry, dict) else ():
            name = value.get("file") if isinstance(value, dict) else None
            try:
                path = paths.resolve(name, None) if isinstance(name, str) else None
                if path is not None and path not in found:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                    try:
                        found[path] = read_limited(fd)
                    finally:
                        os.close(fd)
            except Exception:  # noqa: BLE001 - read again when asked for, which says why it cannot be
                continue
    marshal.dump(found, file)
