"""The few names Jinja's generated code calls, for the built-in render loops, so a build never imports Jinja.

Jinja stays the compiler: `scripts/compile-templates` writes the code it generates for each
built-in loop into templates/compiled/, with its import line pointing here instead of at
`jinja2.runtime` (importing Jinja is a third of a kustomize build's start-up). This runtime
covers what built-in templates use (attribute lookups, `join`, `length`, `is none`, `yaml`)
and is strict: an undefined name or attribute fails at once. Any failure is rendered again
through Jinja (builtin.py), which reports it located as for any template; a loop that needs a
name not here fails to import, and the tests that render every built-in template say so.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from generator.errors import shown


class TemplateRuntimeError(Exception):
    """A built-in loop went wrong; builtin.py lets Jinja say where."""


class UndefinedError(TemplateRuntimeError):
    """A name or attribute the loop reads is not there."""


def Undefined(hint: str | None = None, obj: Any = None, name: Any = None, exc: Any = None) -> Any:  # noqa: N802
    """Where Jinja's StrictUndefined would be made, fail: built-in templates test nothing for being defined."""
    raise UndefinedError(f"{shown(name)} is undefined")


missing: Any = type("MissingType", (), {"__repr__": lambda self: "missing"})()


def str_join(seq: Any) -> str:
    return "".join(map(str, seq))


def internalcode(f: Callable) -> Callable:
    return f


class Context:
    """The variables of one loop render (Jinja's `Context`, as far as the generated code reads it)."""

    eval_ctx = None  # the `join` filter's first argument: no autoescaping here

    def __init__(self, variables: dict[str, Any]):
        self.resolve_or_missing = lambda key: variables.get(key, missing)


class Environment:
    """What the generated code looks up on `environment`: filters, tests, lookups and the strict undefined."""

    undefined = staticmethod(Undefined)
    concat = "".join
    # plain lookups: built-in templates read record attributes and list items; Jinja's fallbacks
    # (an item for an attribute, an attribute for an item) fail here, and Jinja then says where
    getattr = staticmethod(getattr)
    getitem = staticmethod(operator.getitem)

    def __init__(self, yaml: Callable[..., str]):
        self.filters = {"yaml": yaml, "join": lambda _ctx, value, d="": str(d).join(map(str, value)), "length": len}
        self.tests = {"none": lambda value: value is None}
