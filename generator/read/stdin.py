"""Standard input, read under the same limits as any input file (the config, a ResourceList, helm's manifests)."""

from __future__ import annotations

import sys

#: How messages name standard input.
STDIN = "<stdin>"


def read_stdin(what: str = "input") -> str:
    """stdin as text, refusing more than the input limit or non-UTF-8 before parsing any of it."""
    from generator.errors import Issue, Origin, UserError
    from generator.limits import MAX_FILE_BYTES

    raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # a pipe or /dev/zero stops here too
    if len(raw) > MAX_FILE_BYTES:
        raise UserError([Issue(Origin(STDIN), f"{what} is more than the limit of {MAX_FILE_BYTES} bytes")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError([Issue(Origin(STDIN), f"{what} is not UTF-8 (byte {exc.start})")]) from None
