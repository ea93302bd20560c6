"""Hostile and broken input: nothing crashes, nothing leaks, nothing escapes, nothing changes meaning."""

from __future__ import annotations

import base64
import json
import re
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_stream, run_conngen
from generator.errors import UserError
from generator.model.names import DNS_LABEL, dns_label
from generator.pipeline import generate, load
from generator.read.yamlio import parse_yaml

CANARY = "canary-Hq9-leak-check"

BASE = {
    "apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator", "metadata": {"name": "t"},
    "connections": [{"name": "reg", "kind": "registry", "schema": {"url": "https://r.example.com/org"},
                     "secret": {"name": "docker-conf"}}],
    "credentials": {"docker-conf": {"username": {"env": "H_USER"}, "password": {"env": "H_PASS"}}},
    "builds": [{"name": "b", "connection": "reg", "image": "app:1", "context": "git://github.com/acme/app.git"}],
}


def _render(config: dict, root: Path, environ: dict | None = None) -> list[dict]:
    cfg, warnings = load(json.loads(json.dumps(config)), "generator.yaml", root)
    return generate(cfg, environ or {"H_USER": "u", "H_PASS": CANARY}, warnings).objects


# 1. YAML resource limits -------------------------------------------------------------------------

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize("text, message", [
    (BOMB, "expands to more than"),
    ("a: " + "[" * 500 + "]" * 500, "nests more than 64 levels"),
    ("a: &x [*x]", "refers to itself"),
])
def test_resource_attacks_are_refused_fast(text: str, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(UserError) as info:
        parse_yaml(text, "f.yaml")
    assert message in info.value.issues[0].message
    assert time.perf_counter() - start < 1.0


def test_alias_bomb_catalog_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "connections.yaml").write_text(BOMB.replace("a: &a", "x: &a") + "connections: []\n")
    (tmp_path / "generator.yaml").write_text(json.dumps({**BASE, "catalog": ["connections.yaml"], "credentials": {},
                                                          "builds": []}))
    result = run_conngen("validate", str(tmp_path / "generator.yaml"))
    assert result.returncode == 1 and "expands to more than" in result.stderr


def test_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "generator.yaml"
    with big.open("w") as fh:
        fh.write("# " + "x" * 100 + "\n")
        fh.truncate(9 * 1024 * 1024)
    result = run_conngen("render", str(big))
    assert result.returncode == 1 and "more than the limit" in result.stderr


# 2. Injection: values come out as the same literal, or are refused -----------------------------

HOSTILE = ["line\nbreak", "---\nkind: Secret", "{{ 7 * 7 }}", "{% raw %}", "\"quoted\" 'single'", "key: value",
           "!!python/object:os.system", "&anchor *alias", "üñí©ødé ☃ 𝄞", "\t tab", "#comment", "- item", "a" * 5000,
           "\\u0041", "${HOME} $(HOME)", "null", "true", "0644"]


@pytest.mark.parametrize("value", HOSTILE)
def test_free_text_values_round_trip_literally(tmp_path: Path, value: str) -> None:
    config = json.loads(json.dumps(BASE))
    conn = config["connections"][0]
    conn["env"] = {"HOSTILE": value}
    conn["annotations"] = {"example.com/hostile": value}
    config["builds"][0]["buildArgs"] = {"HOSTILE": value}
    objects = _render(config, tmp_path)
    job = next(o for o in objects if o["kind"] == "Job")
    # and the same after a trip through the emitted YAML text
    from generator.render.emit import yaml_stream
    reparsed = next(o for o in load_stream(yaml_stream(objects)) if o["kind"] == "Job")
    for candidate in (job, reparsed):
        container = candidate["spec"]["template"]["spec"]["containers"][0]
        assert {"name": "HOSTILE", "value": value} in container["env"]
        assert candidate["spec"]["template"]["metadata"]["annotations"]["example.com/hostile"] == value
        assert f"--build-arg=HOSTILE={value}" in container["args"]
    assert len(load_stream(yaml_stream(objects))) == len(objects)  # no value split a document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_env_value_round_trips(tmp_path: Path, value: str) -> None:
    config = json.loads(json.dumps(BASE))
    config["connections"][0]["env"] = [{"name": "V", "value": value}]
    try:
        objects = _render(config, tmp_path)
    except UserError:
        return  # refused with a message is fine (unencodable text)
    from generator.render.emit import yaml_stream
    job = next(o for o in load_stream(yaml_stream(objects)) if o["kind"] == "Job")
    assert {"name": "V", "value": value} in job["spec"]["template"]["spec"]["containers"][0]["env"]


