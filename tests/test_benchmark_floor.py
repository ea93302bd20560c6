"""benchmarks/floor.py is a lower bound only if it renders what conngen renders, with less work.

Not timed: this checks the floor's plain Jinja pass produces conngen's own objects (Secret
data aside, which the floor fills with a placeholder), so its time cannot come from rendering
less than a real render does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, run_conngen

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import floor  # noqa: E402
import gen_catalog  # noqa: E402


def _without_secret_data(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not (obj.get("kind") == "Secret" and k == "data")}


def test_floor_renders_the_objects_conngen_renders(tmp_path: Path) -> None:
    config = gen_catalog.write_catalog(tmp_path / "catalog", 12)
    render, count = floor.plain_renderer(config)
    plain = [yaml.safe_load(text) for text in render()]

    result = run_conngen("render", str(config), env={"CONNGEN_CACHE": "off"})
    assert result.returncode == 0, result.stderr
    real = [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    assert count == len(real) == 24
    assert [_without_secret_data(o) for o in plain] == [_without_secret_data(o) for o in real]


def test_floor_reads_every_input_file(tmp_path: Path) -> None:
    """The read step pulls every event of the config and its catalog, as conngen's reader does."""
    config = gen_catalog.write_catalog(tmp_path / "catalog", 3)
    out = subprocess.run([sys.executable, str(BENCHMARKS / "floor.py"), str(config), "1"],
                         capture_output=True, text=True, check=True)
    floors = json.loads(out.stdout)
    assert {"read", "render"} <= floors.keys()  # run.py sums these two
    files = [config, config.parent / gen_catalog.CATALOG_FILE]
    assert floors["events"] == sum(len(list(yaml.parse(f.read_text(), Loader=yaml.CSafeLoader))) for f in files)
    assert floors["objects"] == 6
