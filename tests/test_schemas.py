"""The committed JSON Schemas (for editors) equal `conngen schema`, accept the examples and reject bad documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, REPO, run_conngen
from generator.yamlio import load_yaml_file

SCHEMAS = REPO / "schemas"
_MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)")


def _validator(which: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{which}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(which: str, document: object) -> list[tuple[list, str]]:
    return sorted((list(e.absolute_path), e.message) for e in _validator(which).iter_errors(document))


def _load(path: Path) -> object:
    """As conngen and yaml-language-server read it: YAML 1.2."""
    return load_yaml_file(path, str(path))


@pytest.mark.parametrize("which", ["config", "catalog"])
def test_committed_schema_equals_the_cli(which: str) -> None:
    result = run_conngen("schema", which)
    assert result.returncode == 0, result.stderr
    committed = (SCHEMAS / f"{which}.schema.json").read_text(encoding="utf-8")
    assert committed == result.stdout, f"regenerate: conngen schema {which} > schemas/{which}.schema.json"


def _examples() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(FIXTURES.glob("*/*.yaml")):
        if path.name.startswith("expected"):
            continue
        data = _load(path)
        if isinstance(data, dict) and data.get("kind") == "ConnectionGenerator":
            found.append(("config", path))
        elif isinstance(data, dict) and ("connections" in data or "artifactsStore" in data):
            found.append(("catalog", path))
    return found


def test_the_seed_is_among_the_examples() -> None:
    assert ("config", FIXTURES / "seed" / "generator.yaml") in _examples()
    assert ("catalog", FIXTURES / "seed" / "connections.yaml") in _examples()


@pytest.mark.parametrize("which,path", _examples(), ids=lambda v: str(v.relative_to(FIXTURES)) if isinstance(v, Path) else v)
def test_examples_pass_their_schema(which: str, path: Path) -> None:
    assert _errors(which, _load(path)) == []


def test_seed_config_points_editors_at_the_committed_schema() -> None:
    config = FIXTURES / "seed" / "generator.yaml"
    match = _MODELINE.match(config.read_text(encoding="utf-8"))
    assert match, "the first line must be the yaml-language-server modeline"
    assert (config.parent / match.group(1)).resolve() == SCHEMAS / "config.schema.json"


def test_scaffold_files_carry_modelines_to_valid_schemas(tmp_path: Path) -> None:
    assert run_conngen("init", str(tmp_path / "app")).returncode == 0
    for name, which in (("generator.yaml", "config"), ("connections.yaml", "catalog")):
        path = tmp_path / "app" / name
        match = _MODELINE.match(path.read_text(encoding="utf-8"))
        assert match, name
        schema = json.loads((path.parent / match.group(1)).read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(_load(path))) == []
        assert _errors(which, _load(path)) == []


def test_bad_config_fails_the_schema() -> None:
    config = _load(FIXTURES / "seed" / "generator.yaml")
    config["apiVersion"] = "conngen.dev/v2"
    config["metadata"]["name"] = "Seed"
    config["builds"][0]["builder"] = "nonesuch"
    del config["builds"][1]["image"]
    config["credentials"]["docker-conf"]["username"] = {"env": "A", "file": "b"}
    config["surprise"] = True
    paths = [path for path, _ in _errors("config", config)]
    assert paths == [[], ["apiVersion"], ["builds", 0, "builder"], ["builds", 1],
                     ["credentials", "docker-conf", "username"], ["metadata", "name"]]


def test_bad_catalog_fails_the_schema() -> None:
    catalog = _load(FIXTURES / "seed" / "connections.yaml")
    catalog["connections"][0]["schema"] = {"host": "myregistry.com"}
    catalog["connections"][1]["secret"]["mountPath"] = "root/.docker"
    catalog["connections"][2]["kind"] = "registri"
    errors = _errors("catalog", catalog)
    assert (["connections", 0, "schema"], "'url' is a required property") in errors
    assert (["connections", 1, "secret", "mountPath"], "'root/.docker' does not match '^/[^:]*$'") in errors
    assert [p for p, _ in errors if p[:2] == ["connections", 2]] == [["connections", 2, "kind"]]
