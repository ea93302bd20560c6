"""Compiled templates are kept between runs, in the private cache directory, and never trusted blindly;
built-in templates' loops come compiled with conngen (speed/precompiled.py), are used only while current,
and run on conngen's runtime: a build with built-in templates never imports Jinja."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from conftest import FIXTURES
from generator.commands.options import load_config_file
from generator.errors import UserError
from generator.pipeline import generate
from generator.render.builtin import Builtin
from generator.render.renderer import Renderer
from generator.render.sources import variables

SEED = str(FIXTURES / "seed" / "generator.yaml")


def _render(environ: dict, templates: str | None = None) -> list[dict]:
    config, warnings = load_config_file(SEED, None, None, templates)
    return generate(config, {**os.environ, "H_USER": "u", "H_PASS": "p", **environ}, warnings).objects


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("conngen/templates-*/*.code"))


def _sandboxed(tmp_path: Path) -> str:
    """An empty override directory: every template is the built-in one, compiled afresh in the sandbox
    (without one, built-in templates come compiled with conngen and the cache is not needed)."""
    overrides = tmp_path / "overrides"
    overrides.mkdir(exist_ok=True)
    return str(overrides)


def test_a_second_run_loads_compiled_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path))
    stored = _entries(tmp_path)
    assert stored, "the first run stores its compiled templates"
    folder = stored[0].parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(folder.parent.stat().st_mode) == 0o700

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although stored")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    assert _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path)) == first


def test_corrupt_entries_are_compiled_afresh(tmp_path: Path) -> None:
    first = _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path))
    assert _entries(tmp_path)
    for entry in _entries(tmp_path):
        entry.write_bytes(b"not marshal data")
    assert _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path)) == first
    assert all(entry.read_bytes() != b"not marshal data" for entry in _entries(tmp_path))


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    secret = (Path(__file__).parent.parent / "templates" / "secret.yaml.j2").read_text()
    kind = "type: kubernetes.io/dockerconfigjson"
    (overrides / "secret.yaml.j2").write_text(secret.replace(kind, "immutable: false\n" + kind))
    environ = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first = [o for o in _render(environ, str(overrides)) if o["kind"] == "Secret"]
    assert first and all(o["immutable"] is False for o in first)
    (overrides / "secret.yaml.j2").write_text(secret.replace(kind, "immutable: true\n" + kind))
    again = [o for o in _render(environ, str(overrides)) if o["kind"] == "Secret"]
    assert again and all(o["immutable"] is True for o in again)


def test_cache_off_keeps_nothing(tmp_path: Path) -> None:
    _render({"XDG_CACHE_HOME": str(tmp_path), "CONNGEN_CACHE": "off"})
    assert not (tmp_path / "conngen").exists()


def test_unwritable_cache_still_renders(tmp_path: Path) -> None:
    (tmp_path / "conngen").write_text("a file where the directory would be")
    assert _render({"XDG_CACHE_HOME": str(tmp_path)})


def test_entries_others_could_write_are_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled code is code: an entry writable by group or others is compiled afresh, not loaded."""
    first = _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path))
    assert _entries(tmp_path)
    for entry in _entries(tmp_path):
        entry.chmod(0o666)
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counting(self: jinja2.Environment, *args: object, **kwargs: object) -> object:
        compiled.append(str(args[1] if len(args) > 1 else kwargs.get("name")))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    assert _render({"XDG_CACHE_HOME": str(tmp_path)}, _sandboxed(tmp_path)) == first
    assert compiled, "world-writable entries must not be loaded"


def test_sandboxed_and_plain_compilations_are_kept_apart(tmp_path: Path) -> None:
    """With an override directory the built-in templates compile to sandboxed code, which the plain
    environment of a later run without overrides must not load (nor the other way round)."""
    overrides = tmp_path / "templates"
    overrides.mkdir()  # empty: every template is the built-in one, compiled in the sandbox
    environ = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    sandboxed = _render(environ, str(overrides))
    assert _render(environ) == sandboxed
    assert _render(environ, str(overrides)) == sandboxed


