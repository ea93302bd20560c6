"""benchmarks/floor.py is the scale budget's yardstick only if it reads all of conngen's input.

Not timed: this checks the events-only process pulls every libyaml event of the config and
its catalog (the two files `conngen render` reads), so its time is that of reading them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import gen_catalog  # noqa: E402
import run  # noqa: E402


def test_floor_reads_every_event_of_both_inputs(tmp_path: Path) -> None:
    config = gen_catalog.write_catalog(tmp_path / "catalog", 3)
    files = run.input_files(config)
    assert files == [config, config.parent / gen_catalog.CATALOG_FILE]
    out = subprocess.run([sys.executable, str(BENCHMARKS / "floor.py"), *map(str, files), "--count"],
                         capture_output=True, text=True, check=True)
    assert int(out.stdout) == sum(len(list(yaml.parse(f.read_text(), Loader=yaml.CSafeLoader))) for f in files)
