"""The input limits (generator/limits.py) hold where documents are read and where they are checked."""

from __future__ import annotations

import pytest

from generator.errors import UserError
from generator.limits import MAX_VALUES
from generator.read.spec import AnyValue, Ctx
from generator.read.yamlio import parse_yaml


def _expanding_to(values: int) -> str:
    """A document of two keys whose aliases expand to about `values` scalars (1,000 per alias)."""
    row = "[" + ", ".join(["x"] * 1000) + "]"
    return f"row: &row {row}\nrows: [{', '.join(['*row'] * (values // 1000))}]\n"


def test_a_document_past_the_value_limit_is_refused_when_read() -> None:
    """One limit: the reader refuses what the schema check would (before, 1M–2M values passed the reader)."""
    with pytest.raises(UserError, match=f"expands to more than {MAX_VALUES} values"):
        parse_yaml(_expanding_to(MAX_VALUES + 1000), "big.yaml")


def test_what_the_reader_accepts_the_schema_check_walks_within_its_budget() -> None:
    """Just under the limit the document is read, and walking all of it stays inside the schema check's budget."""
    data = parse_yaml(_expanding_to(MAX_VALUES - 10_000), "big.yaml")
    AnyValue().check(data, Ctx("big.yaml"), ())  # raises spec.Budget past its limit