@pytest.mark.parametrize("field, value", [
    ("name", "b\nkind: Secret"), ("image", "app:1\n---"), ("image", "app:{{x}}"), ("context", "git://x\n--insecure"),
    ("dockerfile", "Dockerfile\n--insecure"), ("contextSubPath", "a\nb"), ("connection", "reg\n"),
])
def test_structural_fields_refuse_control_characters(tmp_path: Path, field: str, value: str) -> None:
    config = json.loads(json.dumps(BASE))
    config["builds"][0][field] = value
    with pytest.raises(UserError):
        _render(config, tmp_path)


def test_catalog_values_are_never_evaluated_as_templates(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["connections"][0]["env"] = {"T": "{{ job.name }}{{ 7*7 }}"}
    job = next(o for o in _render(config, tmp_path) if o["kind"] == "Job")
    assert {"name": "T", "value": "{{ job.name }}{{ 7*7 }}"} in job["spec"]["template"]["spec"]["containers"][0]["env"]


@pytest.mark.parametrize("body, message", [
    ("{{ job.__class__ }}", "template error"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() | json }}", "template error"),
    ("{{ job.name }}", "without the json filter"),
    ("{{ job.nope | json }}", "template error: 'generator.plan.planner.JobPlan object' has no attribute 'nope'"),
    ("{{ nothing | yaml }}", "template error: 'nothing' is undefined"),
    # printable if a read of a record or a mapping skipped the sandbox's check
    ("{{ job.__struct_fields__ | json }}", "template error"),
    ("{{ job.credential.__struct_fields__ | json }}", "template error"),
    ('{{ job.labels.update({"a": "b"}) | json }}', "is unsafe"),
    ("{% for %}", "template syntax error"),
])
def test_user_templates_are_sandboxed_and_json_only(tmp_path: Path, body: str, message: str) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "kaniko.yaml.j2").write_text(body + "\n")
    (tmp_path / "generator.yaml").write_text(json.dumps(BASE))
    result = run_conngen("render", "--templates", str(templates), str(tmp_path / "generator.yaml"),
                         env={"H_USER": "u", "H_PASS": CANARY})
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert CANARY not in result.stderr + result.stdout


# 3. Secret hygiene ------------------------------------------------------------------------------

def _leak_sources(tmp_path: Path) -> dict:
    (tmp_path / "pass.txt").write_text(CANARY + "\n")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.example.com": {
        "auth": base64.b64encode(f"u:{CANARY}".encode()).decode(), "password": CANARY}}}))
    return {"env": {"password": {"env": "H_PASS"}}, "file": {"password": {"file": "pass.txt"}},
            "literal": {"password": CANARY}}


@pytest.mark.parametrize("source", ["env", "file", "literal", "dockerConfig"])
@pytest.mark.parametrize("command", ["render", "validate", "explain"])
def test_canary_never_leaves_the_secret_data(tmp_path: Path, source: str, command: str) -> None:
    sources = _leak_sources(tmp_path)
    config = json.loads(json.dumps(BASE))
    config["credentials"]["docker-conf"] = ({"dockerConfig": "config.json"} if source == "dockerConfig"
                                            else {"username": "u", **sources[source]})
    config["builds"].append({"name": "bad", "connection": "missing", "image": "app:1", "context": "dir:///x"})
    (tmp_path / "generator.yaml").write_text(json.dumps(config))
    for cfg in (config, {**config, "builds": config["builds"][:1]}):
        (tmp_path / "generator.yaml").write_text(json.dumps(cfg))
        result = run_conngen(command, str(tmp_path / "generator.yaml"), env={"H_PASS": CANARY})
        assert CANARY not in result.stderr
        if command != "render" or result.returncode != 0:
            assert CANARY not in result.stdout
        else:  # only inside the Secret's base64 data
            secret = load_stream(result.stdout)[0]
            assert CANARY not in json.dumps({**secret, "data": None})
            assert CANARY in base64.b64decode(secret["data"][".dockerconfigjson"]).decode()


