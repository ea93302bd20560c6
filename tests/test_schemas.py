"""Machine-readable interfaces: the committed JSON Schemas (for editors) and `--output json`.

The schemas must equal `conngen schema`, accept every example and reject bad documents; the
JSON reports of `validate` and `explain` must parse and say where and what, with the exit code.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, REPO, run_conngen
from generator.errors import UserError
from generator.read.yamlio import load_yaml_file

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
        try:
            data = _load(path)
        except UserError:  # expected outputs and other multi-document streams are not examples
            continue
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


def _seed_copy(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed", app)
    return app


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_validate_json_locates_errors(tmp_path: Path) -> None:
    app = _seed_copy(tmp_path)
    _edit(app / "connections.yaml", "mountPath: /root/.docker", "mountPath: root/.docker")
    result = run_conngen("validate", "--skip-credentials", "--output", "json", "connections.yaml", cwd=app)
    assert result.returncode == 1
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report == {"ok": False, "issues": [{
        "severity": "error", "message": "'root/.docker' is not valid",
        "hint": "use an absolute path such as /kaniko/.docker (no ':')",
        "file": "connections.yaml", "line": 16, "column": 7, "path": "connections[1].secret.mountPath"}]}


def test_validate_json_reports_warnings_but_passes(tmp_path: Path) -> None:
    app = _seed_copy(tmp_path)
    _edit(app / "generator.yaml", "password: {file: creds/password}", "password: literal-not-real")
    result = run_conngen("validate", "--output", "json", "generator.yaml", "connections.yaml", cwd=app)
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(i["severity"], i["file"], i["line"], i["column"]) for i in report["issues"]] == [
        ("warning", "generator.yaml", 10, 5), ("warning", "generator.yaml", 21, 5)]  # the literal; the dockerizer
    assert "literal-not-real" not in result.stdout


def test_explain_json_lists_each_route(tmp_path: Path) -> None:
    app = _seed_copy(tmp_path)
    result = run_conngen("explain", "--output", "json", "generator.yaml", cwd=app)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    routes = {b["build"]: (b["builder"], b["secret"], b["mountPath"], b["reads"], b["status"]) for b in report["builds"]}
    assert routes == {
        "trainer-kaniko": ("kaniko", "docker-conf", "/kaniko/.docker", "/kaniko/.docker/config.json", "ok"),
        "trainer-dockerizer": ("dockerizer", "docker-conf", "/root/.docker", "/root/.docker/config.json", "ok"),
    }
    kaniko, = [b for b in report["builds"] if b["builder"] == "kaniko"]
    assert kaniko["destinations"] == ["myregistry.com/org/repo/trainer:1.4.0", "myregistry.com/org/repo/trainer:latest"]


def test_explain_json_reports_a_template_that_loses_the_route(tmp_path: Path) -> None:
    """A template override dropping DOCKER_CONFIG leaves kaniko reading its image default, not the mount."""
    app = _seed_copy(tmp_path)
    _edit(app / "generator.yaml", "connection: docker-connection-kaniko", "connection: docker-connection-dockerizer")
    (app / "tpl").mkdir()
    template = (REPO / "templates" / "kaniko.yaml.j2").read_text(encoding="utf-8")
    env_block = "{% if job.env %}\n        env: {{ job.env | yaml }}\n{% endif %}\n"
    assert env_block in template
    (app / "tpl" / "kaniko.yaml.j2").write_text(template.replace(env_block, ""), encoding="utf-8")
    result = run_conngen("explain", "--templates", "tpl", "--output", "json", "generator.yaml", cwd=app)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    kaniko, = [b for b in report["builds"] if b["builder"] == "kaniko"]
    assert kaniko["status"] == "MISMATCH" and kaniko["reads"] == "/kaniko/.docker/config.json"
    assert ("kaniko reads /kaniko/.docker/config.json, where no Secret is mounted, not '.dockerconfigjson' of "
            "'docker-conf' (the plan mounts it as /root/.docker/config.json)") in kaniko["problems"]
    assert [b["status"] for b in report["builds"] if b["builder"] == "dockerizer"] == ["ok"]
