"""Reusing a template's parsed shape gives exactly what parsing each rendered text gives.

Each case renders one template twice: through the shape road built-in templates take, and
through the full YAML parse every render used to take (the road user templates still take).
Both must agree on every value, including hostile ones, and on every error.
"""

from __future__ import annotations

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import UserError
from generator.render import Renderer
from generator.shapes import MAX_SHAPES

TEMPLATES = {
    "plain.j2": "a: {{ v | json }}\nb:\n  - {{ w | json }}\n  - x\n",
    "flow.j2": "a: [{{ v | json }}, {{ w | json }}]\nb: {k: {{ v | json }}}\n",
    "branch.j2": "{% if v is string and v.startswith('x') %}x: 1\n{% endif %}a: {{ v | json }}\n"
                 "{% for i in w if w is iterable and w is not string %}n{{ loop.index | json }}: {{ i | json }}\n{% endfor %}",
    "tagged.j2": "a: !!str {{ v | json }}\n",
    "anchored.j2": "a: &x {{ v | json }}\nb: *x\n",
    "comment.j2": "# {{ v | json }}\na: {{ w | json }}\n",
    "quoted.j2": "a: \"x{{ v | json }}\"\n",
    "key.j2": "{{ v | json }}: 1\n",
    "two.j2": "a: {{ v | json }} {{ w | json }}\n",
    "block.j2": "a: |\n  {{ v | json }}\n",
    "next_line.j2": "a:\n  {{ v | json }}\nb:\n- {{ w | json }}\n",
}

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(), st.sampled_from(["x", "yes", "no", "---", "a: b", "{{ x }}", "\U0001F600", "\ud800"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def renderers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Renderer, Renderer]:
    folder = tmp_path_factory.mktemp("templates")
    for name, text in TEMPLATES.items():
        (folder / name).write_text(text)
    full = Renderer(str(folder))  # an override directory: every render is parsed in full
    shaped = Renderer()
    shaped.env.loader = jinja2.FileSystemLoader(str(folder))  # the built-in road, on these templates
    return shaped, full


def _outcome(renderer: Renderer, name: str, context: dict) -> str:
    try:
        return "ok " + repr(renderer._render(name, context))
    except UserError as exc:
        return "error " + "; ".join(issue.message for issue in exc.issues)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(TEMPLATES)), v=JSON, w=JSON)
def test_shape_road_equals_full_parse(renderers: tuple[Renderer, Renderer], name: str, v: object, w: object) -> None:
    shaped, full = renderers
    assert _outcome(shaped, name, {"v": v, "w": w}) == _outcome(full, name, {"v": v, "w": w})


def test_shapes_are_reused_and_bounded(renderers: tuple[Renderer, Renderer]) -> None:
    shaped, _ = renderers
    shaped._shapes.clear()
    for i in range(3):
        assert shaped._render("plain.j2", {"v": f"value-{i}", "w": i}) == {"a": f"value-{i}", "b": [i, "x"]}
    assert len(shaped._shapes) == 1  # three objects, one parse of their shape
    for i in range(MAX_SHAPES + 10):
        shaped._render("branch.j2", {"v": "y", "w": list(range(i))})
    assert len(shaped._shapes) == MAX_SHAPES


def test_refused_shapes_still_render(renderers: tuple[Renderer, Renderer]) -> None:
    """A token a tag, an anchor or a key would reinterpret is never filled in: the full parse decides."""
    shaped, _ = renderers
    shaped._shapes.clear()
    assert shaped._render("tagged.j2", {"v": 5, "w": 0}) == {"a": "5"}
    assert shaped._render("anchored.j2", {"v": {"k": 1}, "w": 0}) == {"a": {"k": 1}, "b": {"k": 1}}
    assert shaped._render("key.j2", {"v": "k", "w": 0}) == {"k": 1}
    assert list(shaped._shapes.values()) == [None, None, None]


def test_user_templates_may_look_at_json_output(tmp_path) -> None:
    """On the shape road `json` returns a token, so a template comparing it would go wrong: user
    templates (an override directory) always take the full parse."""
    (tmp_path / "compared.j2").write_text("a: {{ 'yes' | json if (v | json) == '\"x\"' else 'no' | json }}\n")
    assert Renderer(str(tmp_path))._render("compared.j2", {"v": "x"}) == {"a": "yes"}


def test_built_in_templates_only_print_json() -> None:
    """What keeps built-in templates on the shape road correct: `json` only ends a `{{ }}`."""
    from generator.render import builtin_templates_dir

    for path in builtin_templates_dir().glob("*.j2"):
        text = path.read_text()
        for tag in ("{%", "{{"):
            for piece in text.split(tag)[1:]:
                statement = piece.split("%}" if tag == "{%" else "}}")[0]
                if "json" in statement:
                    assert tag == "{{" and statement.rstrip().endswith("| json"), f"{path.name}: {statement!r}"
