"""Warnings users see: `strict` turns them into errors, the KRM function carries them in `results`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REGCRED_CATALOG, run_conngen
from test_krm import as_input, output_list, run_fn

#: a literal password: the warning every route must show
CONFIG = {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "t"},
          "catalog": "connections.yaml",
          "credentials": {"regcred": {"username": "bot", "password": "literal-canary-77"}},
          "builds": [{"name": "app", "connection": "reg", "image": "app:1",
                      "context": "git://github.com/acme/app.git#refs/heads/main"}]}


def _app(tmp_path: Path, **extra: object) -> Path:
    (tmp_path / "connections.yaml").write_text(REGCRED_CATALOG)
    (tmp_path / "generator.yaml").write_text(yaml.safe_dump({**CONFIG, **extra}, sort_keys=False))
    return tmp_path


@pytest.mark.parametrize("how", ["flag", "config"])
def test_strict_render_fails_on_a_warning_with_its_location(tmp_path: Path, how: str) -> None:
    app = _app(tmp_path)
    plain = run_conngen("render", str(app / "generator.yaml"))
    assert plain.returncode == 0 and "warning: credentials.regcred.password" in plain.stderr
    if how == "config":
        _app(tmp_path, strict=True)
    strict = run_conngen("render", *(["--strict"] if how == "flag" else []), str(app / "generator.yaml"))
    assert strict.returncode == 1 and strict.stdout == ""
    assert "generator.yaml:" in strict.stderr and "error: credentials.regcred.password" in strict.stderr
    assert "strict: warnings are errors" in strict.stderr and "literal-canary-77" not in strict.stderr


def test_strict_validate_json_reports_the_warning_as_an_error(tmp_path: Path) -> None:
    app = _app(tmp_path)
    result = run_conngen("validate", "--strict", "--output", "json", str(app / "generator.yaml"))
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ok"] is False
    assert {i["severity"] for i in report["issues"]} == {"error"}


def test_the_krm_function_returns_warnings_in_results_and_fails_under_strict(tmp_path: Path) -> None:
    app = _app(tmp_path)
    done = run_fn([sys.executable, "-m", "generator.kustomize.plugin"], as_input(CONFIG), app)
    assert done.returncode == 0, done.stderr
    out = output_list(done.stdout)
    assert {r["severity"] for r in out["results"]} == {"warning"}
    assert {"path": "credentials.regcred.password"} in [r["field"] for r in out["results"]]
    assert [o["kind"] for o in out["items"]] == ["Secret", "Job"]
    strict = run_fn([sys.executable, "-m", "generator.kustomize.plugin"], as_input({**CONFIG, "strict": True}), app)
    assert strict.returncode == 1
    failed = output_list(strict.stdout)
    assert failed["items"] == [] and {r["severity"] for r in failed["results"]} == {"error"}
    assert "literal-canary-77" not in strict.stdout + strict.stderr
