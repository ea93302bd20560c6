"""The model and plan records (msgspec Structs): value semantics, immutability, and no credential in a repr."""

from __future__ import annotations

import pytest

from generator.errors import Issue, Origin
from generator.model.records import Credential, KeyToPath, ValueSource
from generator.plan.planner import RegistryCA

CANARY = "canary-pa55w0rd-7c1e"


def test_a_literal_credential_never_appears_in_a_repr_even_nested() -> None:
    source = ValueSource(literal=CANARY, origin=Origin("generator.yaml", ("credentials", 0)))
    credential = Credential("regcred", None, ValueSource(env="REG_USER"), source, None, Origin("generator.yaml"))
    for text in (repr(source), str(source), repr(credential), repr([credential])):
        assert CANARY not in text
    # pretty printers (rich) ask `__rich_repr__`, which msgspec gives every Struct with all its fields
    assert CANARY not in repr(list(source.__rich_repr__()))
    # every other field is still shown, so the repr stays useful
    assert repr(ValueSource(env="REG_PASS", file="creds/p")) == \
        "ValueSource(env='REG_PASS', file='creds/p', origin=None, sops=None, key=None, format=None)"


def test_a_literal_still_takes_part_in_equality() -> None:
    assert ValueSource(literal="a") != ValueSource(literal="b")
    assert ValueSource(literal="a") == ValueSource(literal="a")


def test_an_issue_is_the_same_issue_wherever_it_was_located() -> None:
    where = Origin("catalog.yaml", ("connections", 2, "schema", "url"))
    located = Issue(where, "bad url", "write host[:port]/path", line=4, column=9)
    unlocated = Issue(where, "bad url", "write host[:port]/path")
    assert located == unlocated and hash(located) == hash(unlocated)
    assert len({located, unlocated}) == 1
    assert located != Issue(where, "bad url", "another hint")
    assert located != Issue(where, "bad url", "write host[:port]/path", severity="warning")
    assert located != Issue(where.at("x"), "bad url", "write host[:port]/path")


def test_records_compare_and_hash_by_value_and_cannot_change() -> None:
    assert KeyToPath("k", "config.json") == KeyToPath("k", "config.json")
    assert KeyToPath("k", "config.json") != KeyToPath("k", "config.json", 0o400)
    assert len({RegistryCA("h", "/d", "ca.crt"), RegistryCA("h", "/d", "ca.crt")}) == 1
    item = KeyToPath("k", "config.json")
    with pytest.raises(AttributeError):
        item.path = ".dockerconfigjson"  # type: ignore[misc]
