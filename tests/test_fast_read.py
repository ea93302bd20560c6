"""The fast read (msgspec, then custom checks) and the located walk agree on every input.

Values are drawn from the schema description itself (generator/read/spec.py), valid and not:
wrong types, unknown keys, snake_case spellings, missing required keys, bad values, nulls.
For each, `Spec.check` (the located walk) is the judge: the fast path must accept exactly what
it accepts without error, give the same records (fields, origins, spellings) and the same
warnings in the same order; when it refuses, `Spec.read` must return the walk's result and issues.
The one input the fast path leaves to the walk although it is valid: a key spelled snake_case
(msgspec knows one name per field), which `read` then reads the slow way, with the same result.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.read import catalog, config, spec
from generator.read.spec import INVALID, AnyValue, Bool, Ctx, Custom, Int, ListOf, MapOf, Rec, Record, Refused, Spec, Str
from generator.read.yamlio import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent

_scalar = st.one_of(st.sampled_from(["", "x", "a b", "true", "0644", "3", "/abs", "rel/x", "a,b", "UPPER", "é", "x\n"]),
                    st.integers(-3, 1000), st.booleans(), st.none(), st.floats(allow_nan=False, width=16))
_junk = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=2),
                                                      st.dictionaries(st.sampled_from(["a", "name", "key"]), inner,
                                                                      max_size=2)), max_leaves=4)


def _json(schema: dict) -> st.SearchStrategy:
    """Values of a (small) JSON Schema, as the Custom specs describe themselves."""
    if "oneOf" in schema:
        return st.one_of([_json(s) for s in schema["oneOf"]])
    if "allOf" in schema or not schema:
        return _junk
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_json({**schema, "type": k}) for k in kind])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"]).filter(lambda s: len(s) < 40)
        return st.sampled_from(["", "a", "x/y", "/abs", "a b", "docker.io/org", "https://r.example.com/org", "git://h/r",
                                "registry.example.com:5000", "ftp://x", "u@h", "0644", "REG_PASS", "creds/p.enc.json"])
    if kind in ("integer", "number"):
        return st.integers(schema.get("minimum", -2) - 2, schema.get("maximum", 600) + 2)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_json(schema.get("items", {})), max_size=2)
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        extra = schema.get("additionalProperties")
        base = st.fixed_dictionaries({k: _json(v) for k, v in props.items() if k in required},
                                     optional={k: _json(v) for k, v in props.items() if k not in required})
        if isinstance(extra, dict):
            return st.one_of(base, st.dictionaries(st.sampled_from(["cpu", "A", "x.io/k"]), _json(extra), max_size=2))
        return base
    return _junk


def _good(s: Spec) -> st.SearchStrategy:
    """Values of `s` that are mostly well formed (the draw mixes in `_bad` ones at every level)."""
    if isinstance(s, Str):
        if s.enum:
            return st.sampled_from(s.enum)
        if s.pattern is not None:
            return st.from_regex(s.pattern, fullmatch=True).filter(lambda v: len(v) < 300)
        return st.text(min_size=s.min_len, max_size=8)
    if isinstance(s, Bool):
        return st.booleans()
    if isinstance(s, Int):
        return st.integers((s.minimum or 0) - 1, (s.maximum or 100) + 1)
    if isinstance(s, AnyValue):
        return _junk
    if isinstance(s, ListOf):
        return st.lists(_value(s.item), min_size=max(0, s.min_items - 1), max_size=2)
    if isinstance(s, MapOf):
        return st.dictionaries(_value(s.key), _value(s.value), max_size=2)
    if isinstance(s, Custom):
        return _json(s.json_schema())
    if isinstance(s, Record):
        return _record(s)
    raise AssertionError(s)


def _record(r: Record) -> st.SearchStrategy:
    fields = {name: _value(f.spec) for name, f in r.fields.items()}
    if r is catalog.CONNECTION:  # the schema is checked by kind, in the connection's validate
        fields["schema"] = st.one_of([_value(k) for k in catalog.KIND_SCHEMAS.values()] + [_junk])
        fields["kind"] = st.sampled_from(sorted(catalog.KIND_SCHEMAS) + ["custom", "ssh", "nope"])
    required = {n: v for n, v in fields.items() if r.fields[n].required}
    optional = {n: v for n, v in fields.items() if not r.fields[n].required}
    base = st.fixed_dictionaries(required, optional=optional)

    @st.composite
    def mutated(draw: Any) -> dict:
        value = dict(draw(base))
        how = draw(st.sampled_from(["drop", "unknown", "snake", "both", "null"]))
        names = sorted(r.fields)
        name = draw(st.sampled_from(names))
        if how == "drop":
            value.pop(name, None)
        elif how == "unknown":
            value[draw(st.sampled_from(["extra", name.upper(), "naem"]))] = draw(_scalar)
        elif how in ("snake", "both") and name in value:
            snake = spec.snake(name)
            item = value[name] if how == "both" else value.pop(name)
            value[snake] = item
        else:
            value[name] = None
        return value

    return st.one_of(base, base, base, mutated())  # the same strategy thrice: mostly well formed


_VALUES: dict[int, st.SearchStrategy] = {}


def _value(s: Spec) -> st.SearchStrategy:
    """Mostly `_good(s)`, sometimes a scalar of any type; one strategy per spec (they nest)."""
    if id(s) not in _VALUES:
        good = _good(s)
        _VALUES[id(s)] = st.one_of(good, good, good, _scalar)
    return _VALUES[id(s)]


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal values, and for records also equal origins and spellings (not fields, so not in ==)."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, Rec):
        assert a.origin == b.origin and a.spelled == b.spelled, where
        for name in a.__struct_fields__:
            _same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    else:
        assert a == b, where


def _respelled(value: Any) -> bool:
    """Whether some key of a checked value was written in another spelling than its canonical one."""
    if isinstance(value, Rec):
        return any(k != v for k, v in value.spelled.items()) or any(
            _respelled(getattr(value, name)) for name in value.__struct_fields__)
    if isinstance(value, (list, tuple)):
        return any(map(_respelled, value))
    if isinstance(value, dict):
        return any(map(_respelled, value.values()))
    return False


def _agree(s: Spec, value: Any) -> bool:
    """The contract, for one value; says whether the fast path accepted it."""
    walked = Ctx("f.yaml")
    judged = s.check(value, walked, ("top",))
    accepted = judged is not INVALID and not walked.failed_since(0)
    fast = Ctx("f.yaml")
    try:
        out = s.finish(msgspec.convert(value, s.annotation), value, fast, ("top",))
    except (msgspec.ValidationError, Refused):
        assert not accepted or _respelled(judged), f"the fast path refuses what the located walk accepts: {value!r}"
    else:
        assert accepted, f"the fast path accepts what the located walk refuses: {value!r}: {walked.issues}"
        _same(out, judged)
        assert fast.issues == walked.issues  # warnings, in the same order
    read = Ctx("f.yaml")
    _same(s.read(value, read, ("top",)), judged)
    assert read.issues == walked.issues
    return accepted


_SPECS = {"config": config.CONFIG, "connections": catalog.CONNECTIONS, "build": config.BUILD,
          "credential": config.CREDENTIAL, **{f"{k} schema": v for k, v in catalog.KIND_SCHEMAS.items()}}


@pytest.mark.parametrize("name", sorted(_SPECS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.filter_too_much])
@given(data=st.data())
def test_fast_and_located_reads_agree(name: str, data: st.DataObject) -> None:
    s = _SPECS[name]
    _agree(s, data.draw(_value(s)))


@pytest.mark.parametrize("name", sorted(_SPECS))
def test_the_fast_path_accepts_well_formed_values(name: str) -> None:
    """Not vacuous: among drawn values the fast path accepts some (so the agreement above is tested)."""
    accepted = []

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(value=_good(_SPECS[name]))
    def run(value: Any) -> None:
        accepted.append(_agree(_SPECS[name], value))

    for _ in range(6):  # a drawn registry url is seldom well formed: 60 draws accept none about one time in twenty
        run()
        if any(accepted):
            break
    assert any(accepted)


def _fixture_configs() -> list[Path]:
    return sorted(p for p in (ROOT / "fixtures").glob("*/generator.yaml"))


@pytest.mark.parametrize("path", _fixture_configs(), ids=lambda p: p.parent.name)
def test_every_fixture_config_reads_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole configs with their catalogs: the same GeneratorConfig and issues with the fast path off."""
    from generator.read.config import load_config

    def load() -> tuple:
        try:
            return load_config(load_yaml_file(path, "g.yaml"), "g.yaml", path.parent)
        except Exception as exc:  # noqa: BLE001 - compared, not hidden
            return type(exc), getattr(exc, "issues", None)

    fast = load()
    monkeypatch.setattr(Spec, "read", lambda self, value, ctx, where: self.check(value, ctx, where))
    assert load() == fast


def test_msgspec_patterns_are_whole_matches() -> None:
    """Str patterns are fullmatch in the walk; msgspec searches, so the annotation anchors them (\\Z, not $)."""
    name = Str(pattern=r"[a-z]+")
    assert re.search(name.annotation.__metadata__[0].pattern, "abc\n") is None
    assert not _agree(name, "abc\n")
