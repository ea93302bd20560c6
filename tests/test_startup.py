"""The kustomize hot path imports only what it needs (checked structurally, not timed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import FIXTURES

# click and ruamel.yaml are for the CLI and for locating errors; the rest has no place in a render
FORBIDDEN = ("click", "ruamel", "difflib", "tempfile", "subprocess", "kubernetes_validate", "jsonschema",
             "hypothesis", "asyncio", "email", "http", "xml", "sqlite3", "unittest", "argparse")

PROBE = """
import contextlib, io, json, sys
sys.argv = ["ConnectionGenerator", "generator.yaml"]
from generator.kustomize.plugin import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main()
print(json.dumps({"code": code, "modules": sorted(sys.modules), "bytes": len(out.getvalue())}))
"""


def _imported(cwd: str) -> dict:
    """Modules loaded by a full render (the warm-start cache is off: that path is tests/test_cache.py's)."""
    env = {**os.environ, "CONNGEN_CACHE": "off"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def _baseline() -> set[str]:
    """What loads before our code adds anything: site hooks, and the library a render needs."""
    code = "import json, sys, yaml; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in json.loads(result.stdout)}


def test_exec_plugin_path_does_not_import_cli_or_slow_modules() -> None:
    # a render with no warning: locating a warning's line loads ruamel (the seed's dockerizer warns)
    probe = _imported(str(FIXTURES / "lifecycle-flux"))
    assert probe["code"] == 0 and probe["bytes"] > 1000
    modules = {m.split(".")[0] for m in probe["modules"]}
    assert "yaml" in modules and "jinja2" not in modules  # it did render, built-in templates without Jinja
    loaded = modules - _baseline()
    assert "generator" in loaded
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_error_path_may_load_ruamel_to_locate_the_line(tmp_path) -> None:
    """The converse, so the check above can fail: an error does pull ruamel in."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "generator.yaml").write_text((FIXTURES / "seed" / "generator.yaml").read_text().replace(
        "builder: kaniko", "builder: kanikoo"))
    (app / "connections.yaml").write_text((FIXTURES / "seed" / "connections.yaml").read_text())
    probe = _imported(str(app))
    assert probe["code"] == 1
    assert "ruamel" in {m.split(".")[0] for m in probe["modules"]}
