"""docs/templates.md is the contract between plan records and templates: these tests keep it true.

The rows of its variable tables must be exactly the fields (and properties) of the plan records,
with the types the code declares; every template must read only documented variables, print
every value through a quoting filter, and use only documented filters. All of it is derived
from the templates' own syntax trees and the records' declarations, not from the render code.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import jinja2
import pytest
from jinja2 import meta, nodes
from msgspec import Struct

from conftest import REPO
from generator.plan import contexts
from generator.model import records as model
from generator.plan import planner as plan
from generator.render.sources import variables

DOC = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
TEMPLATES = sorted((REPO / "templates").glob("*.j2"))
PLAN_MODULES = (plan, contexts)  # records defined here are expanded field by field where they appear
RECORD_MODULES = (plan, contexts, model)


def _section(title: str) -> str:
    found = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert found, f"docs/templates.md has no '## {title}' section"
    return found.group(1)


def _rows(text: str) -> list[list[str]]:
    """The table rows of `text` whose first cell is code, cells unescaped and without backticks."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append([c[1:-1] if c.startswith("`") and c.endswith("`") else c for c in cells])
    return rows


def _doc_variables() -> dict[str, str]:
    rows = _rows(_section("Variables"))
    found: dict[str, str] = {}
    for row in rows:
        assert row[0] not in found, f"docs/templates.md lists {row[0]} twice"
        found[row[0]] = row[1]
    return found


def _doc_templates() -> dict[str, set[str]]:
    rows = _rows(_section("Which template renders what"))
    return {row[0]: {v.strip(" `") for v in row[1].split(",")} for row in rows}


def _quoting_filters() -> set[str]:
    found = re.search(r"The quoting filters are (.*?)\.", DOC, re.S)
    assert found, "docs/templates.md must name the quoting filters ('The quoting filters are `...` and `...`.')"
    return set(re.findall(r"`(\w+)`", found.group(1)))


def _record(name: str) -> type | None:
    for module in RECORD_MODULES:
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, Struct):
            return found
    return None


def _plan_record_names() -> set[str]:
    return {name for module in PLAN_MODULES for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, Struct) and value.__module__ == module.__name__}


def _readable(record: type) -> dict[str, str]:
    """What a template can read of a record: its public fields and properties, with their declared types."""
    annotations = {k: v for klass in reversed(record.__mro__) for k, v in vars(klass).get("__annotations__", {}).items()}
    out = {name: str(annotations[name]) for name in record.__struct_fields__ if not name.startswith("_")}
    for name, value in vars(record).items():
        if isinstance(value, property) and not name.startswith("_"):
            out[name] = str(inspect.get_annotations(value.fget)["return"])
    return out


def _expected_rows(path: str, record: type, plan_records: set[str]) -> dict[str, str]:
    rows = {}
    for name, kind in _readable(record).items():
        rows[f"{path}.{name}"] = kind
        nested = [n for n in re.findall(r"\w+", kind) if n in plan_records]
        if nested:
            nested_record = _record(nested[0])
            assert nested_record is not None
            rows.update(_expected_rows(f"{path}.{name}", nested_record, plan_records))
    return rows


def _reads(template: nodes.Template, names: set[str]) -> set[str]:
    """Every dotted path rooted at a context variable that the template reads (`job.git_clone.url`)."""
    paths = set()
    for node in template.find_all((nodes.Getattr, nodes.Getitem)):
        parts: list[str] = []
        while True:
            if isinstance(node, nodes.Getattr):
                parts.insert(0, node.attr)
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                parts.insert(0, node.arg.value)
            elif isinstance(node, nodes.Getitem):
                parts = []  # an index: what follows is an item, the path stops before it
            else:
                break
            node = node.node
        if isinstance(node, nodes.Name) and node.name in names and parts:
            paths.add(".".join([node.name, *parts]))
    return paths


def _parsed(path: Path) -> nodes.Template:
    env = jinja2.Environment()
    env.filters.update(dict.fromkeys(_quoting_filters(), str))  # only parsed and analysed, never run
    return env.parse(path.read_text(encoding="utf-8"))


def test_every_template_file_is_in_the_table() -> None:
    assert set(_doc_templates()) == {p.name for p in TEMPLATES}


def test_each_template_gets_the_variables_the_table_lists() -> None:
    """render.variables is what the pipeline hands each template (and what its shipped loop unpacks)."""
    documented = {name: names for name, names in _doc_templates().items() if not name.startswith("_")}
    assert documented == {name: set(variables(name)) for name in documented}


