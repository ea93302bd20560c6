"""Reading user YAML fast, with YAML 1.2 meaning, and finding where a key path lives.

kustomize runs us on every build, so user files are parsed with PyYAML's C parser and a
resolver set to the YAML 1.2 core schema (``no`` and ``on`` stay strings, ``0o17`` is
octal, ``0644`` is decimal 644) — the same meaning ruamel.yaml gives them, which a
property test checks. ruamel.yaml, slower to import and to parse, is loaded only when an
error has to name a line and column.
"""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from generator.errors import Issue, KeyPath, Origin, UserError, clipped, shown
from generator.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_Base):  # type: ignore[valid-type, misc]
    """SafeLoader with the YAML 1.2 core schema and duplicate keys refused."""

    yaml_implicit_resolvers: dict = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value, not a list or mapping", key_node.start_mark
                ) from None
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"duplicate key {shown(key)} (first at line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | str:
        original = self.construct_scalar(node)
        text = original.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        try:
            for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
                if digits.startswith(prefix):
                    return sign * int(digits[2:], base)
            return sign * int(digits, 10)  # YAML 1.2: 0644 is decimal 644
        except ValueError:  # `0b_` or `+_` look like numbers to the resolver but have no digits
            return original


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _Yaml12Loader.construct_yaml_int)
# the implicit resolvers ruamel.yaml uses for YAML 1.2, without timestamps (dates stay strings)
for _tag, _regexp, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
    ("float", r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
              r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
    ("merge", r"^(?:<<)$", "<"),
):
    _Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp), list(_first))


class _Fallback(Exception):
    """Something the event reader leaves to the full loader: tags, merge keys, errors."""


_NO_KEY = object()
_PLAIN_RESOLVERS = _Yaml12Loader.yaml_implicit_resolvers
_loader_for_scalars = _Yaml12Loader("")


def _plain(value: str) -> Any:
    """A plain scalar's YAML 1.2 value, as the loader's resolvers and constructors give it."""
    for tag, regexp in _PLAIN_RESOLVERS.get(value[:1], ()):
        if regexp.match(value):
            if tag == "tag:yaml.org,2002:int":
                return _loader_for_scalars.construct_yaml_int(yaml.ScalarNode(tag, value))
            if tag == "tag:yaml.org,2002:float":
                return _loader_for_scalars.construct_yaml_float(yaml.ScalarNode(tag, value))
            if tag == "tag:yaml.org,2002:bool":
                return value in ("true", "True", "TRUE")
            if tag == "tag:yaml.org,2002:null":
                return None
            raise _Fallback  # `<<`: merge keys are rare; the full loader handles them
    return value


def _anchor(anchors: dict[str, Any], name: str, value: Any) -> None:
    """Keep an anchored value for its aliases; a name anchored twice is left to the full loader."""
    if name in anchors:
        raise _Fallback
    anchors[name] = value


