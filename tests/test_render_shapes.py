"""Built-in templates print the stream itself: what they render is PyYAML's text of what it parses to.

The straight road (one template call per run of objects, nothing parsed back) is only right if
every `| yaml` stands where the filter is told it stands, and the template's own text is in
PyYAML's layout. These tests check both, for hostile values and for every golden case.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import golden_cases, load_stream
from generator.commands.options import load_config_file
from generator.render.emit import yaml_stream
from generator.errors import UserError
from generator.pipeline import generate
from generator.render.builtin import Builtin
from generator.render.renderer import Renderer
from generator.render.sources import builtin_templates_dir

TEMPLATES = {
    "mapping.j2": "a: {{ v | yaml }}\nlong-key-name: {{ w | yaml }}\nafter: 1\n",
    "items.j2": "a:\n- {{ v | yaml }}\n- x\n- {{ w | yaml }}\n",
    "nested.j2": "a:\n  b:\n  - name: {{ v | yaml }}\n    value: {{ w | yaml }}\n  - {{ w | yaml }}\n",
    "last.j2": "a: 1\nb: {{ v | yaml }}\n",
}

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(), st.sampled_from(["x", "yes", "no", "---", "a: b", "{{ x }}", "\U0001F600", "x\n\n", "- a",
                                          "multi\nline", "w " * 2100])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    for name, text in TEMPLATES.items():
        (folder / name).write_text(text)
    return folder


def _stream(folder: Path, name: str, contexts: list[tuple]) -> str:
    """The straight road over the templates in `folder`, taken for built-in ones (their loops compiled here)."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("generator.render.sources.builtin_templates_dir", lambda: folder)
        Builtin().stream([(name, ("v", "w"), contexts)], out)
    return out.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(TEMPLATES)), v=JSON, w=JSON)
def test_printed_text_is_pyyaml_text_of_its_parse(folder: Path, name: str, v: object, w: object) -> None:
    text = _stream(folder, name, [(v, w), (w, v)])
    assert text == yaml_stream(load_stream(text))


def test_values_read_back_as_themselves(folder: Path) -> None:
    values = ({"k": ("a b", 1.5, None)}, "x\n\n")
    (doc,) = load_stream(_stream(folder, "nested.j2", [values]))
    assert doc == {"a": {"b": [{"name": {"k": ["a b", 1.5, None]}, "value": "x\n\n"}, "x\n\n"]}}


def test_a_stream_ending_in_a_kept_line_break_ends_with_the_marker(folder: Path) -> None:
    assert _stream(folder, "last.j2", [("x\n\n", 0), ("y", 0)]).endswith("b: y\n")
    assert _stream(folder, "last.j2", [("y", 0), ("x\n\n", 0)]).endswith("b: |+\n  x\n\n...\n")


def test_yaml_elsewhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inline.j2").write_text("a: [{{ v | yaml }}]\n")
    with pytest.raises(UserError, match="stands alone") as raised:
        _stream(tmp_path, "inline.j2", [(1, 2)])
    assert raised.value.issues[0].line == 1  # Jinja says where, as for any template


def test_one_filter_for_built_in_and_user_templates(tmp_path: Path) -> None:
    """A user template prints what the built-in one does, read back the same: `1e5` and `0o17`, which
    PyYAML would print plain and YAML 1.2 read as numbers, are quoted by the one `yaml` filter."""
    from generator.plan.planner import SecretPlan

    plan = SecretPlan("1e5", None, {"x": "0o17"}, {}, None, ())  # type: ignore[arg-type]
    context = {"secret": plan, "dockerconfigjson_b64": "e30="}
    out = io.StringIO()
    Builtin().stream([("secret.yaml.j2", ("secret", "dockerconfigjson_b64"), [(plan, "e30=")])], out)
    assert "  name: '1e5'\n" in out.getvalue() and "    x: '0o17'\n" in out.getvalue()
    built_in = Builtin().object("secret.yaml.j2", context, "v1", "Secret", "1e5")
    assert built_in["metadata"]["labels"] == {"x": "0o17"}
    (tmp_path / "secret.yaml.j2").write_text((builtin_templates_dir() / "secret.yaml.j2").read_text())
    user = Renderer(str(tmp_path))
    assert user.env.filters["yaml"].__func__ is Renderer._yaml
    assert user.object("secret.yaml.j2", context, "v1", "Secret", "1e5") == built_in