BUILTIN = Path(__file__).parent.parent / "templates"


def _builtin_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled: bool = True) -> Path:
    """The built-in templates copied, and taken for the built-in ones from here on."""
    copy = tmp_path / "builtin"
    shutil.copytree(BUILTIN, copy, ignore=None if compiled else shutil.ignore_patterns("compiled"))
    monkeypatch.setattr("generator.render.sources.builtin_templates_dir", lambda: copy)
    return copy


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names Jinja compiles from here on."""
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: object, name: str | None = None, *args: object, **kwargs: object) -> object:
        compiled.append(str(name))
        return real(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return compiled


def test_the_shipped_code_is_what_jinja_generates_from_the_templates(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """templates/compiled/ is current: `scripts/compile-templates` writes it (run it after editing a template)."""
    copy = _builtin_copy(tmp_path, monkeypatch, compiled=False)
    Renderer(None, {"CONNGEN_CACHE": "off"}).write_compiled()
    shipped = {p.name: p.read_text() for p in (BUILTIN / "compiled").glob("*.py")}
    fresh = {p.name: p.read_text() for p in (copy / "compiled").glob("*.py")}
    stale = sorted(name for name in fresh.keys() | shipped.keys() if fresh.get(name) != shipped.get(name))
    assert fresh and not stale, f"run scripts/compile-templates: {stale}"


def test_every_builtin_loop_runs_from_its_shipped_code(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compiles(monkeypatch)
    builtin = Builtin()
    for source in sorted(BUILTIN.glob("[!_]*.j2")):  # each loop, over no objects
        builtin.stream([(source.name, variables(source.name), [])], io.StringIO())
    assert _render({"CONNGEN_CACHE": "off"})  # the golden tests check what it renders
    assert compiled == []


def test_a_build_with_builtin_templates_never_imports_jinja() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "generator", "render", SEED], capture_output=True,
                          text=True, env={**os.environ, "H_USER": "u", "H_PASS": "p", "CONNGEN_CACHE": "off"})
    assert done.returncode == 0 and "kind: Job" in done.stdout, done.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert "generator.render.builtin" in imported and not [m for m in imported if m.startswith("jinja2")]


@pytest.mark.parametrize("change", ["the template", "a partial", "the placement rewrite"])
def test_code_for_other_sources_or_another_rewrite_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               change: str) -> None:
    """A loop's shipped code is keyed by what it was generated from: every built-in source (it has its
    parent and partials written in), its variables and the placement rewrite."""
    copy = _builtin_copy(tmp_path, monkeypatch)
    compiled = _compiles(monkeypatch)
    Builtin().stream([("secret.yaml.j2", variables("secret.yaml.j2"), [])], io.StringIO())
    assert compiled == []  # so the check below can fail
    if change == "the template":
        (copy / "secret.yaml.j2").write_text((copy / "secret.yaml.j2").read_text() + "{# edited #}\n")
    elif change == "a partial":
        (copy / "_job.yaml.j2").write_text((copy / "_job.yaml.j2").read_text() + "{# edited #}\n")
    else:
        monkeypatch.setattr("generator.render.sources.REWRITE", b"another placement rewrite")
    Builtin().stream([("secret.yaml.j2", variables("secret.yaml.j2"), [])], io.StringIO())
    assert compiled == ["None"]  # the loop, compiled here (from its nodes: no name)


def test_an_error_in_a_builtin_template_names_its_file_and_line() -> None:
    """A built-in template that fails on conngen's runtime is rendered again by Jinja, which says where."""
    source = BUILTIN / "serviceaccount.yaml.j2"
    with pytest.raises(UserError) as raised:
        Builtin().object("serviceaccount.yaml.j2", {"account": object()}, "v1", "ServiceAccount", "x")
    (issue,) = raised.value.issues
    first_use = next(n for n, line in enumerate(source.read_text().splitlines(), 1) if "account." in line)
    assert (issue.origin.file, issue.line) == (str(source), first_use), issue
