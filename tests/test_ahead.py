"""Large inputs on two CPUs (speed/ahead.py): what a child process does ahead changes nothing a user sees.

A child parses a large config while the parent loads its catalogs (read/ahead.py), and another
renders the last Jobs while the parent reads credentials and renders the rest (pipeline,
render/builtin.py). Each test forces the children on, whatever the size and the machine, and
holds the result to the run without them: the same stream byte for byte, the same config and
warnings, the same errors in the same order; a child that fails leaves its work to the parent.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import golden_cases
from generator.commands.options import load_config_file
from generator.errors import UserError
from generator.pipeline import generate
from generator.read.yamlio import top_level_value
from generator.speed.ahead import Child

ENVIRON = {**os.environ, "CONNGEN_CACHE": "off"}


def _run(config_file: Path) -> tuple[Any, list, str]:
    """The checked config, its warnings and the stream `conngen render` writes of it."""
    config, warnings = load_config_file(str(config_file), None, None)
    out = io.StringIO()
    result = generate(config, ENVIRON, warnings, out=out)
    return config, result.warnings, out.getvalue()


def _issues(config_file: Path) -> list:
    with pytest.raises(UserError) as failed:
        _run(config_file)
    return failed.value.issues


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Turns the children on for any size and machine; gives the names of the work each child was started for.

    The children for work named in `failing` fail before they write anything.
    """
    started: list[str] = []

    def force(failing: tuple[str, ...] = ()) -> list[str]:
        real = Child.__init__

        def init(self: Child, work: Callable) -> None:
            started.append(getattr(work, "func", work).__qualname__)
            real(self, _failing if started[-1] in failing else work)

        monkeypatch.setattr(Child, "__init__", init)
        monkeypatch.setattr("generator.read.ahead.worth_it", lambda size, minimum: True)
        monkeypatch.setattr("generator.pipeline.worth_it", lambda size, minimum: True)
        return started

    return force


def _failing(file: Any) -> None:
    raise RuntimeError("a child that fails")


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("case", golden_cases(), ids=lambda p: p.name)
def test_every_golden_case_renders_the_same_with_children(case: Path, children: Callable[..., list[str]]) -> None:
    alone = _run(case / "generator.yaml")
    started = children()
    assert _run(case / "generator.yaml") == alone
    assert "ReadingAhead._parse" in started
    assert "Ahead._write" in started or "kind: Job" not in alone[2]
    assert _no_child_left()


