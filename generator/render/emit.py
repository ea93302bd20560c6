"""Writing YAML byte for byte as PyYAML writes it: values placed by templates, and object streams.

Built-in templates are written in PyYAML's block layout (two-space indent, lists level with
their key) and print each value with the `yaml` filter, which calls `node`. Most values are
name-like strings, numbers, and mappings and lists of them, whose YAML form is fixed: `node`
writes those directly. Anything else (text with spaces or newlines, floats, long keys) is
written by PyYAML itself, at the same column, so its quoting, folding and block style are
PyYAML's. One change to PyYAML's choices: a string it would print plain but a YAML 1.2 reader
(kustomize's go-yaml v3, ruamel, conngen's own reader of user files) reads as a number, such
as `0o17`, `08` or `1e5`, is single-quoted. Property tests check `node` against PyYAML for any
value, and that what it prints reads back as the same value under YAML 1.1 and 1.2 alike.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable

import yaml

from generator.errors import UserError
from generator.read.yamlio import parse_yaml


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (scripts, certificates) as literal blocks, so they stay readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value[:1].isspace() and all(
        c == "\n" or c.isprintable() for c in value) and " \n" not in value else None
    if _NAMELIKE.fullmatch(value) and _misread(value):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _pyyaml(objects: list) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096, explicit_start=True)


def yaml_stream(objects: Iterable[dict]) -> str:
    objects = list(objects)
    return _pyyaml(objects) if objects else ""


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_stream(text: str) -> list:
    return list(yaml.load_all(text, Loader=_Loader))  # noqa: S506 - a SafeLoader


# the JSON every value of a template stands for (plan records hold tuples; JSON makes them lists)
json_text = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "), allow_nan=False).encode


def node(value: Any, column: int, key: int | None, memo: dict | None = None) -> tuple[str, bool]:
    """`value` as PyYAML writes it after `key:` (`key` long, at `column`), or, if `key` is None, after a `-` at `column`.

    The text starts with its separator (a space, or a line break before a block) and has no
    final line break. The flag says PyYAML would end the stream with `...` right after it.
    A mapping or list written here is the same text at any column, indented further; `memo`
    (for plan records, which nothing changes while they are rendered) keeps it by the object's
    identity, and holds the object, so that no other object can take its id meanwhile.
    """
    kind = type(value)
    try:
        if kind is str:
            return " " + _str(value), False
        if (kind is dict or kind is list or kind is tuple) and value:
            text = _at_zero(value, key is None, memo)
            return (text.replace("\n", "\n" + " " * column) if column else text), False
        return " " + _scalar(value), False
    except _Hard:
        return _placed(value, column, key)


MEMO_SIZE = 1024  # texts a memo keeps (a few hundred bytes each); a full one starts again


def _at_zero(value: dict | list | tuple, item: bool, memo: dict | None) -> str:
    """A non-empty mapping or list at column 0 (after `- `, or after a key), from `memo` if it holds it."""
    if memo is not None:
        known = memo.get(-id(value) if item else id(value))
        if known is not None:
            return known[1]
    if isinstance(value, dict):
        text = (" " if item else "\n  ") + _mapping(value, "\n  ")
    else:
        text = " " + _sequence(value, "\n  ") if item else "\n" + _sequence(value, "\n")
    if memo is not None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[-id(value) if item else id(value)] = (value, text)
    return text


def _placed(value: Any, column: int, key: int | None) -> tuple[str, bool]:
    """PyYAML's text for the value at that place: it is written inside single-key mappings that put it there."""
    data = json.loads(json_text(value))  # the data the value's JSON reads back as
    name = "k" * (key or 1)  # a long text is folded at the same column as after the real key
    wrapped: Any = {name: data if key else [data]}
    for _ in range(column // 2):
        wrapped = {"k": wrapped}
    text = yaml.dump(wrapped, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096)
    head = "".join(" " * i + "k:\n" for i in range(0, column, 2)) + " " * column + name + ":"
    head += "" if key else "\n" + " " * column + "-"
    open_ended = text.endswith("\n...\n")
    return text[len(head):-5 if open_ended else -1], open_ended


class _Hard(Exception):
    """A value whose YAML form depends on more than this module decides: PyYAML writes it."""


# Strings PyYAML writes plain (or, if they would read back as another type, in single quotes):
# printable ASCII without spaces, not starting with an indicator or `---`/`...`, not ending in
# `:` (in block context `,?[]{}` and `#` after a non-space are ordinary characters).
_NAMELIKE = re.compile(r"(?:[A-Za-z0-9_./+=~<()$^]|-(?=.))[!-~]*(?<!:)")
_MAX_KEY = 100  # PyYAML writes keys over 128 characters as `? key`
_resolve = yaml.resolver.Resolver().resolve
# PyYAML picks implicit resolvers by a string's first character (None: tried for every string);
# a string whose first character has none reads back as a string, so it needs no resolving
_RESOLVERS_BY_FIRST = yaml.resolver.Resolver.yaml_implicit_resolvers
_ANY_FIRST = None in _RESOLVERS_BY_FIRST
_STR_TAG = "tag:yaml.org,2002:str"
# Under YAML 1.1 and 1.2 alike, a plain scalar starting with a sign, a digit or a dot is a number
# (or date) only if it starts like one; bool and null words mean the same in 1.2 as in 1.1
_NUMBER_START = re.compile(r"[-+]?[0-9.]")
# Name-like strings that need none of the above: their first character has no resolver, or they
# start with `--` (not a number, nor `---`); most names, images and arguments
_UNRESOLVED = "" if _ANY_FIRST else "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/()$^"
                                               if c not in _RESOLVERS_BY_FIRST)