def test_the_variable_rows_are_exactly_the_record_fields_with_their_types() -> None:
    documented = _doc_variables()
    plan_records = _plan_record_names()
    expected: dict[str, str] = {}
    for name, kind in documented.items():
        if "." in name:
            continue
        expected[name] = kind
        record = _record(kind)
        if record is not None:  # a top-level record is documented field by field, wherever it is defined
            expected.update(_expected_rows(name, record, plan_records))
    missing = sorted(set(expected) - set(documented))
    stale = sorted(set(documented) - set(expected))
    assert not missing, f"fields with no row in docs/templates.md: {missing}"
    assert not stale, f"rows in docs/templates.md for fields that do not exist: {stale}"
    wrong = {n: (documented[n], expected[n]) for n in expected if documented[n] != expected[n]}
    assert not wrong, f"types in docs/templates.md (doc, code): {wrong}"


def test_the_records_named_are_what_plans_hold() -> None:
    """A variable's record type must be one a Plan carries, so a renamed record cannot leave the doc behind."""
    reachable, todo = set(), [plan.Plan]
    while todo:
        record = todo.pop()
        for kind in _readable(record).values():
            for name in re.findall(r"\w+", kind):
                found = _record(name)
                if found is not None and name not in reachable:
                    reachable.add(name)
                    todo.append(found)
    named = {kind for name, kind in _doc_variables().items() if "." not in name and re.fullmatch(r"[A-Z]\w*", kind)}
    assert named and named <= reachable, named - reachable


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_a_template_reads_only_documented_variables(path: Path) -> None:
    tree = _parsed(path)
    names = meta.find_undeclared_variables(tree)
    assert names == _doc_templates()[path.name], "the variables column of docs/templates.md"
    undocumented = sorted(_reads(tree, names) - set(_doc_variables()))
    assert not undocumented, f"{path.name} reads {undocumented}, which docs/templates.md does not list"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_printed_value_ends_in_a_quoting_filter(path: Path) -> None:
    quoting = _quoting_filters()
    for output in _parsed(path).find_all(nodes.Output):
        for expression in output.nodes:
            if isinstance(expression, nodes.TemplateData):
                continue
            assert isinstance(expression, nodes.Filter) and expression.name in quoting, \
                f"{path.name}:{expression.lineno}: a printed value must end in one of {sorted(quoting)}"


def test_templates_use_only_documented_filters() -> None:
    documented = {row[0] for row in _rows(_section("Filters"))}
    quoting = _quoting_filters()
    assert quoting and quoting <= documented
    assert documented - quoting <= set(jinja2.filters.FILTERS), "other filters must be Jinja's own"
    used = {f.name for path in TEMPLATES for f in _parsed(path).find_all(nodes.Filter)}
    assert used <= documented, f"filters used but not in docs/templates.md: {sorted(used - documented)}"


def test_the_reads_walker_sees_nested_fields() -> None:
    """The check above is only as good as `_reads`: it must see chains, items and loops' sources."""
    tree = jinja2.Environment().parse(
        '{{ job.git_clone.url | json }}{{ job.destinations[0] | json }}{% for e in job.env %}{{ e.name | json }}'
        '{% endfor %}{{ secret["name"] | json }}{{ job.missing_field | json }}')
    assert _reads(tree, {"job", "secret"}) == {"job.git_clone", "job.git_clone.url", "job.destinations", "job.env",
                                               "secret.name", "job.missing_field"}


def test_the_quoting_filters_are_the_same_for_built_in_and_user_templates(tmp_path: Path) -> None:
    """The doc promises one set of filters: a templates directory must not switch any of them. Built-in
    templates run on conngen's runtime (render/builtin.py), yours on Jinja: both print with emit.node."""
    from generator.render.builtin import Builtin
    from generator.render.renderer import Renderer

    built_in, user = Renderer().env.filters, Renderer(str(tmp_path)).env.filters
    for name in _quoting_filters():
        assert getattr(built_in[name], "__func__", built_in[name]) is getattr(user[name], "__func__", user[name]), name
    runtime_yaml = Builtin()._env.filters["yaml"]
    for value in ("x", "0o17", "a b", "multi\nline", {"k": ["v", 1.5, None]}, [], True):
        assert runtime_yaml(value, 2, 3) == user["yaml"](value, 2, 3) and runtime_yaml(value, 4) == user["yaml"](value, 4)
    assert "Both filters are the same in the built-in templates and in yours" in DOC
