"""The fast reader gives user files the same meaning ruamel.yaml (YAML 1.2) gives them."""

from __future__ import annotations

import datetime
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.errors import UserError
from generator.yamlio import locate, parse_yaml

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


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
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


def _full_loader(text: str) -> str:
    import yaml

    from generator.yamlio import _Yaml12Loader

    try:
        return repr(yaml.load(text, Loader=_Yaml12Loader))  # noqa: S506 - a SafeLoader subclass
    except Exception as exc:  # noqa: BLE001 - compared by type only
        return f"error {type(exc).__name__}"


EVENT_TEXTS = st.one_of(
    st.builds(lambda doc: _plain_scalar_yaml(doc).lstrip("\n") + "\n", st.dictionaries(KEYS, DOCS, min_size=1, max_size=4)),
    st.builds(lambda doc, flow, style: __import__("yaml").dump(doc, default_flow_style=flow, default_style=style),
              DOCS, st.booleans(), st.sampled_from([None, '"', "'"])),
    st.sampled_from(["a: &x [1, 2]\nb: *x\n", "a: &x {k: v}\nb: *x\nc: *x\n", "&a [*a]\n", "a: *nope\n",
                     "a: 1\na: 2\n", "? [1]\n: x\n", "<<: {a: 1}\nb: 2\n", "a: !!str 1\n", "a: !!binary aGk=\n",
                     "--- 1\n--- 2\n", "a: &x 1\nb: &x 2\n", "1: a\ntrue: b\n", "- !!set {a}\n", "a: !local x\n",
                     "", "# only a comment\n", "---\n", "a: [1, {b: c}, ~, 0o17, 0644, 0x1F, .5, -.inf, 1e3]\n",
                     'a: "\\ud800"\n', '"\\udfff": 1\n', 'a: "\\ud83d\\ude00"\n', "a: " + "[" * 70 + "]" * 70 + "\n"]),
    st.text(alphabet="ab:-[]{},&*!|>'\"#? \n0123456789.", max_size=30),
)


@settings(max_examples=400, deadline=None)
@given(EVENT_TEXTS)
def test_event_reader_agrees_with_the_full_loader(text: str) -> None:
    """Whatever the event reader builds, the full loader builds too; it hands everything else over."""
    from generator.yamlio import _read_events, check_shape

    try:
        data, plain_tree = _read_events(text)
    except Exception:  # noqa: BLE001 - handed to the full loader, which decides
        return
    assert repr(data) == _full_loader(text)
    if plain_tree:  # skipping check_shape is only right where it would pass
        check_shape(data, "t.yaml")


def test_event_reader_takes_catalogs_and_configs() -> None:
    """The files conngen reads every build must not fall back to the slow loader."""
    from pathlib import Path

    from generator.yamlio import _read_events

    for path in sorted(Path(__file__).parent.parent.glob("fixtures/*/*.yaml")):
        if path.name.startswith(("expected", "golden")):  # multi-document outputs, not inputs
            continue
        text = path.read_text()
        if "!!" in text or "<<:" in text:
            continue
        assert repr(_read_events(text)[0]) == _full_loader(text), path


def test_event_reader_reads_anchors_and_aliases_itself() -> None:
    """Aliases are shared values, not a reason to hand the file to the slow loader."""
    from generator.yamlio import _read_events

    data, plain_tree = _read_events("base: &b {user: u, port: 5000}\none: *b\ntwo: *b\nlist: [*b, &n 7, *n]\n")
    assert data["one"] is data["base"] is data["two"] is data["list"][0]
    assert data["list"][1:] == [7, 7] and data["base"] == {"user": "u", "port": 5000}
    assert not plain_tree  # an aliased document is walked by check_shape
