"""The fast reader gives user files the same meaning ruamel.yaml (YAML 1.2) gives them."""

from __future__ import annotations

import datetime
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.errors import UserError
from generator.read.yamlio import locate, parse_yaml

SCALARS = st.one_of(
    st.sampled_from(["no", "yes", "on", "off", "y", "n", "NO", "True", "false", "null", "~", "0644", "0o644",
                     "0x1F", "-0o7", "0b2", "1_000", "0o8", "+0b1", "1e3", ".inf", "-.Inf", ".nan", "2021-01-01", "12:30", "1_000", "+12", "=",
                     "<<x", "0b101", "", "a: b", "- x", "#c", "'q'", '"d"', "%", "@", "`"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
)
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8)
DOCS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


def _ruamel(text: str) -> object:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


def _plain_scalar_yaml(value: object, indent: int = 0) -> str:
    """Emit YAML by hand with scalars unquoted where YAML allows, so resolvers really decide."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "\n".join(f"{pad}{k}: {_plain_scalar_yaml(v, indent + 2)}" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "\n".join(f"{pad}- {_plain_scalar_yaml(v, indent + 2).lstrip()}" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    safe = text and text.strip() == text and not any(c in text for c in ":#'\"{}[],&*!|>%@`\n") \
        and not text.startswith(("-", "?", "<<", "="))
    return text if safe else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _normalise(value: object) -> object:
    """ruamel still resolves YAML 1.1 timestamps; we keep them as the strings users wrote."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "<timestamp>"
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value != value:
        return "<nan>"
    return value


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, DOCS, min_size=1, max_size=5))
def test_same_meaning_as_ruamel_yaml_1_2(doc: dict) -> None:
    text = _plain_scalar_yaml(doc).lstrip("\n") + "\n"
    ours = parse_yaml(text, "t.yaml")
    try:
        theirs = _ruamel(text)
    except ValueError:  # ruamel crashes on digit-less numbers such as `-_`; we read them as strings
        return
    expected = _normalise(theirs)
    got = _normalise(ours)
    if expected != got:  # only timestamps may differ, and only where ruamel made a date of them
        assert _normalise(_strip_timestamps(ours, theirs)) == expected


def _strip_timestamps(ours: object, theirs: object) -> object:
    if isinstance(theirs, (datetime.date, datetime.datetime)):
        assert isinstance(ours, str)
        return theirs
    if isinstance(theirs, dict):
        return {k: _strip_timestamps(ours[k], v) for k, v in theirs.items()}  # type: ignore[index]
    if isinstance(theirs, list):
        return [_strip_timestamps(o, t) for o, t in zip(ours, theirs)]  # type: ignore[arg-type]
    return ours


@pytest.mark.parametrize("text, expected", [
    ("a: no", "no"), ("a: on", "on"), ("a: yes", "yes"), ("a: 0644", 644), ("a: 0o644", 420),
    ("a: 2021-01-01", "2021-01-01"), ("a: true", True), ("a: ~", None), ("a: 1.5", 1.5), ("a: 12:30", "12:30"),
    ("a: 1_000", 1000), ("a: 0b101", 5), ("a: 0b_", "0b_"), ("a: +_", "+_"), ("a: 0x_", "0x_"),
    ("a: TRUE", True), ("a: False", False), ("a: NULL", None), ("a: tRue", "tRue"),
])
def test_yaml_1_2_core_schema(text: str, expected: object) -> None:
    assert parse_yaml(text, "t.yaml") == {"a": expected}


def test_duplicate_keys_are_refused_with_their_position() -> None:
    with pytest.raises(UserError) as info:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "t.yaml")
    issue = info.value.issues[0]
    assert (issue.line, issue.column) == (4, 3) and "duplicate key 'c'" in issue.message


def test_merge_keys_still_work() -> None:
    assert parse_yaml("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n", "t.yaml")["item"] == {"x": 1, "y": 2}


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), st.text(alphabet="ab:-[]{},&*!|>'\"#? \n0123456789.", max_size=30)))
def test_any_text_parses_or_gives_a_clean_user_error(text: str) -> None:
    try:
        parse_yaml(text, "t.yaml")
    except UserError as exc:
        assert exc.issues and exc.issues[0].origin.file == "t.yaml"


def test_locate_points_at_keys_and_items() -> None:
    text = "connections:\n  - name: a\n    secret:\n      mountPath: x\n"
    assert locate(text, ("connections", 0, "secret", "mountPath")) == (4, 7)
    assert locate(text, ("connections", 0)) == (2, 5)
    assert locate(text, ("connections", 0, "missing")) == (2, 5)


