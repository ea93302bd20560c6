"""Bad input: one located message per problem, exit 1, no traceback, never a secret value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_conngen

CANARY = "canary-7Qp2-never-print-me"
GOOD_CATALOG = """connections:
  - name: reg
    kind: registry
    schema:
      url: https://myregistry.com/org
    secret:
      name: docker-conf
      mountPath: /kaniko/.docker
"""
GOOD_CONFIG = """apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata:
  name: t
catalog: [connections.yaml]
credentials:
  docker-conf:
    username: {env: T_USER}
    password: {env: T_PASS}
builds:
  - name: b
    connection: reg
    image: app:1
    context: git://github.com/acme/app.git
"""

# (case, replacements in connections.yaml, replacements in generator.yaml, expected stderr fragment)
CASES = [
    ("unknown key", [("    kind: registry\n", "    kind: registry\n    colour: blue\n")], [],
     "connections.yaml:4:5: error: connections[0].colour: unknown key 'colour' in connection"),
    ("wrong kind", [("kind: registry", "kind: REGISTRY")], [],
     "connections.yaml:3:5: error: connections[0].kind: 'REGISTRY' is not one of"),
    ("duplicate names", [], [("catalog: [connections.yaml]\n", "catalog: [connections.yaml]\nconnections:\n  - {name: reg, kind: custom}\n")],
     "generator.yaml:7:6: error: connections[0].name: duplicate connection name 'reg' (first defined in"),
    ("missing connection", [], [("connection: reg", "connection: regg")],
     "generator.yaml:12:5: error: builds[0].connection: build 'b' names connection 'regg', which is not in the catalog\n  hint: did you mean 'reg'?"),
    ("non-registry connection", [("mountPath: /kaniko/.docker\n", "mountPath: /kaniko/.docker\n  - name: repo\n    kind: git\n")],
     [("connection: reg", "connection: repo")],
     "generator.yaml:12:5: error: builds[0].connection: connection 'repo' is a git connection, a build needs a registry connection"),
    ("bad url", [("url: https://myregistry.com/org", "url: ftp://myregistry.com/org")], [],
     "connections.yaml:5:7: error: connections[0].schema.url: registry url scheme 'ftp' is not supported"),
    ("url with credentials", [("url: https://myregistry.com/org", f"url: https://bob:{CANARY}@myregistry.com/org")], [],
     "connections.yaml:5:7: error: connections[0].schema.url: registry url must not contain a user name or password"),
    ("relative mountPath", [("mountPath: /kaniko/.docker", "mountPath: kaniko/.docker")], [],
     "connections.yaml:8:7: error: connections[0].secret.mountPath: 'kaniko/.docker' is not valid"),
    ("file outside the root", [], [("catalog: [connections.yaml]", "catalog: [../connections.yaml]")],
     "generator.yaml:5:11: error: catalog[0]: '../connections.yaml' is outside the root"),
    ("unset env var", [], [("T_PASS", "T_UNSET_PASS")],
     "generator.yaml:9:5: error: credentials.docker-conf.password: environment variable T_UNSET_PASS is not set"),
    ("malformed docker config", [], [("    username: {env: T_USER}\n    password: {env: T_PASS}\n", "    dockerConfig: config.json\n")],
     "generator.yaml:8:5: error: credentials.docker-conf.dockerConfig: the docker config is not valid JSON (line 1, column"),
    ("yaml syntax", [("  - name: reg\n", "  - name: reg\n   bad: [\n")], [],
     "connections.yaml:3:4: error: invalid YAML"),
    ("duplicate key", [("    kind: registry\n", "    kind: registry\n    kind: git\n")], [],
     "connections.yaml:4:5: error: invalid YAML: duplicate key 'kind' (first at line 3)"),
    ("octal mode unquoted", [("mountPath: /kaniko/.docker", "mountPath: /kaniko/.docker\n      defaultMode: 0644")], [],
     "connections.yaml:9:7: error: connections[0].secret.defaultMode: file mode 644 is out of range 0..511"),
    ("yes is not a boolean", [("url: https://myregistry.com/org", "url: https://myregistry.com/org\n      insecure: yes")], [],
     "connections.yaml:6:7: error: connections[0].schema.insecure: expected true or false, got a string"),
    ("items naming another key", [("mountPath: /kaniko/.docker", "mountPath: /kaniko/.docker\n      items: [config.json]")], [],
     "connections.yaml:9:15: error: connections[0].secret.items[0]: secret 'docker-conf' is generated with the single key .dockerconfigjson"),
    ("https in image", [], [("image: app:1", "image: https://myregistry.com/app:1")],
     "generator.yaml:13:5: error: builds[0].image: image must not contain a URL scheme"),
    ("tag for tags", [], [("image: app:1\n", "image: app:1\n    tag: [v1]\n")],
     "generator.yaml:14:5: error: builds[0].tag: unknown key 'tag' in build\n  hint: did you mean 'tags'?"),
    ("tags as one string", [], [("image: app:1\n", "image: app:1\n    tags: \"v1,latest\"\n")],
     "builds[0].tags: expected a list, got a string with commas\n  hint: write a YAML list: [v1, latest]"),
    ("kind typo", [("kind: registry", "kind: registri")], [],
     "connections[0].kind: 'registri' is not one of the 45 known values\n  hint: did you mean 'registry'"),
    ("quoted boolean", [("url: https://myregistry.com/org", "url: https://myregistry.com/org\n      insecure: \"true\"")], [],
     "connections[0].schema.insecure: expected true or false, got the string 'true'\n  hint: drop the quotes: true"),
    ("missing catalog", [], [("catalog: [connections.yaml]", "catalog: [connections.yaml, missing.yaml]")],
     "generator.yaml:5:29: error: catalog[1]: catalog 'missing.yaml' not found: no file missing.yaml\n"
     "  hint: fix the path; relative paths start at "),
]


def _write(tmp_path: Path, catalog_edits: list, config_edits: list) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    catalog, config = GOOD_CATALOG, GOOD_CONFIG
    for old, new in catalog_edits:
        assert old in catalog
        catalog = catalog.replace(old, new)
    for old, new in config_edits:
        assert old in config
        config = config.replace(old, new)
    (app / "connections.yaml").write_text(catalog)
    (app / "generator.yaml").write_text(config)
    (app / "config.json").write_text('{"auths": {' + f'"myregistry.com": {{"auth": "{CANARY}"' + "}")
    (tmp_path / "connections.yaml").write_text(GOOD_CATALOG)
    return app


def test_the_good_input_renders(tmp_path: Path) -> None:
    app = _write(tmp_path, [], [])
    result = run_conngen("render", "generator.yaml", cwd=app, env={"T_USER": "u", "T_PASS": CANARY})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case, catalog_edits, config_edits, expected", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["render", "validate"])
def test_bad_input_gives_a_located_message(tmp_path: Path, command: str, case: str, catalog_edits: list,
                                           config_edits: list, expected: str) -> None:
    app = _write(tmp_path, catalog_edits, config_edits)
    result = run_conngen(command, "generator.yaml", cwd=app, env={"T_USER": "u", "T_PASS": CANARY})
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert CANARY not in result.stderr + result.stdout
    if command == "render":
        assert result.stdout == ""


def test_validate_lists_every_problem_not_just_the_first(tmp_path: Path) -> None:
    app = _write(tmp_path, [("kind: registry", "kind: REGISTRY"), ("mountPath: /kaniko/.docker", "mountPath: rel")],
                 [("image: app:1", "image: app:1\n    colour: red")])
    result = run_conngen("validate", "generator.yaml", cwd=app, env={"T_USER": "u", "T_PASS": CANARY})
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3, result.stderr


def test_validate_json_output_for_ci(tmp_path: Path) -> None:
    app = _write(tmp_path, [("kind: registry", "kind: REGISTRY")], [])
    result = run_conngen("validate", "--output", "json", "generator.yaml", cwd=app)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ok"] is False
    assert report["issues"][0]["file"] == "connections.yaml" and report["issues"][0]["line"] == 3


def test_literal_password_warns_without_echoing_it(tmp_path: Path) -> None:
    app = _write(tmp_path, [], [("password: {env: T_PASS}", f"password: {CANARY}")])
    result = run_conngen("render", "generator.yaml", cwd=app, env={"T_USER": "u"})
    assert result.returncode == 0, result.stderr
    assert "warning: credentials.docker-conf.password: credential written as a literal" in result.stderr
    assert CANARY not in result.stderr


def test_validating_a_config_and_its_catalog_together_reports_each_problem_once(tmp_path: Path) -> None:
    app = _write(tmp_path, [("kind: registry", "kind: REGISTRY")], [])
    result = run_conngen("validate", "--skip-credentials", "generator.yaml", "connections.yaml", cwd=app)
    assert result.returncode == 1
    assert result.stderr.count("'REGISTRY' is not one of") == 1, result.stderr


def test_validate_json_names_the_key_path(tmp_path: Path) -> None:
    app = _write(tmp_path, [("mountPath: /kaniko/.docker", "mountPath: rel")], [])
    report = json.loads(run_conngen("validate", "--output", "json", "generator.yaml", cwd=app).stdout)
    assert report["issues"][0]["path"] == "connections[0].secret.mountPath"


def test_validate_names_every_missing_credential(tmp_path: Path) -> None:
    app = _write(tmp_path, [], [])
    result = run_conngen("validate", "generator.yaml", cwd=app)
    for variable in ("T_USER", "T_PASS"):
        assert f"environment variable {variable} is not set" in result.stderr


@pytest.mark.parametrize("case, catalog_edits, config_edits, expected", CASES, ids=[c[0] for c in CASES])
def test_every_problem_says_how_to_fix_it(tmp_path: Path, case: str, catalog_edits: list, config_edits: list,
                                          expected: str) -> None:
    app = _write(tmp_path, catalog_edits, config_edits)
    result = run_conngen("validate", "--output", "json", "generator.yaml", cwd=app, env={"T_USER": "u", "T_PASS": "p"})
    issues = json.loads(result.stdout)["issues"]
    assert issues and all(i["hint"] for i in issues), [i["message"] for i in issues if not i["hint"]]
    assert "kustomization" not in result.stdout  # a plain CLI run: no kustomize-only advice
