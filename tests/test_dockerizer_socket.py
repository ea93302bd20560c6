"""The dockerizer's Docker socket: said where the dockerizer is chosen, and movable on the node."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REGCRED_CATALOG, load_stream, run_conngen

CONFIG = """\
apiVersion: conngen.dev/v1
kind: ConnectionGenerator
metadata: {name: t}
catalog: connections.yaml
builds:
  - {name: a, connection: reg, builder: dockerizer, image: a:1, context: "git://github.com/acme/a.git#refs/heads/main"}
  - {name: b, connection: reg, builder: dockerizer, image: b:1, context: "git://github.com/acme/b.git#refs/heads/main"}
"""


def _app(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "connections.yaml").write_text(REGCRED_CATALOG)
    (tmp_path / "generator.yaml").write_text(CONFIG + extra)
    return tmp_path / "generator.yaml"


def _socket_volumes(stdout: str) -> list[tuple[dict, list[dict]]]:
    out = []
    for job in (o for o in load_stream(stdout) if o["kind"] == "Job"):
        pod = job["spec"]["template"]["spec"]
        mounts = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "docker-socket"]
        out.append(([v for v in pod["volumes"] if v["name"] == "docker-socket"][0], mounts))
    return out


def test_the_warning_names_the_socket_once_per_config(tmp_path: Path) -> None:
    result = run_conngen("render", str(_app(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning: builds[") == 1  # (the other warning: regcred is an existing Secret)
    assert "generator.yaml:6:" in result.stderr and "needs Docker Engine on every node" in result.stderr
    assert "Pod Security 'baseline' refuses" in result.stderr and "hint: use kaniko or buildkit" in result.stderr
    strict = run_conngen("render", "--strict", str(_app(tmp_path)))
    assert strict.returncode == 1 and strict.stdout == ""


def test_the_node_side_of_the_socket_is_configurable(tmp_path: Path) -> None:
    config = _app(tmp_path, "builders:\n  dockerizer: {dockerSocket: /run/k3s/docker.sock}\n")
    result = run_conngen("render", str(config))
    assert result.returncode == 0, result.stderr
    for volume, mounts in _socket_volumes(result.stdout):
        assert volume == {"name": "docker-socket", "hostPath": {"path": "/run/k3s/docker.sock", "type": "Socket"}}
        assert [m["mountPath"] for m in mounts] == ["/var/run/docker.sock"]  # where docker-py looks in the pod
    assert "/run/k3s/docker.sock" in result.stderr
    explained = json.loads(run_conngen("explain", "--output", "json", str(config)).stdout)
    assert [b["nodePaths"] for b in explained["builds"]] == [["/run/k3s/docker.sock"]] * 2


def test_a_socket_for_a_builder_without_one_is_refused(tmp_path: Path) -> None:
    result = run_conngen("render", str(_app(tmp_path, "builders:\n  kaniko: {dockerSocket: /run/docker.sock}\n")))
    assert result.returncode == 1
    assert "builders.kaniko.dockerSocket: kaniko does not use the node's Docker socket" in result.stderr
    assert "hint: set dockerSocket under builders.dockerizer" in result.stderr
    relative = run_conngen("render", str(_app(tmp_path, "builders:\n  dockerizer: {dockerSocket: run/docker.sock}\n")))
    assert relative.returncode == 1 and "builders.dockerizer.dockerSocket" in relative.stderr
