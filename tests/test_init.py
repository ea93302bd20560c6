"""`conngen init`: the scaffold renders, builds through real kustomize, validates strictly, never overwrites."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, assert_valid_k8s, load_stream, require_tool, run_conngen

LOGIN = {"REGISTRY_USERNAME": "scaffold-user", "REGISTRY_PASSWORD": "scaffold-pass-not-real"}


def _init(tmp_path: Path, *flags: str, name: str = "demo") -> Path:
    target = tmp_path / name
    result = run_conngen("init", str(target), *flags, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return target


def _docker_config(objects: list[dict]) -> dict:
    secret, = [o for o in objects if o["kind"] == "Secret"]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))


def test_init_writes_the_example_and_no_secret(tmp_path: Path) -> None:
    target = _init(tmp_path)
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == ["README.md", "connections.yaml", "creds/.gitignore", "creds/README", "generator.yaml",
                       "kustomization.yaml", "schemas/catalog.schema.json", "schemas/config.schema.json"]
    config = (target / "generator.yaml").read_text(encoding="utf-8")
    assert "{env: REGISTRY_USERNAME}" in config and "{env: REGISTRY_PASSWORD}" in config
    kustomization = load_stream((target / "kustomization.yaml").read_text(encoding="utf-8"))[0]
    assert kustomization["generators"] == ["generator.yaml"]
    readme = (target / "README.md").read_text(encoding="utf-8")
    for command in ("conngen render generator.yaml", "conngen install", "kubectl kustomize --enable-alpha-plugins ."):
        assert command in readme


def test_catalog_has_the_seed_registry_connections_at_a_reserved_name(tmp_path: Path) -> None:
    target = _init(tmp_path)
    scaffolded = load_stream((target / "connections.yaml").read_text(encoding="utf-8"))[0]
    seed = load_stream((FIXTURES / "seed" / "connections.yaml").read_text(encoding="utf-8"))[0]
    for connection in seed["connections"]:
        connection["schema"]["url"] = "https://registry.example.com/org/repo"
    assert scaffolded == seed


def test_every_host_init_writes_is_a_reserved_example_name(tmp_path: Path) -> None:
    """RFC 2606: an example copied as is must reach nobody's real registry or repository."""
    import re

    target = _init(tmp_path)
    text = "".join((target / name).read_text(encoding="utf-8") for name in ("generator.yaml", "connections.yaml",
                                                                            "README.md", "creds/README"))
    hosts = set(re.findall(r"(?:https?|git)://([^/:\s]+)", text))
    assert hosts and all(h == "example.com" or h.endswith(".example.com") for h in hosts), hosts


def test_render_with_env_credentials_gives_valid_objects(tmp_path: Path) -> None:
    target = _init(tmp_path)
    result = run_conngen("render", "generator.yaml", cwd=target, env=LOGIN)
    assert result.returncode == 0, result.stderr
    objects = load_stream(result.stdout)
    assert sorted(o["kind"] for o in objects) == ["Job", "Secret"]
    assert_valid_k8s(objects)
    auths = _docker_config(objects)["auths"]
    assert auths["registry.example.com"]["username"] == "scaffold-user"
    job, = [o for o in objects if o["kind"] == "Job"]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--destination=registry.example.com/org/repo/app:0.1.0" in args


def test_render_without_the_env_vars_names_them(tmp_path: Path) -> None:
    target = _init(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in LOGIN}
    result = subprocess.run([sys.executable, "-m", "generator", "render", "generator.yaml"], cwd=target, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "generator.yaml:10:" in result.stderr and "REGISTRY_USERNAME is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("builder", ["kaniko", "dockerizer"])
def test_kustomize_builds_the_scaffold(tmp_path: Path, plugin_home: dict, builder: str) -> None:
    target = _init(tmp_path, "--builder", builder, "--registry-url", "registry.example.com:5000/team")
    result = subprocess.run([require_tool("kubectl"), "kustomize", "--enable-alpha-plugins", str(target)],
                            env={**os.environ, **plugin_home, **LOGIN}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    objects = load_stream(result.stdout)
    assert_valid_k8s(objects)
    assert list(_docker_config(objects)["auths"]) == ["registry.example.com:5000"]
    job, = [o for o in objects if o["kind"] == "Job"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == builder
    assert "registry.example.com:5000/team/app:0.1.0" in " ".join(container["args"])
    secret_name = next(o["metadata"]["name"] for o in objects if o["kind"] == "Secret")
    assert secret_name == "docker-conf"  # mounted by the Job: never hashed, so a rotation changes no Job
    volumes = job["spec"]["template"]["spec"]["volumes"]
    assert secret_name in [v.get("secret", {}).get("secretName") for v in volumes]


def test_validate_and_explain_accept_the_scaffold(tmp_path: Path) -> None:
    target = _init(tmp_path, "--builder", "dockerizer")
    result = run_conngen("validate", "--skip-credentials", "--output", "json", "generator.yaml", "connections.yaml",
                         cwd=target)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True  # the one warning is the dockerizer's, about the node's Docker socket
    assert [(i["severity"], i["path"]) for i in report["issues"]] == [("warning", "builds[0].builder")]
    explained = json.loads(run_conngen("explain", "--output", "json", "generator.yaml", cwd=target).stdout)
    assert explained["ok"] is True
    assert [(b["builder"], b["reads"]) for b in explained["builds"]] == [("dockerizer", "/root/.docker/config.json")]


def test_second_init_refuses_and_names_the_file(tmp_path: Path) -> None:
    target = _init(tmp_path)
    config = target / "generator.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    result = run_conngen("init", str(target), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{target / 'generator.yaml'}: error: already exists" in result.stderr
    assert config.read_text(encoding="utf-8").endswith("# edited\n")


def test_one_existing_file_blocks_every_write(tmp_path: Path) -> None:
    target = tmp_path / "partial"
    (target / "creds").mkdir(parents=True)
    (target / "creds" / "README").write_text("mine\n", encoding="utf-8")
    result = run_conngen("init", str(target), cwd=tmp_path)
    assert result.returncode == 1
    assert "creds/README: error: already exists" in result.stderr
    assert sorted(p.name for p in target.rglob("*")) == ["README", "creds"]
    assert (target / "creds" / "README").read_text(encoding="utf-8") == "mine\n"


def test_bad_registry_url_is_a_user_error(tmp_path: Path) -> None:
    result = run_conngen("init", str(tmp_path / "x"), "--registry-url", "ftp://registry.example.com", cwd=tmp_path)
    assert result.returncode == 1
    assert "--registry-url: error: registry url scheme 'ftp' is not supported" in result.stderr
    assert not (tmp_path / "x").exists()

