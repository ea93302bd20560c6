"""Shell completion (click's own): the bash script registers, and completing through it gives our words."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.commands.cli import cli

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """PATH with a `conngen` that runs this checkout, as the installed console script would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "conngen"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m generator "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, "--norc", "--noprofile", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60)


def _protocol(words: str, cword: int, env: dict[str, str]) -> list[str]:
    """What bash's completion function receives: `type,value` lines."""
    result = subprocess.run(["conngen"], env={**env, "COMP_WORDS": words, "COMP_CWORD": str(cword),
                                              "_CONNGEN_COMPLETE": "bash_complete"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _complete(*words: str, env: dict[str, str]) -> list[str]:
    """COMPREPLY after sourcing the generated script and completing the last of `words`."""
    array = " ".join(shlex.quote(w) for w in ("conngen", *words))
    result = _bash('eval "$(_CONNGEN_COMPLETE=bash_source conngen)"\n'
                   f"COMP_WORDS=({array}); COMP_CWORD={len(words)}\n"
                   "_conngen_completion conngen\n"
                   'printf "%s\\n" "${COMPREPLY[@]}"', env)
    assert result.returncode == 0, result.stderr
    return [w for w in result.stdout.splitlines() if w]


def test_bash_source_registers_the_completion(env: dict[str, str]) -> None:
    result = _bash('eval "$(_CONNGEN_COMPLETE=bash_source conngen)" && complete -p conngen', env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "complete -o nosort -F _conngen_completion conngen"


def test_bash_complete_lists_every_subcommand(env: dict[str, str]) -> None:
    expected = cli.list_commands(None)  # type: ignore[arg-type]
    assert {"doctor", "explain", "init", "install", "render", "schema", "validate"} <= set(expected)
    assert _protocol("conngen ", 1, env) == [f"plain,{name}" for name in expected]


def test_completing_through_bash(env: dict[str, str]) -> None:
    assert _complete("val", env=env) == ["validate"]
    assert _complete("init", "--builder", "", env=env) == ["dockerizer", "kaniko"]
    assert _complete("doctor", "--output", "", env=env) == ["text", "json"]
    assert _complete("schema", "", env=env) == ["config", "catalog"]


def test_file_arguments_complete_as_files(env: dict[str, str]) -> None:
    assert _protocol("conngen render ", 2, env) == ["file,"]
    assert _protocol("conngen init ", 2, env) == ["dir,"]
