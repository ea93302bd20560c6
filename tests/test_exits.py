"""Every entry point ends through the one handler (generator/exits.py): a user's problem is a
located message and exit 1, a bug one line and exit 3, never a traceback nor a value."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, REPO

SEED = FIXTURES / "seed"
CONFIG = str(SEED / "generator.yaml")
VALUE = "s3cr3t-value-in-an-exception"  # what a library's exception text could hold
BUG = "conngen: internal error (RuntimeError); please report it\n"
RESOURCE_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n" + "".join(
    f"  {line}\n" for line in (SEED / "generator.yaml").read_text().splitlines())


def _cli(*args: str, stdin: str = "") -> tuple[int, str, str]:
    from generator.commands.cli import cli

    result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="conngen")
    return result.exit_code, result.stdout, result.stderr


def _plugin() -> tuple[int, str, str]:
    from generator.kustomize.plugin import run

    out, err = io.StringIO(), io.StringIO()
    code = run(CONFIG, out, err, {"CONNGEN_CACHE": "off", "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(SEED)})
    return code, out.getvalue(), err.getvalue()


def _krm() -> tuple[int, str, str]:
    from generator.kustomize.krm import run

    out, err = io.StringIO(), io.StringIO()
    code = run(RESOURCE_LIST, out, err, {})
    return code, out.getvalue(), err.getvalue()


ENTRY_POINTS = {
    "render": lambda: _cli("render", CONFIG),
    "validate": lambda: _cli("validate", CONFIG),
    "explain": lambda: _cli("explain", CONFIG),
    "post-render": lambda: _cli("post-render", CONFIG, stdin="apiVersion: v1\nkind: ConfigMap\n"),
    "exec plugin": _plugin,
    "KRM function": _krm,
}


@pytest.fixture
def seed_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seed's directory as the working directory, as kustomize runs the KRM function."""
    monkeypatch.chdir(SEED)
    monkeypatch.setenv("CONNGEN_CACHE", "off")
    return SEED


def _break(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    """Every entry point above goes through pipeline.generate or planned (explain)."""
    import generator.commands.explain
    import generator.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(generator.pipeline, "generate", broken)
    monkeypatch.setattr(generator.commands.explain, "planned", broken)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_bug_is_one_line_and_exit_3_without_its_text(seed_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                       entry: str) -> None:
    _break(monkeypatch, RuntimeError(VALUE))
    code, out, err = ENTRY_POINTS[entry]()
    assert (code, err) == (3, BUG)
    assert VALUE not in out


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_user_error_is_a_located_message_and_exit_1(seed_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                      entry: str) -> None:
    from generator.errors import Issue, Origin, UserError

    origin = Origin("generator.yaml", ("builds", 0, "image"))
    _break(monkeypatch, UserError([Issue(origin, "not what was wanted", "write another")]))
    code, out, err = ENTRY_POINTS[entry]()
    assert code == 1
    assert err.splitlines() == ["generator.yaml:16:5: error: builds[0].image: not what was wanted",
                                "  hint: write another"]
    if entry == "KRM function":  # the protocol's own answer: no items, the problem as a result
        import yaml

        answer = yaml.safe_load(out)
        assert answer["items"] == [] and "not what was wanted" in answer["results"][0]["message"]
    elif entry != "validate":
        assert out == ""


@pytest.mark.parametrize("entry", ["render", "exec plugin", "KRM function"])
def test_ctrl_c_is_130_and_silent(seed_dir: Path, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    _break(monkeypatch, KeyboardInterrupt())
    assert ENTRY_POINTS[entry]() == (130, "", "")


def test_the_exit_codes_are_the_documented_ones() -> None:
    from generator import exits

    text = (REPO / "docs" / "reference.md").read_text()
    table = text[text.index("## Exit codes"):].split("\n\n")[1]
    documented = [int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)]
    assert documented == [exits.EXIT_OK, exits.EXIT_USER, exits.EXIT_USAGE, exits.EXIT_BUG, exits.EXIT_INTERRUPTED]


def test_exit_codes_are_defined_once() -> None:
    """Only exits.py assigns them; everything else imports them from there."""
    defined = [str(p.relative_to(REPO)) for p in (REPO / "generator").rglob("*.py")
               if re.search(r"^\s*EXIT_[A-Z]+\s*=|EXIT_[A-Z]+, EXIT_[A-Z]+.*=\s*\d", p.read_text(), re.M)]
    assert defined == [os.path.join("generator", "exits.py")]


def test_a_file_the_system_refuses_is_named_not_taken_for_the_output(seed_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    name = "/no/such/" + "d" * 200
    _break(monkeypatch, FileNotFoundError(2, "No such file or directory", name))
    code, out, err = ENTRY_POINTS["render"]()
    assert (code, err) == (1, f"conngen: error: {name[:79]}…: No such file or directory\n")
    _break(monkeypatch, OSError(28, "No space left on device"))
    assert ENTRY_POINTS["exec plugin"]()[::2] == (1, "conngen: error: cannot write the output (No space left on device)\n")
