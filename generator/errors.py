"""User-facing problems: where they are, what is wrong, how to fix it.

Every mistake a user can make ends as an `Issue`; a `UserError` carries one or more
issues to the one handler every entry point ends through (exits.py), which prints them.
Messages are written by us, never built from credential values, so printing them is safe.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from msgspec import Struct

KeyPath = tuple  # a path into a YAML document: ("connections", 3, "secret", "mountPath")

#: The longest a quoted value may be in a message; a 1 MB tag must not become a 1 MB line.
QUOTE_LIMIT = 80


def shown(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` as messages quote it (its repr), cut to `limit` characters with the full length said.

    Every message that quotes a user's value goes through here. Never pass a credential value:
    this shortens, it does not hide.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, (str, bytes)) else f"{len(text)} characters as text"
    return f"{text[: limit - 1]}… ({size})"


def clipped(text: str, limit: int = 2 * QUOTE_LIMIT) -> str:
    """A library's own message (which may repeat a piece of the input, a YAML tag say), cut like `shown`."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class Origin(Struct, frozen=True):  # no per-instance dict: a large catalog holds one per checked mapping
    """The file and the key path a value came from; line/column are looked up lazily."""

    file: str
    path: KeyPath = ()

    def at(self, *more: object) -> "Origin":
        return Origin(self.file, self.path + tuple(more))


class Issue(Struct, frozen=True):
    """One problem (or warning) to show the user, located when its origin can be found."""

    origin: Origin | None
    message: str
    hint: str = ""
    severity: str = "error"
    line: int | None = None  # where the origin was found; not part of what the issue is
    column: int | None = None

    def _identity(self) -> tuple:
        return self.origin, self.message, self.hint, self.severity

    def __eq__(self, other: object) -> bool:
        return type(other) is Issue and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


def dotted(path: Sequence[object]) -> str:
    """Render a key path the way users write it: connections[3].secret.mountPath."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class UserError(Exception):
    """One or more problems in the user's input; exit code 1."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = list(issues)
        super().__init__("; ".join(i.message for i in self.issues))
