"""Compiled user templates kept between runs in conngen's private cache directory (Jinja's bytecode cache).

Built-in templates ship compiled (precompiled.py); a templates directory's are compiled on first
use and kept here, so a later build (the plugin on a render-cache miss, `conngen render`, the
KRM function, Helm's post-renderer) does not lex and compile them again.
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping

import jinja2

from generator.speed.cache import cache_dir, private_dir


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in conngen's private cache directory, so a build does not recompile them.

    Jinja keys each entry by template name and file and checks the source's checksum and the
    Jinja/Python versions; the directory name adds conngen's version, which fixes the
    environment's options; the checksum also covers `salt`: how the environment rewrites a
    source and whether it is sandboxed (which compiles the same source to other code). A
    missing, unreadable or corrupt entry is a miss; a failed write is ignored. Templates hold
    no credentials, and the directory is the render cache's (0700).
    """

    def __init__(self, directory: str, salt: bytes):
        self.directory = directory
        self.salt = salt

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha1(source.encode("utf-8") + self.salt).hexdigest()

    def _path(self, bucket: jinja2.bccache.Bucket) -> str:
        return os.path.join(self.directory, bucket.key + ".code")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            with open(os.open(self._path(bucket), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as fh:
                info = os.fstat(fh.fileno())
                if info.st_uid != os.geteuid() or info.st_mode & 0o022:
                    raise PermissionError("an entry someone else could have written is never run")
                bucket.load_bytecode(fh)
        except Exception:  # noqa: BLE001 - whatever is wrong with an entry, compiling afresh is right
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        path = self._path(bucket)
        partial = f"{path}.{os.getpid()}.part"
        try:
            with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                bucket.write_bytecode(fh)
            os.replace(partial, path)  # readers see a whole entry or none
        except OSError:
            try:
                os.unlink(partial)
            except OSError:
                pass


def compiled_templates(environ: Mapping[str, str] | None, salt: bytes) -> CompiledTemplates | None:
    """The compiled-template store under the render cache directory, unless caching is off."""
    from generator import __version__

    base = cache_dir(environ) if environ is not None else None
    if base is None:
        return None
    directory = os.path.join(base, f"templates-{__version__}")
    return CompiledTemplates(directory, salt) if private_dir(base, True) and private_dir(directory, True) else None