def test_malformed_docker_config_error_does_not_quote_it(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auths": {"r.example.com": {"auth": "' + CANARY + '"}')
    config = {**BASE, "credentials": {"docker-conf": {"dockerConfig": "config.json"}}}
    (tmp_path / "generator.yaml").write_text(json.dumps(config))
    result = run_conngen("render", str(tmp_path / "generator.yaml"))
    assert result.returncode == 1 and "not valid JSON" in result.stderr and CANARY not in result.stderr


# 4. Paths ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "dirlink", "sibling"])
def test_paths_outside_the_root_are_refused_unless_allowed(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pass.txt").write_text(CANARY)
    root = tmp_path / "root"
    root.mkdir()
    ref = {"dotdot": "../outside/pass.txt", "absolute": str(outside / "pass.txt"), "symlink": "link.txt",
           "dirlink": "d/pass.txt", "sibling": "creds/link.txt"}[kind]
    if kind == "symlink":
        os.symlink(outside / "pass.txt", root / "link.txt")
    if kind == "dirlink":
        os.symlink(outside, root / "d")
    config = json.loads(json.dumps(BASE))
    if kind == "sibling":  # directories are resolved once: the second file's own link still counts
        (root / "creds").mkdir()
        (root / "creds" / "user.txt").write_text("u")
        os.symlink(outside / "pass.txt", root / "creds" / "link.txt")
        config["credentials"]["docker-conf"]["username"] = {"file": "creds/user.txt"}
    config["credentials"]["docker-conf"]["password"] = {"file": ref}
    (root / "generator.yaml").write_text(json.dumps(config))
    env = {"H_USER": "u"}
    refused = run_conngen("render", str(root / "generator.yaml"), env=env)
    assert refused.returncode == 1
    assert "is outside the root" in refused.stderr and "--load-restrictor LoadRestrictionsNone" in refused.stderr
    assert "generator.yaml" in refused.stderr and CANARY not in refused.stderr
    allowed = run_conngen("render", "--load-restrictor", "LoadRestrictionsNone", str(root / "generator.yaml"), env=env)
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize(("content", "expected"), [(b"pw\r\n", "pw"), (b"pw\n", "pw"), (b"p\rw", "p\nw"),
                                                  ("pässword\n".encode(), "pässword")])
def test_credential_files_read_as_text(tmp_path: Path, content: bytes, expected: str) -> None:
    """A password file saved on Windows gives the same secret as one saved on Linux."""
    (tmp_path / "pass.txt").write_bytes(content)
    config = json.loads(json.dumps(BASE))
    config["credentials"]["docker-conf"]["password"] = {"file": "pass.txt"}
    secret = next(o for o in _render(config, tmp_path) if o["kind"] == "Secret")
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    assert next(iter(auths.values()))["password"] == expected


@pytest.mark.parametrize("kind", ["directory", "huge", "binary"])
def test_unreadable_credential_files_are_named_not_shown(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "pass.txt"
    if kind == "directory":
        target.mkdir()
    elif kind == "huge":
        with open(target, "wb") as fh:
            fh.truncate(9 * 1024 * 1024)  # sparse: refused by its size before a byte is read
    else:
        target.write_bytes(CANARY.encode() + b"\xff")
    config = json.loads(json.dumps(BASE))
    config["credentials"]["docker-conf"]["password"] = {"file": "pass.txt"}
    with pytest.raises(UserError) as err:
        _render(config, tmp_path)
    message = str(err.value.issues[0].message)
    assert "pass.txt" in message and CANARY not in message
    assert {"directory": "IsADirectoryError", "huge": "too large", "binary": "UnicodeDecodeError"}[kind] in message


# 6. Kubernetes limits ---------------------------------------------------------------------------

@given(st.lists(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=300),
                min_size=2, max_size=6, unique=True))
def test_generated_names_are_valid_and_distinct(names: list[str]) -> None:
    import re

    labels = [dns_label(n) for n in names]
    assert all(re.fullmatch(DNS_LABEL, label) and len(label) <= 63 for label in labels)
    assert len(set(labels)) == len(labels)


def test_long_and_unicode_build_names_give_valid_jobs(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["builds"] = [dict(config["builds"][0], name=n) for n in ("Trainer", "trainer", "x" * 200, "x" * 201)]
    jobs = [o for o in _render(config, tmp_path) if o["kind"] == "Job"]
    names = [j["metadata"]["name"] for j in jobs]
    assert len(set(names)) == 4 and all(len(n) <= 63 for n in names)
    from conftest import assert_valid_k8s
    assert_valid_k8s(jobs)


def test_secret_over_one_mebibyte_is_refused(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["connections"] = [{"name": f"r{i}", "kind": "registry", "schema": {"url": f"https://r{i}.example.com"},
                              "secret": {"name": "docker-conf"}} for i in range(4000)]
    config["builds"] = []
    with pytest.raises(UserError, match="over the 1 MiB limit"):
        _render(config, tmp_path, {"H_USER": "u", "H_PASS": "p" * 300})


# 7. Output integrity ----------------------------------------------------------------------------

def test_output_does_not_depend_on_input_key_order(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["connections"][0]["env"] = {"A": "1", "B": "2", "C": "3"}
    config["connections"][0]["annotations"] = {"x.io/a": "1", "x.io/b": "2"}
    config["builds"][0]["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}

    def reorder(value: object) -> object:
        if isinstance(value, dict):
            return {k: reorder(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reorder(v) for v in value]
        return value

    from generator.render.emit import yaml_stream
    assert yaml_stream(_render(config, tmp_path)) == yaml_stream(_render(reorder(config), tmp_path))


def test_output_directory_gets_no_partial_files_when_generation_fails(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["builds"].append({"name": "bad", "connection": "missing", "image": "app:1", "context": "dir:///x"})
    (tmp_path / "generator.yaml").write_text(json.dumps(config))
    out = tmp_path / "out"
    result = run_conngen("render", "-o", str(out), str(tmp_path / "generator.yaml"), env={"H_USER": "u", "H_PASS": "p"})
    assert result.returncode == 1
    assert not out.exists() or not list(out.iterdir())


def test_mixed_key_types_in_resources_are_a_message_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzz/run.py: sorting {1: ..., "limits": ...} raised TypeError."""
    config = json.loads(json.dumps(BASE))
    config["builds"][0]["resources"] = {"limits": {"cpu": "1"}}
    cfg = json.loads(json.dumps(config))
    cfg["builds"][0]["resources"] = {1: {"cpu": "1"}, "limits": {"cpu": "1"}}
    with pytest.raises(UserError, match="unknown key 1 in resources"):
        load(cfg, "generator.yaml", tmp_path)


# 8. Round two (#15): quoting, dockerConfig as clients read it, exit codes, signals, limits -----

def _write(root: Path, config: dict) -> Path:
    path = root / "generator.yaml"
    path.write_text(json.dumps(config))
    return path


def _krm(root: Path, config: dict, environ: dict) -> tuple[int, str, str]:
    """The KRM function in-process, run in `root` as kustomize runs it."""
    import io

    from generator.kustomize.krm import run

    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                     "functionConfig": config}
    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(root)
    try:
        code = run(json.dumps(resource_list), out, err, environ)
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def test_a_huge_value_is_cut_in_the_message(tmp_path: Path) -> None:
    config = json.loads(json.dumps(BASE))
    config["builds"][0]["tags"] = ["a b" * 300_000]
    result = run_conngen("render", str(_write(tmp_path, config)), env={"H_USER": "u", "H_PASS": "p"})
    assert result.returncode == 1 and "(900000 characters)" in result.stderr
    assert max(map(len, result.stderr.splitlines())) < 300, result.stderr[:500]


def test_every_message_quotes_through_the_one_helper() -> None:
    """No f-string in generator/ quotes with !r: each goes through errors.shown, which cuts."""
    import re

    package = Path(__file__).resolve().parent.parent / "generator"
    allowed = ("model/records.py", "commands/install.py", "errors.py")
    files = [p for p in package.rglob("*.py") if p.relative_to(package).as_posix() not in allowed]
    assert len(files) > 30  # every sub-package, not just the top level
    offenders = [f"{p.relative_to(package)}:{n}" for p in files
                 for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\{[^{}]*!r\}", line)]
    assert offenders == []


SECRET_KEY = f"{CANARY}.example.com"
BROKEN_DOCKER_CONFIGS = {
    "not an object": {"auths": {SECRET_KEY: CANARY}},
    "not base64": {"auths": {SECRET_KEY: {"auth": CANARY + "!"}}},
    "without 'user:password'": {"auths": {SECRET_KEY: {"auth": base64.b64encode(CANARY.encode()).decode()}}},
    "no auths entry for": {"auths": {SECRET_KEY: {"auth": base64.b64encode(f"u:{CANARY}".encode()).decode()}}},
    "does not match": {"auths": {"r.example.com": {"username": "u", "password": CANARY,
                                                   "auth": base64.b64encode(b"u:other").decode()}}},
}


@pytest.mark.parametrize("problem", sorted(BROKEN_DOCKER_CONFIGS))
def test_a_broken_docker_config_is_never_quoted(tmp_path: Path, problem: str) -> None:
    (tmp_path / "config.json").write_text(json.dumps(BROKEN_DOCKER_CONFIGS[problem]))
    config = {**BASE, "credentials": {"docker-conf": {"dockerConfig": {"file": "config.json"}}}}
    path = _write(tmp_path, config)
    rendered = run_conngen("render", str(path))
    validated = run_conngen("validate", "--output", "json", str(path))
    code, out, err = _krm(tmp_path, config, {})
    assert rendered.returncode == validated.returncode == code == 1
    assert problem in rendered.stderr and problem in validated.stdout and problem in out
    for text in (rendered.stdout, rendered.stderr, validated.stdout, validated.stderr, out, err):
        assert CANARY not in text
        assert base64.b64encode(CANARY.encode()).decode()[:12] not in text


def _docker_config_render(tmp_path: Path, doc: dict, builder: str = "kaniko") -> dict:
    (tmp_path / "config.json").write_text(json.dumps(doc))
    config = json.loads(json.dumps(BASE))
    config["credentials"] = {"docker-conf": {"dockerConfig": {"file": "config.json"}}}
    config["builds"][0]["builder"] = builder
    secret = next(o for o in _render(config, tmp_path) if o["kind"] == "Secret")
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))


def test_docker_config_username_and_password_without_auth_get_auth(tmp_path: Path) -> None:
    """docker-py (the dockerizer), containers/image (buildah) and the kubelet read only `auth`."""
    got = _docker_config_render(tmp_path, {"auths": {"r.example.com": {"username": "u", "password": CANARY}}})
    assert got == {"auths": {"r.example.com": {"username": "u", "password": CANARY,
                                               "auth": base64.b64encode(f"u:{CANARY}".encode()).decode()}}}


def test_a_well_formed_docker_config_is_kept_byte_for_byte(tmp_path: Path) -> None:
    text = json.dumps({"auths": {"r.example.com": {"auth": base64.b64encode(b"u:p").decode()}}}, indent=3)
    (tmp_path / "config.json").write_text(text)
    config = json.loads(json.dumps(BASE))
    config["credentials"] = {"docker-conf": {"dockerConfig": {"file": "config.json"}}}
    secret = next(o for o in _render(config, tmp_path) if o["kind"] == "Secret")
    assert base64.b64decode(secret["data"][".dockerconfigjson"]).decode() == text


@pytest.mark.parametrize("doc, builder, message", [
    ({"auths": {"r.example.com": {}}, "credsStore": "desktop"}, "kaniko", "no builder image ships"),
    ({"auths": {}, "credsStore": "ecr-login"}, "buildah", "a builder mounting this Secret does not ship"),
    ({"auths": {}, "credHelpers": {"r.example.com": "osxkeychain"}}, "kaniko", "no builder image ships"),
    ({"auths": {"r.example.com": {"email": "a@b.c"}}}, "kaniko", "holds no credentials"),
])
def test_docker_config_helpers_no_builder_has_are_refused(tmp_path: Path, doc: dict, builder: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        _docker_config_render(tmp_path, doc, builder)
    assert message in info.value.issues[0].message


def test_a_helper_the_builder_ships_is_accepted(tmp_path: Path) -> None:
    assert _docker_config_render(tmp_path, {"auths": {}, "credsStore": "ecr-login"})["credsStore"] == "ecr-login"


def test_a_non_utf8_credential_variable_is_a_located_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _write(tmp_path, BASE)
    env = {**os.environb, b"H_USER": b"u", b"H_PASS": b"p\xffq"}
    result = subprocess.run([sys.executable, "-m", "generator", "render", str(path)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "generator.yaml" in result.stderr and "H_PASS is not UTF-8" in result.stderr


@pytest.mark.parametrize("line, message", [
    ('- {{ 5 | json }}', "args is not a list of strings"),
    ('volumeMounts: {{ "x" | json }}', "volumeMounts is not a list"),
])
def test_a_template_rendering_a_malformed_pod_is_a_located_error(tmp_path: Path, line: str, message: str) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    source = (Path(__file__).resolve().parent.parent / "templates" / "kaniko.yaml.j2").read_text()
    if line.startswith("-"):
        edited = source.replace("        args:\n", "        args:\n        " + line + "\n", 1)
    else:
        edited = source.replace("volumeMounts: {{ job.volume_mounts | yaml }}", line)
    assert edited != source
    source = edited
    (templates / "kaniko.yaml.j2").write_text(source)
    config = {**BASE, "templates": "templates"}
    for command in ("render", "explain"):
        result = run_conngen(command, str(_write(tmp_path, config)), env={"H_USER": "u", "H_PASS": "p"})
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and "kaniko.yaml.j2" in result.stderr


def _fill_up(limit: int):
    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("case", ["target is a directory", "parent is a file", "disk full"])
def test_output_directory_write_errors_are_located_and_leave_it_unchanged(tmp_path: Path, case: str) -> None:
    import subprocess
    import sys

    path = _write(tmp_path, BASE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "job-b.yaml").write_text("before\n")
    target = out
    if case == "target is a directory":
        (out / "secret-docker-conf.yaml").mkdir()
    elif case == "parent is a file":
        target = out / "job-b.yaml" / "sub"
    result = subprocess.run([sys.executable, "-m", "generator", "render", "-o", str(target), str(path)],
                            env={**os.environ, "H_USER": "u", "H_PASS": "p"}, capture_output=True, text=True,
                            timeout=120, preexec_fn=_fill_up(200) if case == "disk full" else None)
    assert result.returncode == 1, result.stderr
    assert str(target) + ": error:" in result.stderr and "internal error" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(["job-b.yaml"] + (["secret-docker-conf.yaml"]
                                                                             if case == "target is a directory" else []))
    assert (out / "job-b.yaml").read_text() == "before\n"


def test_output_directory_is_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_conngen("render", "-o", str(out), str(_write(tmp_path, BASE)), env={"H_USER": "u", "H_PASS": "p"})
    assert result.returncode == 0, result.stderr
    assert sorted(re.sub(r"-[0-9a-f]{10}\.yaml$", ".yaml", p.name) for p in out.iterdir()) == ["job-b.yaml", "secret-docker-conf.yaml"]


HELM_DOCS = {
    "metadata is text": "kind: Pod\nmetadata: hello\n",
    "annotations are a list": "kind: Pod\nmetadata:\n  name: p\n  annotations: [1]\n",
    "builder is a list": "kind: Pod\nmetadata:\n  name: p\n  annotations: {conngen.dev/registry-connection: reg, "
                         "conngen.dev/builder: [1]}\nspec: {containers: [{name: a}]}\n",
    "complex key": "? [a]\n: b\n",
    "python tag": "!!python/object:os.system {}\n",
}


@pytest.mark.parametrize("case", sorted(HELM_DOCS))
def test_post_render_input_that_is_odd_or_not_plain_data(tmp_path: Path, case: str) -> None:
    result = run_conngen("post-render", str(_write(tmp_path, BASE)), stdin=HELM_DOCS[case],
                         env={"H_USER": "u", "H_PASS": "p"})
    if case in ("metadata is text", "annotations are a list"):  # not annotated for conngen: passed through
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("---\n" + HELM_DOCS[case])
        return
    assert result.returncode == 1, result.stderr
    assert "conngen: error:" in result.stderr and "internal error" not in result.stderr
    assert "document 0 at line 1" in result.stderr or "unknown builder [1]" in result.stderr


def test_a_closed_stdout_is_an_error_not_a_bug(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = _write(tmp_path, BASE)
    for argv in ([sys.executable, "-m", "generator", "render", str(path)],
                 [sys.executable, "-c", "import sys; from generator.kustomize.plugin import main; sys.exit(main())", str(path)]):
        result = subprocess.run(["bash", "-c", 'exec >&-; exec "$@"', "-", *argv], env={**os.environ, "H_USER": "u",
                                "H_PASS": "p", "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(tmp_path), "CONNGEN_CACHE": "off"},
                                capture_output=False, stderr=subprocess.PIPE, text=True, timeout=120)
        assert result.returncode == 1 and "standard output is closed" in result.stderr, result.stderr


def _blocked_reading_stdin(pid: int) -> bool:
    """The process sits in read(0, ...) (x86-64 and arm64 both number read as 0/63: check the fd too)."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in ("0", "63") and int(fields[1], 16) == 0


@pytest.mark.parametrize("mode", ["krm", "post-render"])
def test_ctrl_c_exits_130_quietly(tmp_path: Path, mode: str) -> None:
    import signal
    import subprocess
    import sys

    path = _write(tmp_path, BASE)
    argv = [sys.executable, "-c", "import sys; from generator.kustomize.plugin import main; sys.exit(main())"] if mode == "krm" \
        else [sys.executable, "-m", "generator", "post-render", str(path)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "H_USER": "u", "H_PASS": "p"}, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not _blocked_reading_stdin(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, b"", b"")


#: Runs conngen's CLI (argv[1] == "cli") or plugin entry and reports the process's own peak RSS on
#: stderr at exit (VmHWM: a fork's copy of the test process does not count, as it does in ru_maxrss).
_MEASURED = """
import atexit, sys
def peak():
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    sys.stderr.write("peak-kib " + line.split()[1] + "\\n")
atexit.register(peak)
entry = sys.argv.pop(1)
if entry == "cli":
    from generator.__main__ import main
else:
    from generator.kustomize.plugin import main
sys.exit(main())
"""


def _measured_run(argv: list[str], stdin: object = None) -> tuple[int, str, float, float]:
    """Exit code, stderr, CPU seconds and peak RSS (MiB) of one conngen process."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _MEASURED, *argv], stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "H_USER": "u", "H_PASS": "p"})
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    peak = int(err.rsplit("peak-kib ", 1)[1].split()[0]) / 1024
    return os.waitstatus_to_exitcode(status), err, usage.ru_utime + usage.ru_stime, peak


@pytest.mark.parametrize("source", ["config file", "/dev/zero config", "/dev/zero plugin config", "credential file",
                                    "krm stdin", "post-render stdin"])
def test_oversized_input_is_refused_before_it_is_parsed(tmp_path: Path, source: str) -> None:
    """CPU time and memory, not wall time: refused by size, nothing of it parsed or printed."""
    big = tmp_path / "big.yaml"
    big.write_text("a: [" + ",".join(["x"] * 25_000_000) + "]\n")  # 50 MB of real YAML, not a sparse file
    if source == "credential file":
        path = _write(tmp_path, {**BASE, "credentials": {"docker-conf": {"username": "u", "password": {"file": "pw"}}}})
        os.symlink("/dev/zero", tmp_path / "pw")
    else:
        path = _write(tmp_path, BASE)  # credentials from H_USER/H_PASS: only the input under test is large
    with open(big, "rb") as stdin:
        argv, feed = {
            "config file": (["cli", "render", str(big)], None),
            "/dev/zero config": (["cli", "render", "/dev/zero"], None),
            "/dev/zero plugin config": (["plugin", "/dev/zero"], None),
            "credential file": (["cli", "render", "--load-restrictor", "LoadRestrictionsNone", str(path)], None),
            "krm stdin": (["plugin"], stdin),
            "post-render stdin": (["cli", "post-render", str(path)], stdin),
        }[source]
        code, err, cpu, rss = _measured_run(argv, feed)
    assert code == 1, err
    assert "more than the limit of 8388608 bytes" in err or "is too large" in err, err
    assert rss < 150 and cpu < 3, (rss, cpu)


@pytest.mark.parametrize("how", ["include", "the template itself", "cli --templates"])
def test_template_files_stay_inside_the_root(tmp_path: Path, how: str) -> None:
    """A symlink in the templates directory to a file outside the root is refused, as catalogs are."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.txt").write_text(CANARY + "\n")
    root = tmp_path / "root"
    templates = root / "templates"
    templates.mkdir(parents=True)
    source = (Path(__file__).resolve().parent.parent / "templates" / "kaniko.yaml.j2").read_text()
    assert "        args:\n" in source
    source = source.replace("        args:\n", '{% set leak %}{% include "leak.txt" %}{% endset %}\n'
                            "        args:\n        - {{ leak | trim | json }}\n", 1)
    if how == "the template itself":
        (outside / "kaniko.yaml.j2").write_text(source.replace('{% include "leak.txt" %}', CANARY))
        os.symlink(outside / "kaniko.yaml.j2", templates / "kaniko.yaml.j2")
    else:
        (templates / "kaniko.yaml.j2").write_text(source)
        os.symlink(outside / "leak.txt", templates / "leak.txt")
    config = {**BASE, "templates": "templates"} if how != "cli --templates" else BASE
    path = _write(root, config)
    flags = ["--templates", str(templates)] if how == "cli --templates" else []
    env = {"H_USER": "u", "H_PASS": "p"}
    refused = run_conngen("render", *flags, str(path), env=env)
    assert refused.returncode == 1, refused.stderr
    assert "resolves outside the root" in refused.stderr and CANARY not in refused.stderr + refused.stdout
    allowed = run_conngen("render", "--load-restrictor", "LoadRestrictionsNone", *flags, str(path), env=env)
    assert allowed.returncode == 0 and CANARY in allowed.stdout, allowed.stderr  # the same files, when allowed


def test_a_gcp_key_beside_an_external_secret_is_a_message_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzz/run.py (seed 2026, index 87703): a KeyError, exit 3."""
    config = json.loads(json.dumps(BASE))
    config["generatorOptions"] = {"secretMode": "externalSecret"}
    config["credentials"]["docker-conf"] = {"gcpServiceAccountKey": {"env": "H_PASS"},
                                            "externalSecret": {"storeRef": {"name": "s"},
                                                               "remoteRefs": {"username": {"key": "u"}, "password": {"key": "k"}}}}
    with pytest.raises(UserError, match="takes its values from the secret store"):
        load(config, "generator.yaml", tmp_path)


# 9. The fuzz harness (fuzz/harness.py): a short seeded slice of `python fuzz/run.py` -------------

@pytest.fixture(scope="module")
def harness():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from fuzz.harness import new_harness

    found, workdir = new_harness(seed=15)
    cwd = os.getcwd()
    yield found
    os.chdir(cwd)
    workdir.cleanup()


def test_a_seeded_fuzz_slice_finds_nothing(harness) -> None:
    outcomes = [harness.run(index) for index in range(150)]  # raises on any finding
    assert {o.split()[0] for o in outcomes} == {"pipeline", "plugin", "krm", "post-render", "text"}
    assert sum(o.endswith(" ok") for o in outcomes) >= 20  # deep enough to render, not only to refuse


def test_the_fuzz_oracles_can_fail(harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from fuzz.harness import CANARY, Finding, check_text
    from generator import report

    for leaked in (CANARY, base64.b64encode(b"u:" + CANARY.encode()).decode(), json.dumps({"p": CANARY})):
        with pytest.raises(Finding):
            check_text(f"error: {leaked}", "self-test")
    bad_job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
               "spec": {"template": {"spec": {"containers": [{"name": "a", "args": [5]}]}}}}
    assert harness.validators.problem(bad_job) is not None
    shown = report.format_issue
    leak = base64.b64encode(b"ab" + CANARY.encode()).decode()  # the canary at the third alignment
    monkeypatch.setattr(report, "format_issue", lambda issue, texts=None: f"{shown(issue, texts)} {leak}")
    with pytest.raises(Finding):
        for index in range(0, 200, 5):  # pipeline inputs: some are refused, and their messages checked
            harness.run(index)


def test_a_catalog_name_too_long_for_the_file_system_is_a_located_message(tmp_path: Path) -> None:
    """Found by fuzz/run.py (seed 4242, index 78): stat() refused the name (ENAMETOOLONG), and the
    handler took it for a failed write ("cannot write the output")."""
    path = tmp_path / "generator.yaml"
    path.write_text(json.dumps({"apiVersion": "conngen.dev/v1", "kind": "ConnectionGenerator",
                                "metadata": {"name": "x"}, "catalog": ["a" * 300]}))
    result = run_conngen("render", str(path))
    assert result.returncode == 1
    assert re.match(rf"{re.escape(str(path))}:1:\d+: error: catalog\[0\]: catalog 'a+… \(300 characters\) not found",
                    result.stderr), result.stderr