_PLAIN = re.compile((f"(?:[{re.escape(_UNRESOLVED)}]|--(?!-))" if _UNRESOLVED else "--(?!-)") + r"[!-~]*(?<!:)")


@lru_cache(maxsize=4096)  # names and keys repeat across objects, and each name within its own objects
def _str(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    if not _NAMELIKE.fullmatch(value) or value.startswith(("---", "...")):
        raise _Hard
    return "'" + value.replace("'", "''") + "'" if _misread(value) else value


def _misread(value: str) -> bool:
    """A name-like string that YAML 1.1 (PyYAML, kubectl) or 1.2 (kustomize) reads back as something else if plain."""
    if value[0] in "-+.0123456789":
        if not _NUMBER_START.match(value):
            return False
        try:
            as_12 = parse_yaml(value, "a printed value", check=False)
        except (UserError, ValueError):  # PyYAML's float constructor fails on `._`
            return True
        if type(as_12) is not str or as_12 != value:
            return True
    return (_ANY_FIRST or value[0] in _RESOLVERS_BY_FIRST) and _resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is dict or kind is list or kind is tuple:  # only empty ones come here
        return "{}" if kind is dict else "[]"
    raise _Hard


def _mapping(node: dict, newline: str) -> str:
    """A non-empty mapping, its lines after the first starting with `newline` (a line break and the indent)."""
    lines = []
    for key, value in node.items():
        if type(key) is not str or len(key) > _MAX_KEY:  # PyYAML writes other keys, and long ones as `? key`
            raise _Hard
        kind = type(value)
        if kind is str:
            lines.append(f"{_str(key)}: {_str(value)}")
        elif kind is dict and value:
            lines.append(f"{_str(key)}:{newline}  {_mapping(value, newline + '  ')}")
        elif (kind is list or kind is tuple) and value:
            lines.append(f"{_str(key)}:{newline}{_sequence(value, newline)}")
        else:
            lines.append(f"{_str(key)}: {_scalar(value)}")
    return newline.join(lines)


def _sequence(node: list | tuple, newline: str) -> str:
    """A non-empty list, as `_mapping`; an item's own lines are indented past its `- `."""
    lines = []
    for item in node:
        kind = type(item)
        if kind is str:
            lines.append("- " + _str(item))
        elif kind is dict and item:
            lines.append("- " + _mapping(item, newline + "  "))
        elif (kind is list or kind is tuple) and item:
            lines.append("- " + _sequence(item, newline + "  "))
        else:
            lines.append("- " + _scalar(item))
    return newline.join(lines)

