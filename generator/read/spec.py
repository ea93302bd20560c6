"""A small declarative schema: one description gives validation, defaults and JSON Schema.

The catalog and the generator config are described once with these types. `check` walks
user data, collects every problem with its key path (so `validate` can list them all),
and returns normalised data: canonical camelCase keys, defaults applied, each mapping a
`Rec`. `json_schema` turns the same description into the JSON Schema that `conngen schema`
prints, and `annotation` into msgspec types, so none of them can drift apart.

`read` is what loading uses: msgspec converts the whole value to those types in C, then
`finish` runs only the custom conversions and record checks, in document order; when either
refuses, the located walk (`check`) reads the value again and says where and why. A property
test holds the two paths to the same records, issues and warnings.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterable, Literal

import msgspec
from msgspec import Meta, Struct, field

from generator.errors import Issue, Origin, shown
from generator.limits import MAX_VALUES


class Invalid:
    """Marker for a value that failed its check (an issue was already recorded)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID = Invalid()


class Budget(Exception):
    """Raised when a document expands past MAX_VALUES (aliases pointing at aliases)."""


class Ctx(Struct):
    """State of one schema check: the file, the problems found so far, and how many values were visited."""

    file: str
    issues: list[Issue] = field(default_factory=list)
    visited: int = 0

    def error(self, path: tuple, message: str, hint: str = "") -> Invalid:
        """Record a problem; give every problem a hint that says how to fix it."""
        self.issues.append(Issue(Origin(self.file, path), message, hint))
        return INVALID

    def failed_since(self, before: int) -> bool:
        """Whether an error (not just a warning) was recorded after the first `before` issues."""
        return len(self.issues) > before and any(i.severity == "error" for i in self.issues[before:])

    def tick(self) -> None:
        self.visited += 1
        if self.visited > MAX_VALUES:
            raise Budget()


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def nearest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices closest to a misspelt word: same letters in another case first, then difflib's."""
    import difflib

    choices = list(choices)
    same = [c for c in choices if c.lower() == word.lower()]
    return same or difflib.get_close_matches(word, choices, n, 0.6)


MAX_LISTED = 10  # an enum longer than this is not listed in a message: the nearest values are
MAX_SHAPES = 1000  # key orders a Record remembers, strings a pure Custom (a document could make one per record)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Refused(Exception):
    """The fast path met a problem: the located walk reads the value again to report it."""