# Documents whose reading is easy to get subtly wrong: aliases, tags, merge keys, duplicates,
# several documents, surrogate escapes, nesting. The value, or the start of the error message.
EDGE_DOCUMENTS = [
    ("a: &x [1, 2]\nb: *x\n", {"a": [1, 2], "b": [1, 2]}),
    ("a: &x {k: v}\nb: *x\nc: *x\n", {"a": {"k": "v"}, "b": {"k": "v"}, "c": {"k": "v"}}),
    ("&a [*a]\n", "the document refers to itself through a YAML alias"),
    ("a: *nope\n", "invalid YAML: found undefined alias"),
    ("a: 1\na: 2\n", "invalid YAML: duplicate key 'a' (first at line 1)"),
    ("1: a\ntrue: b\n", "invalid YAML: duplicate key True (first at line 1)"),
    ("? [1]\n: x\n", "invalid YAML: a mapping key must be a plain value, not a list or mapping"),
    ("<<: {a: 1}\nb: 2\n", {"a": 1, "b": 2}),
    ("a: !!str 1\n", {"a": "1"}),
    ("a: !!binary aGk=\n", {"a": b"hi"}),
    ("- !!set {a}\n", [{"a"}]),
    ("a: !local x\n", "invalid YAML: could not determine a constructor for the tag '!local'"),
    ("--- 1\n--- 2\n", "invalid YAML: but found another document"),
    ("a: &x 1\nb: &x 2\n", "invalid YAML: second occurrence"),
    ("", None), ("# only a comment\n", None), ("---\n", None),
    ("a: [1, {b: c}, ~, 0o17, 0644, 0x1F, .5, -.inf, 1e3]\n",
     {"a": [1, {"b": "c"}, None, 15, 644, 31, 0.5, float("-inf"), 1000.0]}),
    ('a: "\\ud800"\n', "invalid YAML: found invalid Unicode character escape code"),
    ('"\\udfff": 1\n', "invalid YAML: found invalid Unicode character escape code"),
    ("a: " + "[" * 70 + "]" * 70 + "\n", "the document nests more than 64 levels deep"),
]


@pytest.mark.parametrize("text, expected", EDGE_DOCUMENTS)
def test_edge_documents(text: str, expected: object) -> None:
    if isinstance(expected, str):
        with pytest.raises(UserError) as info:
            parse_yaml(text, "t.yaml")
        assert info.value.issues[0].message.startswith(expected)
    else:
        assert parse_yaml(text, "t.yaml") == expected


@settings(max_examples=300, deadline=None)
@given(DOCS, st.booleans(), st.sampled_from([None, '"', "'"]))
def test_same_meaning_as_ruamel_yaml_1_2_in_every_style(doc: object, flow: bool, style: str | None) -> None:
    """Flow and block collections, plain, single- and double-quoted scalars: what PyYAML's emitter writes."""
    import yaml

    text = yaml.dump(doc, default_flow_style=flow, default_style=style)
    try:
        theirs = _ruamel(text)
    except ValueError:  # as above: digit-less numbers
        return
    ours = parse_yaml(text, "t.yaml")
    if _normalise(ours) != _normalise(theirs):
        assert _normalise(_strip_timestamps(ours, theirs)) == _normalise(theirs)


def _without_the_full_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML's node-graph loader is the slow road; the files read on every build must not take it."""
    import yaml

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parse_yaml handed this document to yaml.load")

    monkeypatch.setattr(yaml, "load", refuse)


def test_catalogs_and_configs_take_the_fast_road(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    texts = {}
    for path in sorted(Path(__file__).parent.parent.glob("fixtures/*/*.yaml")):
        text = path.read_text()
        if not path.name.startswith(("expected", "golden")) and "!!" not in text and "<<:" not in text:
            texts[path] = text  # (multi-document outputs, tags and merge keys aside)
    expected = {path: parse_yaml(text, str(path)) for path, text in texts.items()}
    _without_the_full_loader(monkeypatch)
    for path, text in texts.items():
        assert parse_yaml(text, str(path)) == expected[path], path


def test_anchors_and_aliases_take_the_fast_road_and_stay_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_the_full_loader(monkeypatch)
    data = parse_yaml("base: &b {user: u, port: 5000}\none: *b\ntwo: *b\nlist: [*b, &n 7, *n]\n", "t.yaml")
    assert data["one"] is data["base"] is data["two"] is data["list"][0]
    assert data["list"][1:] == [7, 7] and data["base"] == {"user": "u", "port": 5000}
    with pytest.raises(UserError, match="refers to itself"):  # an aliased document is still walked by the shape check
        parse_yaml("&a [*a]\n", "t.yaml")
