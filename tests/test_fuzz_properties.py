"""Property tests over every input surface: a few hundred examples each on every run.

fuzz/run.py drives the same targets with 100,000+ examples outside the suite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import CATALOG_TEXTS, CONFIGS, exec_plugin_target, krm_target, raw_text_target

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(CONFIGS, CATALOG_TEXTS)
def test_exec_plugin_never_crashes_or_leaks(config: dict, catalog: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        exec_plugin_target(Path(root), config, catalog)


@SETTINGS
@given(CONFIGS, CATALOG_TEXTS)
def test_krm_function_never_crashes_or_leaks(config: dict, catalog: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        krm_target(Path(root), config, catalog)


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_is_handled(text: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        raw_text_target(Path(root), text)
