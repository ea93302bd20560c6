"""The `conngen-validate` hook through the real pre-commit, installed into a temporary git repository.

pre-commit clones a committed revision, so the hook under test is this repository's HEAD:
commit `.pre-commit-hooks.yaml` and the code it runs before expecting a change here to show.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_conngen

pytestmark = pytest.mark.e2e

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def _git(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV, **(env or {})},
                          capture_output=True, text=True, timeout=600)


def _commits(repo: Path) -> int:
    return int(_git(repo, "rev-list", "--count", "--all").stdout.strip() or 0)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A git repository whose pre-commit hook runs conngen-validate from this repository's HEAD."""
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("pre-commit is required on CI (setup.cfg extra 'test')")
        pytest.skip("pre-commit is not installed")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", "HEAD:.pre-commit-hooks.yaml"]).returncode == 0
    base = tmp_path_factory.mktemp("precommit")
    env = {"PRE_COMMIT_HOME": str(base / "cache")}
    work = base / "work"
    work.mkdir()
    assert _git(work, "init", "-q").returncode == 0
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head.stdout.strip()}\n    hooks:\n      - id: conngen-validate\n",
        encoding="utf-8")
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install", "--install-hooks"], cwd=work,
                               env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert run_conngen("init", str(work / "registry")).returncode == 0
    return work, env


@pytest.fixture(autouse=True)
def _restore(repo: tuple[Path, dict]):
    """Each test starts from the last commit: what a blocked commit left staged is dropped."""
    yield
    work, _ = repo
    if _git(work, "rev-parse", "-q", "--verify", "HEAD").returncode == 0:
        assert _git(work, "reset", "-q", "--hard", "HEAD").returncode == 0
        assert _git(work, "clean", "-fdq").returncode == 0


def _commit(repo: tuple[Path, dict], *paths: str) -> tuple[int, str]:
    work, env = repo
    assert _git(work, "add", *paths).returncode == 0
    result = _git(work, "commit", "-m", "change", env=env)
    return result.returncode, result.stdout + result.stderr


def test_good_example_commits(repo: tuple[Path, dict]) -> None:
    code, out = _commit(repo, ".")
    assert code == 0, out
    assert "conngen validate" in out and "Passed" in out


def test_bad_catalog_blocks_the_commit_with_a_located_message(repo: tuple[Path, dict]) -> None:
    work, _ = repo
    catalog = work / "registry" / "connections.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("mountPath: /root/.docker", "mountPath: root/.docker"),
                       encoding="utf-8")
    before = _commits(work)
    code, out = _commit(repo, "registry/connections.yaml")
    assert code != 0
    assert "registry/connections.yaml:17:7: error: connections[1].secret.mountPath: 'root/.docker' is not valid" in out
    assert _commits(work) == before


def test_bad_config_named_by_the_conngen_suffix_is_checked(repo: tuple[Path, dict]) -> None:
    work, _ = repo
    text = (work / "registry" / "generator.yaml").read_text(encoding="utf-8")
    bad = text.replace("connection: docker-connection-kaniko", "connection: nowhere")
    (work / "registry" / "prod.conngen.yaml").write_text(bad, encoding="utf-8")
    code, out = _commit(repo, "registry/prod.conngen.yaml")
    assert code != 0
    assert ("registry/prod.conngen.yaml:14:5: error: builds[0].connection: build 'registry-kaniko' names connection "
            "'nowhere', which is not in the catalog") in out


def test_files_outside_the_convention_are_not_checked(repo: tuple[Path, dict]) -> None:
    work, _ = repo
    (work / "notes.yaml").write_text("connections: not a list\n", encoding="utf-8")
    code, out = _commit(repo, "notes.yaml")
    assert code == 0, out
    assert "(no files to check)Skipped" in out.replace(".", "")


def test_warnings_show_when_the_hook_passes(repo: tuple[Path, dict]) -> None:
    """pre-commit prints a passing hook's output only when the hook is verbose; warnings must not vanish."""
    work, _ = repo
    config = work / "registry" / "generator.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("password: {env: REGISTRY_PASSWORD}",
                                                                 "password: not-a-real-password"), encoding="utf-8")
    code, out = _commit(repo, "registry/generator.yaml")
    assert code == 0, out
    assert "registry/generator.yaml:11:" in out and "warning: credentials.docker-conf.password" in out
    assert "not-a-real-password" not in out
