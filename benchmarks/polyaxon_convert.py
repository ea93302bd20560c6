"""Peer: Polyaxon 2.18 converts each build of a conngen config into a kaniko Job, in one process.

Runs under the polyaxon venv's Python (run.py creates it), never under the project's:
    python polyaxon_convert.py CONFIG KANIKO_COMPONENT > jobs.yaml
It reads the same catalog and builds conngen reads, so both sides do the same job. Each
operation is handed over as a dict and each Job printed as JSON (a YAML subset) so the
timing is Polyaxon's conversion, not PyYAML's pure-Python emitter.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient
from polyaxon import settings
from polyaxon._k8s.executor.executor import Executor
from polyaxon._schemas.agent import AgentConfig

# An agent config must name an artifacts store; a host path needs no credentials.
ARTIFACTS_STORE = {
    "name": "store",
    "kind": "host_path",
    "schema": {"hostPath": "/tmp/plx-store", "mountPath": "/plx-store"},
}


def operation(build: dict[str, str], component: dict[str, Any]) -> dict[str, Any]:
    """The Polyaxon operation that runs the kaniko component for one conngen build."""
    return {
        "version": 1.1,
        "kind": "operation",
        "params": {
            "destination": {"value": build["image"], "connection": build["connection"]},
            "context": {"value": build["context"]},
        },
        "component": component,
    }


def main(argv: list[str]) -> int:
    """Load the catalog into the agent config, then convert every build to a Job on stdout."""
    config_path, component_path = Path(argv[1]), Path(argv[2])
    config = yaml.safe_load(config_path.read_text())
    component = yaml.safe_load(component_path.read_text())
    catalog = [
        entry
        for name in config["catalog"]
        for entry in yaml.safe_load((config_path.parent / name).read_text())["connections"]
    ]
    settings.set_agent_config(
        AgentConfig.from_dict({"namespace": "default", "connections": catalog, "artifactsStore": ARTIFACTS_STORE})
    )
    api = ApiClient()
    out = sys.stdout
    for i, build in enumerate(config["builds"]):
        job = Executor.make_and_convert(
            owner_name="acme",
            project_name="bench",
            run_uuid=f"{i:032x}",
            run_name=build["name"],
            content=operation(build, component),
        )
        out.write("---\n" + json.dumps(api.sanitize_for_serialization(job)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
