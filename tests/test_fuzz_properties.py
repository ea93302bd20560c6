"""Property tests over every input surface: a few hundred examples each on every run.

fuzz/run.py drives the same targets with 100,000+ examples outside the suite.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import CANARY, CATALOG_TEXTS, CONFIGS, ContractBroken, exec_plugin_target, krm_target, raw_text_target

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


GOOD = {"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "fuzz"},
        "connections": [{"name": "reg", "kind": "registry", "schema": {"url": "https://r.example.com/org"},
                         "secret": {"name": "docker-conf", "mountPath": "/kaniko/.docker"}}],
        "credentials": {"docker-conf": {"username": {"env": "F_USER"}, "password": {"env": "F_PASS"}}},
        "builds": [{"name": "app", "connection": "reg", "image": "app:1", "context": "git://github.com/a/b.git"}]}


@pytest.mark.parametrize("target", [exec_plugin_target, krm_target])
def test_the_fuzz_checks_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: Callable) -> None:
    """A crash (exit 3 through the handler) and the password in an output object are both caught."""
    import generator.pipeline

    target(tmp_path, GOOD, "connections: []\n")  # the well-formed input passes: the checks below fail for cause
    real = generator.pipeline.generate

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyError("password")

    monkeypatch.setattr(generator.pipeline, "generate", crash)
    with pytest.raises(ContractBroken, match="exit 3"):
        target(tmp_path, GOOD, "connections: []\n")

    def leak(*args: Any, **kwargs: Any) -> Any:  # one more object, holding the password, in what is written
        result = real(*args, **kwargs)
        copied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"copied": CANARY}}
        if kwargs.get("out") is not None:  # the plugin streams the objects as they render
            kwargs["out"].write("---\n" + yaml.safe_dump(copied))
        else:
            result.objects.append(copied)
        return result

    monkeypatch.setattr(generator.pipeline, "generate", leak)
    with pytest.raises(ContractBroken, match="ConfigMap"):
        target(tmp_path, GOOD, "connections: []\n")