def read_events(text: str) -> tuple[Any, bool]:
    """Build the document straight from the C parser's events, skipping PyYAML's node graph.

    Composing nodes and constructing them in Python cost several times the parse itself.
    Only untagged plain and quoted scalars, mappings, sequences, anchors and aliases are read
    here; anything else, and every error, raises `_Fallback` so the full loader decides.
    Also says whether the document is a plain tree well inside check_shape's limits (no alias,
    shallow, small, no escaped surrogate), which then need not walk it again.
    """
    events = _Base(text)
    get = events.get_event
    get()  # stream start
    if type(get()) is yaml.StreamEndEvent:
        return None, True
    anchors: dict[str, Any] = {}
    plains: dict[str, Any] = {}  # plain scalars repeat (keys above all); their values are immutable
    top: list[Any] = []  # holds the root
    container: Any = top  # the open collection, whether it is a list, and its pending key
    is_list, key = True, _NO_KEY
    stack: list[tuple[Any, bool, Any]] = []  # the collections around it
    count, deepest, plain_tree = 1, 0, True  # values are counted as their collection ends (the root: 1)
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    while True:
        event = get()
        kind = type(event)
        if kind is scalar_event:  # most events: stored here, without the collections' bookkeeping
            if event.tag is None and event.implicit[0]:
                value = plains.get(event.value, plains)
                if value is plains:  # most plain scalars are strings that no resolver could take
                    value = event.value
                    value = plains[value] = _plain(value) if value[:1] in _PLAIN_RESOLVERS else value
            elif event.tag is None or event.tag == "!":
                value = event.value
                if event.style == '"' and plain_tree and _SURROGATE.search(value):
                    plain_tree = False  # only a double-quoted escape can make a surrogate
            else:
                raise _Fallback
            if event.anchor is not None:
                _anchor(anchors, event.anchor, value)
            if is_list:
                container.append(value)
            elif key is _NO_KEY:
                if value in container:
                    raise _Fallback  # a duplicate key
                key = value
            else:
                container[key] = value
                key = _NO_KEY
            continue
        if kind is mapping_end or kind is sequence_end:
            count += len(container) if is_list else 2 * len(container)
            container, is_list, key = stack.pop()
            continue
        if kind is mapping_start or kind is sequence_start:
            if event.tag is not None or (not is_list and key is _NO_KEY):
                raise _Fallback  # a tag, or a collection as a key
            value = {} if kind is mapping_start else []
            if event.anchor is not None:
                _anchor(anchors, event.anchor, value)
        elif kind is yaml.AliasEvent:
            value = anchors[event.anchor]
            plain_tree = False
            if is_list:
                container.append(value)
            elif key is _NO_KEY:
                raise _Fallback  # an alias as a key
            else:
                container[key] = value
                key = _NO_KEY
            continue
        elif kind is yaml.DocumentEndEvent:
            break
        else:
            raise _Fallback
        if is_list:
            container.append(value)
        else:
            container[key] = value
        stack.append((container, is_list, _NO_KEY))
        container, is_list, key = value, kind is sequence_start, _NO_KEY
        if len(stack) > deepest:
            deepest = len(stack)
    if type(get()) is not yaml.StreamEndEvent:
        raise _Fallback  # more than one document
    return top[0], plain_tree and deepest < MAX_DEPTH // 2 and count < MAX_VALUES // 2


