"""Writing objects out: one deterministic YAML stream, byte for byte what PyYAML writes.

PyYAML's representer walks every value in Python and was a third of a large render. Most
of what conngen writes is mappings, lists, numbers and short strings of name-like characters,
whose YAML form is fixed: this module writes those directly, in PyYAML's layout (two-space
indent, lists level with their key). Any object holding something else (text with spaces or
newlines, floats, long keys, a list or mapping used twice) is handed to PyYAML whole. A
property test checks the two writers against each other.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

import yaml



class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (scripts, certificates) as literal blocks, so they stay readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value[:1].isspace() and all(
        c == "\n" or c.isprintable() for c in value) and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _pyyaml(objects: list) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=4096, explicit_start=True)


def yaml_stream(objects: Iterable[dict]) -> str:
    return "".join(stream_of(map(yaml_document, objects)))


def yaml_document(obj: dict) -> str:
    """One object as a document of the stream (`---` first; it may end in `...`, see stream_of)."""
    lines = ["---\n"]
    try:
        if type(obj) is not dict or not obj:
            raise _Hard
        _block(obj, "", "", lines, set())
    except _Hard:
        return _pyyaml([obj])
    return "".join(lines)


def stream_of(documents: Iterable[str]) -> Iterator[str]:
    """Documents joined as PyYAML's dump_all joins them: `...` only ends the stream."""
    held: str | None = None
    for document in documents:
        if held is not None:
            yield held[:-4] if held.endswith("\n...\n") else held
        held = document
    if held is not None:
        yield held


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
# Keys and values repeat across objects, and each name several times within its own objects
# (a Secret's name is also its Jobs' secretName). Only texts of at most 64 characters are kept:
# names (at most 63) and keys, rather than a Secret's base64 data, which never repeats (a
# dockerconfigjson made from a username and password is over 80). When full, it starts over.
_MAX_SCALARS = 65536
_MAX_MEMO_TEXT = 64
_scalars: dict[str, str] = {}


def _str(value: str) -> str:
    text = _scalars.get(value)
    if text is None:
        if not _NAMELIKE.fullmatch(value) or value.startswith(("---", "...")):
            raise _Hard
        if (_ANY_FIRST or value[0] in _RESOLVERS_BY_FIRST) and _resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:
            text = "'" + value.replace("'", "''") + "'"
        else:
            text = value
        if len(value) <= _MAX_MEMO_TEXT:
            if len(_scalars) >= _MAX_SCALARS:
                _scalars.clear()
            _scalars[value] = text
    return text


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
    if kind is dict or kind is list:  # only empty ones come here
        return "{}" if kind is dict else "[]"
    raise _Hard


def _block(node: dict | list, indent: str, lead: str, out: list[str], seen: set[int]) -> None:
    """Write a non-empty mapping or list; its first line starts with `lead`, the rest with `indent`.

    The hottest loop of a large render: known scalar texts are looked up inline (`_scalars`)
    before falling back to the checks in `_str`/`_scalar`.
    """
    if id(node) in seen:
        raise _Hard  # PyYAML would write an anchor and an alias
    seen.add(id(node))
    scalars = _scalars
    if type(node) is dict:
        for key, value in node.items():
            if type(key) is not str or len(key) > _MAX_KEY:
                raise _Hard
            head = lead + (scalars.get(key) or _str(key))
            lead = indent
            kind = type(value)
            if kind is str:
                out.append(head + ": " + (scalars.get(value) or _str(value)) + "\n")
            elif kind is dict and value:
                out.append(head + ":\n")
                _block(value, indent + "  ", indent + "  ", out, seen)
            elif kind is list and value:
                out.append(head + ":\n")
                _block(value, indent, indent, out, seen)
            else:
                out.append(head + ": " + _scalar(value) + "\n")
    else:
        for item in node:
            kind = type(item)
            if kind is str:
                out.append(lead + "- " + (scalars.get(item) or _str(item)) + "\n")
            elif (kind is dict or kind is list) and item:
                _block(item, indent + "  ", lead + "- ", out, seen)
            else:
                out.append(lead + "- " + _scalar(item) + "\n")
            lead = indent