def test_user_templates_place_yaml_too(tmp_path: Path) -> None:
    (tmp_path / "inline.j2").write_text("apiVersion: v1\nkind: X\nmetadata: {name: {{ v | yaml }}}\n")
    with pytest.raises(UserError, match="stands alone"):
        Renderer(str(tmp_path)).object("inline.j2", {"v": "x"}, "v1", "X", "x")


def test_every_object_of_a_user_template_is_checked(tmp_path: Path) -> None:
    """Not only the first: a user template that moves the mount for one build of three is refused."""
    templates = tmp_path / "templates"
    templates.mkdir()
    kaniko = (builtin_templates_dir() / "kaniko.yaml.j2").read_text()
    (templates / "kaniko.yaml.j2").write_text(kaniko.replace(
        "{% if job.volume_mounts %}", '{% if job.volume_mounts and job.build != "trainer-wasb" %}'))
    case = next(c for c in golden_cases() if c.name == "context-bucket")
    config, warnings = load_config_file(str(case / "generator.yaml"), None, "LoadRestrictionsNone", str(templates))
    with pytest.raises(UserError, match=r"Job trainer-wasb-[0-9a-f]{10}: kaniko reads") as caught:
        generate(config, dict(os.environ), warnings, out=io.StringIO())
    assert len(caught.value.issues) == 1


def test_user_templates_may_look_at_json_output(tmp_path: Path) -> None:
    (tmp_path / "compared.j2").write_text(
        "apiVersion: v1\nkind: X\nmetadata: {name: x}\n"
        "a: {{ 'yes' | json if (v | json) == '\"x\"' else 'no' | json }}\n")
    assert Renderer(str(tmp_path)).object("compared.j2", {"v": "x"}, "v1", "X", "x")["a"] == "yes"


def test_built_in_templates_place_every_value() -> None:
    """Every `{{ }}` of a built-in template is `| yaml` alone after `key: ` or `- ` on its line: placed, it is told where."""
    env = Renderer().env
    for path in builtin_templates_dir().glob("*.j2"):
        for line in env.preprocess(path.read_text(), path.name).splitlines():
            if "{{" in line:
                assert re.fullmatch(r" *(- )*(-|[^{]*:)\{\{[^{}]*\| yaml\(\d+(, \d+)?\) \}\}", line), f"{path.name}: {line}"


@pytest.mark.parametrize("loop", ["shipped", "compiled here"])
@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_straight_road_equals_parsed_objects_written_by_pyyaml(case: Path, loop: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The straight road (each template inlined into one loop over its objects, run on conngen's runtime from
    its shipped code or, when that code is stale, from code Jinja generates here) prints what PyYAML writes
    of the objects read back, and of the objects Jinja itself renders from the same templates."""
    if loop == "compiled here":
        monkeypatch.setattr("generator.speed.precompiled.load", lambda *args, **kwargs: None)
    config, warnings = load_config_file(str(case / "generator.yaml"), None, None)
    environ = {**os.environ, "CONNGEN_CACHE": "off"}
    out = io.StringIO()
    generate(config, environ, warnings, out=out)
    assert out.getvalue() == yaml_stream(generate(config, environ, warnings).objects)
    through_jinja = io.StringIO()  # an empty templates directory: every built-in template rendered by Jinja
    config, warnings = load_config_file(str(case / "generator.yaml"), None, None, str(tmp_path))
    generate(config, environ, warnings, out=through_jinja)
    assert out.getvalue() == through_jinja.getvalue()


def test_the_first_job_of_each_template_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A built-in template that mounts the registry Secret elsewhere is caught on the straight road too."""
    broken = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), broken)
    kaniko = broken / "kaniko.yaml.j2"
    kaniko.write_text(re.sub(r"\{% if job.volume_mounts %\}\n.*\n\{% endif %\}\n", "", kaniko.read_text()))
    monkeypatch.setattr("generator.render.sources.builtin_templates_dir", lambda: broken)
    case = next(c for c in golden_cases() if c.name == "seed")
    config, warnings = load_config_file(str(case / "generator.yaml"), None, None)
    with pytest.raises(UserError, match="kaniko reads /kaniko/.docker/config.json, where no Secret is mounted"):
        generate(config, dict(os.environ), warnings, out=io.StringIO())
