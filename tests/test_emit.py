"""A value placed by the `yaml` filter is byte for byte what PyYAML writes at that place, and reads back
as itself under YAML 1.1 (PyYAML, kubectl) and YAML 1.2 (kustomize, conngen's reader of user files)."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.read.yamlio import parse_yaml
from generator.render.emit import node, yaml_stream

TRICKY = ["yes", "no", "On", "1:20", "0x1f", "1_0", ".inf", "~", "null", "=", "<<", "2001-12-14", "---a", "...",
          "...a", "-", "-a", "- a", "a:", "a:b", ":a", "?a", "a?", "a,b", "a #b", "a#b", "@x", "!x", "&a", "*a",
          "|", ">", "%", "'q'", "a'b", "1'2", "x\n\n", "...\n", "multi\nline", " lead", "trail ", "é", "k" * 130,
          "w " * 2100, "0o17", "-0o7", "08", "0128", "1e5", "+1e5", "1.0e5", ".1e+5", "0x_1", "_1", "0b1", "+_",
          "1_000", "+.inf", "0o", "1e5x", "1.2.3"]
TEXT = st.one_of(st.sampled_from(TRICKY), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                                                   max_size=12), st.text(max_size=6))
SCALAR = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False))
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
                     max_leaves=25)


def _pyyaml(doc: dict) -> str:
    """The document as conngen's stream writes it (PyYAML's emitter), without its `---` line."""
    return yaml_stream([doc]).removeprefix("---\n")


def _placed_by_hand(value: object, depth: int, item: bool, last: bool) -> str:
    """A document holding `value` under `key:` (or as its list's item) at column 2 * depth, by `node`."""
    pad = " " * 2 * depth
    text, open_ended = node(value, 2 * depth, None if item else 3)
    out = "".join(" " * 2 * i + "k:\n" for i in range(depth)) + f"{pad}before: x\n"
    out += f"{pad}key:" + (f"\n{pad}-" if item else "") + text + "\n" + ("" if last else f"{pad}after: 1\n")
    return out + ("...\n" if open_ended else "")  # PyYAML ends a document holding a `|+` block so


def _document(value: object, depth: int, item: bool, last: bool) -> dict:
    inner: dict = {"before": "x", "key": [value] if item else value}
    if not last:
        inner["after"] = 1
    for _ in range(depth):
        inner = {"k": inner}
    return inner


@settings(max_examples=500, deadline=None)
@given(value=VALUE, depth=st.integers(0, 5), item=st.booleans(), last=st.booleans())
def test_same_bytes_as_pyyaml(value: object, depth: int, item: bool, last: bool) -> None:
    assert _placed_by_hand(value, depth, item, last) == _pyyaml(_document(value, depth, item, last))


@settings(max_examples=500, deadline=None)
@given(value=VALUE, depth=st.integers(0, 5), item=st.booleans(), last=st.booleans())
def test_read_back_as_itself_by_yaml_1_1_and_1_2(value: object, depth: int, item: bool, last: bool) -> None:
    text = _placed_by_hand(value, depth, item, last)
    document = _document(value, depth, item, last)
    assert yaml.load(text, Loader=yaml.CSafeLoader) == document  # noqa: S506 - a SafeLoader
    assert parse_yaml(text, "printed", check=False) == document


@settings(max_examples=300, deadline=None)
@given(values=st.lists(VALUE, min_size=1, max_size=4), places=st.lists(st.tuples(st.integers(0, 5), st.booleans()),
                                                                        min_size=2, max_size=3))
def test_a_memo_prints_what_is_written_afresh(values: list, places: list[tuple[int, bool]]) -> None:
    """The built-in road keeps a mapping's or list's text by value: met again (also as an equal value,
    at another column, as an item or after a key) it prints what writing it afresh prints."""
    memo: dict = {}
    for depth, item in places:
        for value in values + [json.loads(json.dumps(v)) for v in values]:
            assert node(value, 2 * depth, None if item else 3, memo) == node(value, 2 * depth, None if item else 3)
    assert node({"a": True}, 0, 1, memo) == ("\n  a: true", False)
    assert node({"a": 1}, 0, 1, memo) == ("\n  a: 1", False)  # equal in Python, not in YAML


def test_strings_yaml_1_2_reads_as_numbers_are_quoted() -> None:
    """PyYAML prints these plain, as YAML 1.1 has no such numbers; kustomize would read numbers."""
    for text in ("0o17", "08", "1e5", "-1.5e3"):
        assert node(text, 2, 3) == (f" '{text}'", False)
        assert node({text: [text]}, 0, 1) == (f"\n  '{text}':\n  - '{text}'", False)
        assert _pyyaml({"k": text, "w": f"{text} x"}) == f"k: '{text}'\nw: {text} x\n"  # PyYAML's own writing too
    assert node("1.2.3", 2, 3) == (" 1.2.3", False)


def test_tuples_are_lists() -> None:
    """Plan records hold tuples (env, mounts, volumes); their JSON, and their YAML, is a list."""
    entries = ({"name": "A", "value": "1"}, {"name": "B", "value": "two words"})
    for column in (0, 4):
        for item in (False, True):
            assert node(entries, column, None if item else 3) == node(list(entries), column, None if item else 3)
    assert node((), 2, 3) == (" []", False)


def test_a_kept_final_line_break_is_flagged() -> None:
    """PyYAML ends a stream with `...` if its last document holds a literal block that keeps its final line breaks."""
    assert node("x\n\n", 2, 3) == (" |+\n    x\n", True)
    assert node("x\n", 2, 3) == (" |\n    x", False)


@pytest.mark.parametrize("item", [False, True])
def test_typical_values_take_the_direct_writer(monkeypatch: pytest.MonkeyPatch, item: bool) -> None:
    """The common case must not silently fall back to PyYAML, or the speed-up is gone."""
    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError(f"PyYAML asked to write {args[0]!r}")

    monkeypatch.setattr(yaml, "dump", refuse)
    for value in ("gcr.io/kaniko-project/executor:v1.23.2", "--context=git://github.com/acme/app.git#refs/heads/main",
                  "true", 0, 86400, {"app.kubernetes.io/name": "kaniko", "kustomize.config.k8s.io/needs-hash": "true"},
                  ({"name": "reg", "mountPath": "/kaniko/.docker", "readOnly": True},),
                  ({"name": "reg", "secret": {"secretName": "reg", "items": [{"key": ".dockerconfigjson",
                                                                             "path": "config.json"}]}},
                   {"name": "workspace", "emptyDir": {}})):
        node(value, 8, None if item else 4)

