#!/usr/bin/env python3
"""Deterministic benchmark inputs: N-registry catalogs, conngen configs and kustomize bases.

Every value is derived from the registry index alone, so two runs (or two machines)
benchmark byte-identical inputs. Usable as a module (run.py) or by hand:
``python benchmarks/gen_catalog.py N OUTDIR`` writes a catalog and config to try conngen on.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

CONFIG_FILE = "conngen.yaml"
CATALOG_FILE = "connections.yaml"
REGISTRIES_TSV = "registries.tsv"
EMAIL = "ops@acme.example"
MOUNT_PATH = "/kaniko/.docker"
KANIKO_IMAGE = "gcr.io/kaniko-project/executor:latest"

# libyaml keeps writing a 10k catalog from dominating set-up time; output is identical.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def registry_url(i: int) -> str:
    """The catalog's `schema.url` for registry i (Polyaxon docs put a scheme in it)."""
    return f"https://reg{i}.example.com/org"


def username(i: int) -> str:
    """Registry i's user name, as stored in creds/user-i."""
    return f"bot-{i}"


def password(i: int) -> str:
    """Registry i's password, as stored in creds/pass-i."""
    return f"pw-{i:06d}-Zk3q"


def connection(i: int) -> dict[str, Any]:
    """One Polyaxon registry connection entry, valid for both conngen and Polyaxon 2.18."""
    name = f"reg-{i}"
    return {
        "name": name,
        "kind": "registry",
        "schema": {"url": registry_url(i)},
        "secret": {"name": name, "mountPath": MOUNT_PATH},
    }


def build(i: int) -> dict[str, str]:
    """One kaniko build that pushes to registry i."""
    return {
        "name": f"build-{i}",
        "connection": f"reg-{i}",
        "builder": "kaniko",
        "image": f"app-{i}:1.0.0",
        "context": f"git://github.com/acme/app-{i}.git#refs/heads/main",
    }


def generator_config(n: int) -> dict[str, Any]:
    """The ConnectionGenerator config for n registries, each with credentials and one build."""
    return {
        "apiVersion": "conngen.dev/v1",
        "kind": "ConnectionGenerator",
        "metadata": {"name": "bench"},
        "catalog": [CATALOG_FILE],
        "credentials": {
            f"reg-{i}": {
                "username": {"file": f"creds/user-{i}"},
                "password": {"file": f"creds/pass-{i}"},
                "email": EMAIL,
            }
            for i in range(n)
        },
        "builds": [build(i) for i in range(n)],
    }


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=_DUMPER, sort_keys=False))


def write_catalog(root: Path, n: int) -> Path:
    """Write connections.yaml, creds/ and conngen.yaml for n registries under root; return the config."""
    _dump(root / CATALOG_FILE, {"connections": [connection(i) for i in range(n)]})
    creds = root / "creds"
    creds.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (creds / f"user-{i}").write_text(username(i))
        (creds / f"pass-{i}").write_text(password(i))
    config = root / CONFIG_FILE
    _dump(config, generator_config(n))
    return config


def write_registries_tsv(root: Path, n: int) -> Path:
    """Write name, server, user, password, email per line: the kubectl loop's input."""
    path = root / REGISTRIES_TSV
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"reg-{i}\t{registry_url(i)}\t{username(i)}\t{password(i)}\t{EMAIL}\n" for i in range(n)))
    return path


def docker_config_json(i: int) -> str:
    """The `.dockerconfigjson` payload for registry i, shaped as kubectl writes it."""
    auth = base64.b64encode(f"{username(i)}:{password(i)}".encode()).decode()
    host = urlsplit(registry_url(i)).netloc
    entry = {"username": username(i), "password": password(i), "email": EMAIL, "auth": auth}
    return json.dumps({"auths": {host: entry}}, separators=(",", ":"))


def reference_job(i: int) -> dict[str, Any]:
    """A kaniko Job mounting registry i's secret as config.json: the hand-written baseline."""
    url = urlsplit(registry_url(i))
    target = f"{url.netloc}{url.path}/{build(i)['image']}"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"build-{i}"},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "kaniko",
                            "image": KANIKO_IMAGE,
                            "args": [f"--context={build(i)['context']}", f"--destination={target}"],
                            "volumeMounts": [{"name": "docker-config", "mountPath": MOUNT_PATH, "readOnly": True}],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "docker-config",
                            "secret": {
                                "secretName": f"reg-{i}",
                                "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
                            },
                        }
                    ],
                }
            },
        },
    }


def write_conngen_base(root: Path, n: int) -> Path:
    """A kustomize base whose n Secrets and n Jobs all come from the conngen generator plugin."""
    write_catalog(root, n)
    _dump(root / "kustomization.yaml", {"generators": [CONFIG_FILE]})
    return root


def write_builtin_base(root: Path, n: int) -> Path:
    """The same output without conngen: built-in secretGenerator plus n static Job files."""
    (root / "dockerconfig").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / "dockerconfig" / f"reg-{i}.json").write_text(docker_config_json(i))
        _dump(root / "jobs" / f"build-{i}.yaml", reference_job(i))
    kustomization = {
        "resources": [f"jobs/build-{i}.yaml" for i in range(n)],
        "secretGenerator": [
            {
                "name": f"reg-{i}",
                "type": "kubernetes.io/dockerconfigjson",
                "files": [f".dockerconfigjson=dockerconfig/reg-{i}.json"],
            }
            for i in range(n)
        ],
    }
    _dump(root / "kustomization.yaml", kustomization)
    return root


def main(argv: list[str]) -> int:
    """Write an N-registry catalog and config into OUTDIR, for trying conngen by hand."""
    if len(argv) != 3 or not argv[1].isdigit():
        print(f"usage: {argv[0]} N OUTDIR", file=sys.stderr)
        return 2
    print(write_catalog(Path(argv[2]), int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