@pytest.mark.parametrize("failing", [("ReadingAhead._parse", "Ahead._write"), ("_read_credential_files",)])
@pytest.mark.parametrize("case", ["seed", "agent-config", "builder-buildkit"])
def test_a_failing_child_leaves_its_work_to_the_parent(case: str, failing: tuple[str, ...],
                                                       children: Callable[..., list[str]]) -> None:
    config_file = next(c for c in golden_cases() if c.name == case) / "generator.yaml"
    alone = _run(config_file)
    started = children(failing)
    assert _run(config_file) == alone
    assert set(failing) <= set(started)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The seed with problems in its catalog, its config and its credential files."""
    case = tmp_path / "seed"
    shutil.copytree(next(c for c in golden_cases() if c.name == "seed"), case)
    catalog = case / "connections.yaml"
    catalog.write_text(catalog.read_text().replace("kind: registry", "kind: registry\n    colour: blue", 1))
    (case / "creds" / "password").unlink()
    return case


def test_problems_are_reported_alike_with_children(broken: Path, children: Callable[..., list[str]]) -> None:
    """Catalog and config problems in one run, in one order; a missing credential file while Jobs render."""
    config = broken / "generator.yaml"
    catalog = broken / "connections.yaml"
    texts = {config: config.read_text().replace("builds:", "colour: blue\nbuilds:"), catalog: catalog.read_text()}
    fixed = {config: config.read_text(), catalog: catalog.read_text().replace("\n    colour: blue", "")}
    alone = []
    for version in (texts, fixed):
        for path, text in version.items():
            path.write_text(text)
        alone.append(_issues(config))
    started = children()
    for version, issues in zip((texts, fixed), alone):
        for path, text in version.items():
            path.write_text(text)
        assert _issues(config) == issues
    assert len(alone[0]) == 2 and "password" in alone[1][0].message
    assert started == ["ReadingAhead._parse", "_read_credential_files"] * 2 + ["Ahead._write"]
    assert _no_child_left()


def test_invalid_yaml_and_a_catalog_outside_the_root_are_located_alike(broken: Path,
                                                                       children: Callable[..., list[str]]) -> None:
    config = broken / "generator.yaml"
    text = config.read_text()
    config.write_text(text.replace("builds:", "builds: [\n"))
    alone = [_issues(config)]
    config.write_text(text.replace("catalog: [connections.yaml]", "catalog: [../outside.yaml]"))
    (broken.parent / "outside.yaml").write_text((broken / "connections.yaml").read_text())
    alone.append(_issues(config))
    children()
    config.write_text(text.replace("builds:", "builds: [\n"))
    assert _issues(config) == alone[0] and alone[0][0].line is not None
    config.write_text(text.replace("catalog: [connections.yaml]", "catalog: [../outside.yaml]"))
    assert _issues(config) == alone[1] and "outside the root" in alone[1][0].message


def test_without_fork_or_memfd_the_parent_does_the_work(children: Callable[..., list[str]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox may refuse either call: the render goes on in one process."""
    config_file = next(c for c in golden_cases() if c.name == "seed") / "generator.yaml"
    alone = _run(config_file)
    children()
    for refused in ("fork", "memfd_create"):
        with monkeypatch.context() as patch:
            patch.setattr(os, refused, lambda *args: (_ for _ in ()).throw(PermissionError(1, "refused")))
            assert _run(config_file) == alone


def test_credential_files_read_ahead_serve_one_render(tmp_path: Path, children: Callable[..., list[str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed's credential files come from the child that read them while the parent planned; a
    render after a credential changed reads the new value, and nothing read ahead outlives a render."""
    import generator.read.ahead as ahead

    case = tmp_path / "seed"
    shutil.copytree(next(c for c in golden_cases() if c.name == "seed"), case)
    served: list[str] = []

    def read_ahead(path: str) -> bytes | None:
        found = ahead.read_ahead(path)
        if found is not None:
            served.append(path)
        return found

    monkeypatch.setattr("generator.render.credentials.read_ahead", read_ahead)
    children()
    first = _run(case / "generator.yaml")[2]
    assert sorted(Path(p).name for p in served) == ["password", "username"]
    (case / "creds" / "password").write_text("rotated\n")
    second = _run(case / "generator.yaml")[2]
    assert second != first and len(served) == 4
    assert not ahead.FILES and not ahead._files and _no_child_left()


def test_a_childs_file_is_in_memory() -> None:
    """A config's parse may hold a literal credential: it never goes through a file on a disk."""
    child = Child(lambda file: file.write(b"x"))
    assert os.readlink(f"/proc/self/fd/{child._file.fileno()}").startswith("/memfd:")  # type: ignore[union-attr]
    result = child.result()
    assert result is not None and result.read() == b"x"
    result.close()


@pytest.mark.parametrize(("text", "value"), [
    ("apiVersion: v1\ncatalog: connections.yaml\n", "connections.yaml"),
    ("metadata: {name: x, labels: [a, b]}\ncatalog:\n- a.yaml\n- b.yaml\nbuilds: []\n", ["a.yaml", "b.yaml"]),
    ("name: catalog\ncatalog: x\n", "x"),  # a value that spells the key is not the key
    ("metadata: {catalog: inner}\n", None),  # nor is a nested key
    ("catalog: [a, {b: c}]\n", None),
    ("- catalog\n", None),
    ("builds: [" + "{a: 1}, " * 200 + "]\ncatalog: far.yaml\n", None),  # past the glance
    ("catalog: [a\n", None),
])
def test_a_glance_finds_the_top_level_catalog_key(text: str, value: Any) -> None:
    assert top_level_value(text, "catalog") == value