class Spec:
    description: str = ""
    deep = False  # whether a value msgspec converted still needs `finish` (custom conversions, records)

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        raise NotImplementedError

    @cached_property
    def annotation(self) -> Any:
        """The msgspec type that accepts exactly the values `check` accepts without issue (bar custom checks)."""
        return Any

    def finish(self, value: Any, raw: Any, ctx: Ctx, path: tuple) -> Any:
        """What `check` returns for `raw`, given `value`, msgspec's conversion of it; raises Refused on an error."""
        return value

    def read(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        """What `check` returns, and the same issues: typed by msgspec first, walked only when that refuses."""
        before = len(ctx.issues)
        try:
            return self.finish(msgspec.convert(value, self.annotation), value, ctx, path)
        except (msgspec.ValidationError, Refused):
            del ctx.issues[before:]  # the fast path's warnings: the walk finds them again
            return self.check(value, ctx, path)

    def json_schema(self) -> dict:
        raise NotImplementedError

    def _doc(self, schema: dict) -> dict:
        if self.description:
            schema["description"] = self.description
        return schema


class Str(Spec):
    def __init__(self, description: str = "", pattern: str | None = None, hint: str = "",
                 min_len: int = 0, max_len: int | None = None, enum: Iterable[str] | None = None):
        self.description = description
        self.pattern = pattern  # compiled by `re` on first use: most are used only on an error's slow path
        self.hint = hint
        self.min_len = min_len
        self.max_len = max_len
        self.enum = tuple(enum) if enum else None

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if not isinstance(value, str):
            if isinstance(value, (bool, int, float)):
                return ctx.error(path, f"expected a string, got {type_name(value)}", "quote it: \"...\"")
            return ctx.error(path, f"expected a string, got {type_name(value)}", "write a single value")
        if self.enum is not None and value not in self.enum:
            close = nearest(value, self.enum)
            if len(self.enum) > MAX_LISTED:
                return ctx.error(path, f"{shown(value)} is not one of the {len(self.enum)} known values",
                                 (f"did you mean {' or '.join(map(repr, close))}?" if close else
                                  f"for example {', '.join(self.enum[:5])}") + " (`conngen schema` lists them all)")
            return ctx.error(path, f"{shown(value)} is not one of: {', '.join(self.enum)}",
                             f"did you mean {shown(close[0])}?" if close else "use one of the listed values")
        if len(value) < self.min_len:
            return ctx.error(path, "must not be empty", "give a value, or remove the key")
        if self.max_len is not None and len(value) > self.max_len:
            return ctx.error(path, f"is {len(value)} characters long, at most {self.max_len} allowed", "shorten it")
        if self.pattern and not re.fullmatch(self.pattern, value):
            return ctx.error(path, f"{shown(value)} is not valid", self.hint)
        return value

    @cached_property
    def annotation(self) -> Any:
        if self.enum is not None:
            return Literal[self.enum]
        return Annotated[str, Meta(min_length=self.min_len or None, max_length=self.max_len,
                                   pattern=rf"\A(?:{self.pattern})\Z" if self.pattern else None)]

    def json_schema(self) -> dict:
        s: dict = {"type": "string"}
        if self.enum:
            s["enum"] = list(self.enum)
        if self.min_len:
            s["minLength"] = self.min_len
        if self.max_len is not None:
            s["maxLength"] = self.max_len
        if self.pattern:
            s["pattern"] = f"^(?:{self.pattern})$"
        return self._doc(s)


class Bool(Spec):
    def __init__(self, description: str = ""):
        self.description = description

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return ctx.error(path, f"expected true or false, got the string {shown(value)}",
                             f"drop the quotes: {value.lower()}")
        if not isinstance(value, bool):
            return ctx.error(path, f"expected true or false, got {type_name(value)}",
                             "YAML 1.2: only true/false are booleans (yes/no/on/off are strings)")
        return value

    @cached_property
    def annotation(self) -> Any:
        return bool

    def json_schema(self) -> dict:
        return self._doc({"type": "boolean"})


class Int(Spec):
    def __init__(self, description: str = "", minimum: int | None = None, maximum: int | None = None):
        self.description = description
        self.minimum = minimum
        self.maximum = maximum

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if isinstance(value, bool) or not isinstance(value, int):
            digits = value.strip() if isinstance(value, str) else ""
            return ctx.error(path, f"expected a whole number, got {type_name(value)}",
                             f"drop the quotes: {digits}" if digits.isdigit() else "write a number such as 3")
        if self.minimum is not None and value < self.minimum:
            return ctx.error(path, f"must be at least {self.minimum}", f"use {self.minimum} or more")
        if self.maximum is not None and value > self.maximum:
            return ctx.error(path, f"must be at most {self.maximum}", f"use {self.maximum} or less")
        return value

    @cached_property
    def annotation(self) -> Any:
        return Annotated[int, Meta(ge=self.minimum, le=self.maximum)]

    def json_schema(self) -> dict:
        s: dict = {"type": "integer"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        return self._doc(s)


class AnyValue(Spec):
    """Free-form data (schemas of kinds conngen does not interpret)."""

    def __init__(self, description: str = ""):
        self.description = description

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        _walk(value, ctx)
        return value

    def json_schema(self) -> dict:
        return self._doc({})


def _walk(value: Any, ctx: Ctx) -> None:
    """Count every value, so that aliases that multiply are caught even where unchecked."""
    stack = [value]
    while stack:
        item = stack.pop()
        ctx.tick()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class ListOf(Spec):
    def __init__(self, item: Spec, description: str = "", min_items: int = 0):
        self.item = item
        self.description = description
        self.min_items = min_items
        self.deep = item.deep

    @cached_property
    def annotation(self) -> Any:
        return Annotated[list[self.item.annotation], Meta(min_length=self.min_items)]  # type: ignore[name-defined]

    def finish(self, value: Any, raw: Any, ctx: Ctx, path: tuple) -> Any:
        if self.deep:
            for i, item in enumerate(raw):
                value[i] = self.item.finish(value[i], item, ctx, path + (i,))
        return value

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if not isinstance(value, list):
            if isinstance(value, str) and "," in value:
                items = ", ".join(part.strip() for part in value.split(","))
                return ctx.error(path, "expected a list, got a string with commas", f"write a YAML list: [{items}]")
            return ctx.error(path, f"expected a list, got {type_name(value)}",
                             f"write a YAML list: [{value}]" if isinstance(value, (str, int, float)) else
                             "write a YAML list: [a, b]")
        if len(value) < self.min_items:
            return ctx.error(path, f"needs at least {self.min_items} item(s)", "add an item, or remove the key")
        out = [self.item.check(v, ctx, path + (i,)) for i, v in enumerate(value)]
        return INVALID if any(v is INVALID for v in out) else out

    def json_schema(self) -> dict:
        s: dict = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            s["minItems"] = self.min_items
        return self._doc(s)


class MapOf(Spec):
    def __init__(self, value: Spec, description: str = "", key: Str | None = None):
        self.value = value
        self.key = key or Str()
        self.description = description
        self.deep = value.deep

    @cached_property
    def annotation(self) -> Any:
        return dict[self.key.annotation, self.value.annotation]  # type: ignore[name-defined]

    def finish(self, value: Any, raw: Any, ctx: Ctx, path: tuple) -> Any:
        if self.deep:
            for key, item in raw.items():
                value[key] = self.value.finish(value[key], item, ctx, path + (key,))
        return value

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if not isinstance(value, dict):
            return ctx.error(path, f"expected a mapping, got {type_name(value)}", "write key: value pairs")
        out = {}
        for k, v in value.items():
            if self.key.check(k, ctx, path + (k,)) is INVALID:
                continue
            out[k] = self.value.check(v, ctx, path + (k,))
        return INVALID if any(v is INVALID for v in out.values()) or len(out) < len(value) else out

    def json_schema(self) -> dict:
        s: dict = {"type": "object", "additionalProperties": self.value.json_schema()}
        if self.key.pattern:
            s["propertyNames"] = {"pattern": f"^(?:{self.key.pattern})$"}
        return self._doc(s)


class Rec(Struct, kw_only=True, dict=True):
    """A checked mapping, an instance of the struct its Record made, that remembers where it was and
    which spelling each key had (not fields: msgspec must never fill them from user data)."""

    if TYPE_CHECKING:
        origin: Origin
        spelled: dict[str, str]

        def __getattr__(self, name: str) -> Any: ...  # the fields its Record gave it

        def __setattr__(self, name: str, value: Any) -> None: ...

    def at(self, key: str) -> Origin:
        return self.origin.at(self.spelled.get(key, key))


class Field(Struct):
    """One key of a Record: its spec, whether it is required, and its default."""

    name: str
    spec: Spec
    required: bool = False
    default: Any = None


class Record(Spec):
    """A mapping with known keys; camelCase and snake_case spellings are both accepted."""

    def __init__(self, title: str, fields: list[Field], description: str = "",
                 ignore_unknown: bool = False, validate: Callable[[Rec, Ctx], None] | None = None):
        self.title = title
        self.fields = {f.name: f for f in fields}
        self.description = description
        self.ignore_unknown = ignore_unknown
        self.validate = validate
        self.shapes: dict[tuple, tuple[dict[str, str], list[tuple[str, Spec]]]] = {}  # records share a few key orders
        self.aliases = {}
        for f in fields:
            self.aliases[f.name] = f.name
            self.aliases.setdefault(snake(f.name), f.name)

    deep = True  # every record learns its origin

    @cached_property
    def annotation(self) -> Any:
        return msgspec.defstruct(
            self.title, [(f.name, f.spec.annotation) if f.required else (f.name, f.spec.annotation, f.default)
                         for f in self.fields.values()],
            bases=(Rec,), kw_only=True, forbid_unknown_fields=not self.ignore_unknown)

    def finish(self, value: Any, raw: Any, ctx: Ctx, path: tuple) -> Any:
        keys = tuple(raw)
        shape = self.shapes.get(keys)
        if shape is None:  # once per key order: the spellings (shared, never changed) and the keys to finish
            shape = dict(zip(keys, keys)), [(k, self.fields[k].spec) for k in keys if k in self.fields
                                            and self.fields[k].spec.deep]
            if len(self.shapes) < MAX_SHAPES:
                self.shapes[keys] = shape
        value.origin = Origin(ctx.file, path)
        value.spelled, deep = shape
        for key, spec in deep:  # in the document's order, as `check` meets them
            setattr(value, key, spec.finish(getattr(value, key), raw[key], ctx, path + (key,)))
        if self.validate is not None:
            before = len(ctx.issues)
            self.validate(value, ctx)
            if len(ctx.issues) > before and ctx.failed_since(before):
                raise Refused
        return value

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        if not isinstance(value, dict):
            return ctx.error(path, f"expected a mapping ({self.title}), got {type_name(value)}",
                             f"write key: value pairs; known keys: {', '.join(sorted(self.fields))}")
        out: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        bad = False
        for key, item in value.items():
            name = self.aliases.get(key) if isinstance(key, str) else None
            if name is None:
                if not self.ignore_unknown:
                    known = ", ".join(sorted(self.fields))
                    close = nearest(str(key), self.aliases, 1)
                    ctx.error(path + (key,), f"unknown key {shown(key)} in {self.title}",
                              f"did you mean {shown(self.aliases[close[0]])}? (known keys: {known})" if close else
                              f"known keys: {known}")
                    bad = True
                continue
            if name in spelled:
                ctx.error(path + (key,), f"{shown(key)} and {shown(spelled[name])} are the same key", "keep only one spelling")
                bad = True
                continue
            spelled[name] = key
            checked = self.fields[name].spec.check(item, ctx, path + (key,))
            bad = bad or checked is INVALID
            out[name] = checked
        for f in self.fields.values():
            if f.name not in out:
                if f.required:
                    ctx.error(path, f"{self.title} is missing required key {shown(f.name)}", f"add {f.name}: ...")
                    bad = True
                else:
                    out[f.name] = f.default
        if bad:
            return INVALID
        record = self.annotation(**out)
        record.origin = Origin(ctx.file, path)
        record.spelled = spelled
        if self.validate is not None:
            before = len(ctx.issues)
            self.validate(record, ctx)
            if ctx.failed_since(before):  # a warning keeps the record
                return INVALID
        return record

    def json_schema(self) -> dict:
        props = {}
        for f in self.fields.values():
            props[f.name] = f.spec.json_schema()
            if f.default is not None:
                props[f.name]["default"] = f.default
        s: dict = {"type": "object", "title": self.title, "properties": props,
                   "additionalProperties": self.ignore_unknown}
        required = [f.name for f in self.fields.values() if f.required]
        if required:
            s["required"] = required
        # snake_case spellings are accepted too; list them so editors do not flag them
        snakes = {snake(n): props[n] for n in props if snake(n) != n}
        if snakes:
            s["patternProperties"] = {f"^{k}$": v for k, v in sorted(snakes.items())}
        return self._doc(s)


class Custom(Spec):
    """A value with more than one accepted form; `convert` normalises it or records issues.

    `pure`: a string's conversion depends on nothing else (not its path), so each distinct one is made once.
    `typed`: the msgspec type of the accepted forms; `fast` makes msgspec's conversion of one of them what
    `convert` makes of the value (None: `convert` reads the raw value), without walking it again."""

    def __init__(self, convert: Callable[[Any, Ctx, tuple], Any], schema: dict, description: str = "",
                 pure: bool = False, typed: Any = Any, fast: Callable[[Any, Any, Ctx, tuple], Any] | None = None):
        self.convert = convert
        self.schema = schema
        self.description = description
        self.done: dict[str, Any] | None = {} if pure else None
        self.annotation = typed
        self.fast = fast

    deep = True

    def check(self, value: Any, ctx: Ctx, path: tuple) -> Any:
        ctx.tick()
        return self.convert(value, ctx, path)

    def finish(self, value: Any, raw: Any, ctx: Ctx, path: tuple) -> Any:
        done = self.done if type(raw) is str else None
        if done is not None:
            out = done.get(raw, done)
            if out is not done:
                return out
        before = len(ctx.issues)
        out = None if self.fast is None else self.fast(value, raw, ctx, path)
        if out is None:
            out = self.convert(raw, ctx, path)
        if len(ctx.issues) == before:
            if out is INVALID:
                raise Refused
            if done is not None and len(done) < MAX_SHAPES:
                done[raw] = out
        elif out is INVALID or ctx.failed_since(before):
            raise Refused
        return out

    def json_schema(self) -> dict:
        return self._doc(dict(self.schema))


def rec(title: str, *fields: Field, **kw: Any) -> Record:
    return Record(title, list(fields), **kw)