def check_shape(data: Any, file: str) -> None:
    """Refuse documents that expand (alias bombs), recurse, nest too deep, or hold unencodable text.

    Sizes are computed once per distinct node (aliases share nodes), so a bomb is measured
    in microseconds instead of being walked.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded values, depth)
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise UserError([Issue(Origin(file), "a string holds an unpaired surrogate escape (\\uD800-\\uDFFF)",
                                       "write the character itself, or a \\U escape of the full code point")])
            continue
        if not isinstance(node, (dict, list)):
            continue
        key = id(node)
        children = list(node.keys()) + list(node.values()) if isinstance(node, dict) else node
        if done:
            on_path.discard(key)
            total, depth = 1, 1
            for child in children:
                size, child_depth = sizes.get(id(child), (1, 0))
                total += size
                depth = max(depth, child_depth + 1)
            sizes[key] = (total, depth)
            if total > MAX_VALUES or depth > MAX_DEPTH:
                what = f"nests {depth} levels deep (limit {MAX_DEPTH})" if depth > MAX_DEPTH else \
                    f"expands to more than {MAX_VALUES} values (YAML aliases?)"
                raise UserError([Issue(Origin(file), f"the document {what}", "simplify the file; avoid aliases of aliases")])
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise UserError([Issue(Origin(file), "the document refers to itself through a YAML alias",
                                   "remove the recursive alias")])
        if len(on_path) >= MAX_DEPTH:
            raise UserError([Issue(Origin(file), f"the document nests more than {MAX_DEPTH} levels deep",
                                   "simplify the file")])
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children)


_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_yaml(text: str, file: str, check: bool = True) -> Any:
    """Parse one YAML document with YAML 1.2 meaning; syntax errors become located issues.

    `check=False` skips the shape limits, for text conngen rendered itself from checked data.
    """
    try:
        data, plain_tree = (PARSED_AHEAD[text](text) if PARSED_AHEAD and text in PARSED_AHEAD else None) \
            or read_events(text)
        full_load = False
    except Exception:  # noqa: BLE001 - the full loader below gives every problem its message
        full_load, plain_tree = True, False
    try:
        if full_load:
            data = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise UserError([Issue(
            Origin(file), f"invalid YAML: {clipped(problem)}", "fix the YAML syntax at that place",
            line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
        )]) from None
    except yaml.YAMLError as exc:
        raise UserError([Issue(Origin(file), f"invalid YAML: {type(exc).__name__}")]) from None
    except RecursionError:
        raise UserError([Issue(Origin(file), "the document nests too deep", "simplify the file")]) from None
    if check and not plain_tree:
        check_shape(data, file)
    return data


def top_level_value(text: str, key: str, events: int = 200) -> Any:
    """A top-level key's scalar or list of scalars, if the document's first `events` events hold it (else None).

    A glance, not a parse: it lets a config's catalogs be read ahead while the config is parsed.
    """
    parser = _Base(text)
    try:
        if [type(parser.get_event()) for _ in range(3)][2] is not yaml.MappingStartEvent:
            return None
        depth, at_key, found = 0, True, False
        for _ in range(events):
            event = parser.get_event()
            kind = type(event)
            if found:  # the key's value
                if kind is yaml.ScalarEvent:
                    return event.value
                items = []
                while kind is yaml.SequenceStartEvent and type(event := parser.get_event()) is yaml.ScalarEvent:
                    items.append(event.value)
                return items if type(event) is yaml.SequenceEndEvent else None
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                depth += 1
                continue
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
                if depth < 0:  # the end of the document's mapping
                    return None
            if depth == 0:  # a key or a value of the document's mapping is complete
                found = at_key and kind is yaml.ScalarEvent and event.value == key
                at_key = not at_key
    except yaml.YAMLError:
        pass
    return None


#: Texts a child process is parsing (read/ahead.py), each with what gives its parse, as `read_events` makes
#: it, or None; parse_yaml of the same text takes it.
PARSED_AHEAD: dict[str, Callable[[str], tuple[Any, bool] | None]] = {}


class TooLarge(Exception):
    """An input over MAX_FILE_BYTES, noticed before any of it is parsed."""


def read_limited(fd: int) -> bytes:
    """All bytes of an open file, pipe or device; more than MAX_FILE_BYTES raises TooLarge.

    The one size limit of every input (configs, catalogs, credential files, stdin): a regular
    file is refused by its size before a byte is read, anything else (a pipe, /dev/zero) as soon
    as the limit is passed.
    """
    info = os.fstat(fd)
    if info.st_size > MAX_FILE_BYTES:
        raise TooLarge
    regular = stat.S_ISREG(info.st_mode) and info.st_size > 0  # /proc files say 0
    want = info.st_size + 1 if regular else 1 << 20  # a regular file in one read (thousands of credential files)
    chunks, total = [], 0
    while chunk := os.read(fd, want):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise TooLarge
        chunks.append(chunk)
        if regular and total == info.st_size:  # all of it: no read more to find the end
            break
        want = 1 << 20
    return b"".join(chunks)


def read_text(path: Path, display: str) -> str:
    """Read a user file as UTF-8 text, refusing huge files before reading them."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return read_limited(fd).decode("utf-8")
        finally:
            os.close(fd)
    except TooLarge:
        raise UserError([Issue(Origin(display), f"file is more than the limit of {MAX_FILE_BYTES} bytes",
                               "split the catalog into several files")]) from None
    except FileNotFoundError:
        raise UserError([Issue(Origin(display), "file not found", "check the path")]) from None
    except IsADirectoryError:
        raise UserError([Issue(Origin(display), "is a directory, expected a file")]) from None
    except UnicodeDecodeError as exc:
        raise UserError([Issue(Origin(display), f"not UTF-8 text (byte {exc.start})", "save the file as UTF-8")]) from None
    except PermissionError:
        raise UserError([Issue(Origin(display), "permission denied reading the file")]) from None
    except OSError as exc:  # name too long, a loop of symlinks, an I/O error...
        raise UserError([Issue(Origin(display), f"cannot read the file ({exc.strerror or type(exc).__name__})")]) from None


def load_yaml_file(path: Path, display: str) -> Any:
    return parse_yaml(read_text(path, display), display)


@lru_cache(maxsize=32)
def _ruamel_tree(text: str) -> Any:
    from ruamel.yaml import YAML  # imported only to locate an error

    loader = YAML(typ="rt")
    loader.allow_duplicate_keys = True
    return loader.load(text)


def locate(text: str, path: KeyPath) -> tuple[int, int] | None:
    """Line and column (1-based) of the deepest part of `path` that exists in `text`."""
    try:
        node = _ruamel_tree(text)
    except Exception:  # a file we could parse but ruamel cannot: no position, still a message
        return None
    found: tuple[int, int] | None = None
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                found = lc.item(part) if lc else found
                node = node[part]
            elif isinstance(node, dict) and part in node:
                found = lc.key(part) if lc else found
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    if found is None:
        return None
    return found[0] + 1, found[1] + 1
