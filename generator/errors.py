"""User-facing problems: where they are, what is wrong, how to fix it.

Every mistake a user can make ends as an `Issue`; a `UserError` carries one or more
issues to the single place that prints them (the CLI or a protocol adapter). Messages
are written by us, never built from credential values, so printing them is safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

#: Exit codes, documented in docs/reference.md.
EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_BUG = 3

KeyPath = tuple  # a path into a YAML document: ("connections", 3, "secret", "mountPath")


@dataclass(frozen=True, slots=True)  # slots: a large catalog holds one per checked mapping
class Origin:
    """The file and the key path a value came from; line/column are looked up lazily."""

    file: str
    path: KeyPath = ()

    def at(self, *more: object) -> "Origin":
        return Origin(self.file, self.path + tuple(more))


@dataclass(frozen=True)
class Issue:
    """One problem (or warning) to show the user, located when its origin can be found."""

    origin: Origin | None
    message: str
    hint: str = ""
    severity: str = "error"
    line: int | None = field(default=None, compare=False)
    column: int | None = field(default=None, compare=False)


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


def fail(origin: Origin | None, message: str, hint: str = "") -> UserError:
    return UserError([Issue(origin, message, hint)])
