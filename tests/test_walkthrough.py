"""A new user's first run: README's Quick start and docs/getting-started.md, in a fresh copy.

The commands are read out of the markdown (every `bash` block), not repeated here, so the pages
cannot drift from what works. The copy holds the repository's tracked files, as a clone would;
`pip install .` installs into a new venv whose dependencies come from the test's own environment
(`--no-index`, no build isolation), so no network is used. HOME, the plugin root and the cache are
temporary: nothing outside the copy is touched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO, load_stream, require_tool

pytestmark = pytest.mark.e2e

#: the suite itself and the installer of its tools: checked, not run from inside the suite
SELF = re.compile(r"(^|&& )(scripts/install-test-deps|python -m pytest)\b")


def bash_blocks(markdown: Path) -> list[list[str]]:
    """The command lines of each ```bash block, comments and blank lines dropped."""
    blocks = re.findall(r"^```bash\n(.*?)^```", markdown.read_text(encoding="utf-8"), re.S | re.M)
    return [[line.split("  #", 1)[0].rstrip() for line in block.splitlines()
             if line.strip() and not line.lstrip().startswith("#")] for block in blocks]


def _section(markdown: Path, title: str) -> str:
    text = markdown.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A copy of the tracked files and a venv without conngen, as on a new machine."""
    base = tmp_path_factory.mktemp("walkthrough")
    copy = base / "conngen"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    home = base / "home"
    home.mkdir()
    keep = ("LANG", "LC_ALL", "TMPDIR", "CI")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", VIRTUAL_ENV=str(venv),
               XDG_CACHE_HOME=str(base / "cache"), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return copy, env


def _run(lines: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_readme_quick_start_is_two_commands_and_the_first_works(fresh: tuple[Path, dict[str, str]]) -> None:
    copy, env = fresh
    require_tool("kubectl")
    quick = bash_blocks_of(copy / "README.md", "Quick start")
    assert len(quick) == 2, quick
    install_and_render, whole_suite = quick
    ci = [line for line in (copy / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [whole_suite], "README's second command must be what CI runs"
    done = _run([install_and_render], copy, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    stream = done.stdout[re.search(r"^(---|apiVersion:)", done.stdout, re.M).start():]  # after pip's own output
    kinds = sorted(o["kind"] for o in load_stream(stream))
    assert kinds == ["Job", "Job", "Secret"], kinds
    # the installer of the suite's tools works for this user and this Python, and says what it would do
    dry = _run(["scripts/install-test-deps --dry-run"], copy, env)
    assert dry.returncode == 0, dry.stderr
    assert f"into {Path(env['VIRTUAL_ENV']) / 'bin' / 'python'}" in dry.stdout


def bash_blocks_of(markdown: Path, section: str) -> list[str]:
    """The command lines of the bash blocks in one `## section`."""
    part = markdown.parent / f".{section}.md"
    part.write_text(_section(markdown, section), encoding="utf-8")
    try:
        return [line for block in bash_blocks(part) for line in block]
    finally:
        part.unlink()


def test_readme_commands_work_in_a_fresh_copy(fresh: tuple[Path, dict[str, str]]) -> None:
    copy, env = fresh
    require_tool("kubectl")
    lines = [line for block in bash_blocks(copy / "README.md") for line in block]
    runnable = [line for line in lines if not SELF.search(line)]
    assert any("kubectl kustomize" in line for line in runnable)
    done = _run(runnable, copy, env)
    assert done.returncode == 0, done.stderr[-4000:]


def test_getting_started_runs_from_top_to_bottom(fresh: tuple[Path, dict[str, str]]) -> None:
    copy, env = fresh
    require_tool("kubectl")
    lines = [line for block in bash_blocks(copy / "docs" / "getting-started.md") for line in block]
    assert lines[0].startswith("pip install .") and "conngen init registry" in lines
    done = _run(lines, copy, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-4000:]
    assert "ok: kustomize can build with conngen" in done.stdout
    assert "s3cret" not in done.stderr  # -v and every message leave the password out
