"""`conngen explain`: for each build, the path its credentials take, read off the rendered Job."""

from __future__ import annotations

import json

from generator.model.builders import PROFILES
from generator.model.records import GeneratorConfig
from generator.pipeline import planned, renderer_for
from generator.render.routes import job_route, route_problems


def explain_config(config: GeneratorConfig, fmt: str = "text") -> tuple[str, bool]:
    """The explanation text, and whether every route is sound."""
    plan = planned(config)
    renderer = renderer_for(config, None)
    servers = {s.name: s.servers for s in plan.secrets}
    external = {s.name for s in plan.secrets if s.credential.external is not None}
    types: dict[str | None, str | None] = {e.name: e.type for e in config.existing_secrets}
    rows = []
    for job in plan.jobs:
        profile = PROFILES[job.builder]
        route = job_route(renderer.object(job.template, {"job": job}, "batch/v1", "Job", job.name), job)
        expected = job.credential
        problems = list(route_problems(route, job))
        if expected.secret in servers and expected.registry not in servers[expected.secret]:
            problems.append(f"Secret {expected.secret} holds no auths entry for {expected.registry}")
        rows.append({
            "build": job.build, "job": job.name, "builder": job.builder, "registry": expected.registry,
            "secret": expected.secret, "secretSource": _source(expected.secret, expected.generated, external),
            "keySource": expected.key_source, "secretType": types.get(expected.secret),
            "volume": route.volume, "key": route.key, "mountPath": route.mount_path, "reads": route.reads,
            "dockerConfig": route.docker_config, "authEnv": profile.dir_env, "destinations": list(route.destinations),
            "provider": expected.provider, "helper": expected.helper, "helperSource": expected.helper_source,
            "registryCA": job.registry_ca.file if job.registry_ca else None,
            "nodePaths": [v["hostPath"]["path"] for v in job.volumes if "hostPath" in v],
            "status": "ok" if not problems else "MISMATCH", "problems": problems,
        })
    ok = all(r["status"] == "ok" for r in rows)
    if fmt == "json":
        return json.dumps({"ok": ok, "builds": rows}, indent=2), ok
    return "\n\n".join(_block(r) for r in rows) or "no builds", ok


#: every row label, so all blocks share one column (the longest is buildah's REGISTRY_AUTH_FILE)
ROW_LABELS = ("registry", "secret", "volume", "key chosen by", "override", "mount path", "builder reads", "helper",
              "cloud creds", "registry CA", "node path", "destination", "status", "problem",
              *{p.dir_env for p in PROFILES.values()})


def _key_rows(r: dict) -> list[tuple[str, str]]:
    """Why an existing Secret is mounted by this key: the rule, and how to change it."""
    source, name = r["keySource"], r["secret"]
    if source == "default":
        return [("key chosen by", "default: an Opaque Secret with key config.json, as Polyaxon's docs create it "
                                  "(kubectl create secret generic --from-file=config.json=...)"),
                ("override", f"existingSecrets: {{{name}: {{type: kubernetes.io/dockerconfigjson}}}} in the "
                             "generator config, for a Secret from kubectl create secret docker-registry")]
    if source == "existingSecrets":
        said = f"type {r['secretType']}" if r["secretType"] else f"key {r['key']}"
        return [("key chosen by", f"existingSecrets.{name} ({said})")]
    if source == "items" and r["secretSource"] != "generated":
        return [("key chosen by", "the catalog's secret.items")]
    return []


def _block(r: dict) -> str:
    image_default = PROFILES[r["builder"]].image_env.get(r["authEnv"])
    docker_config = r["dockerConfig"] or (f"(image default {image_default})" if image_default else "(unset)")
    secret = f"{r['secret']} ({r['secretSource']})" if r["secret"] else (
        "none (credential helper)" if r["helper"] else "none (anonymous push)")
    volume = f"{r['volume']} (key {r['key']} → {r['reads'].rsplit('/', 1)[-1]})" if r["volume"] else "-"
    lines = [
        f"build {r['build']} ({r['builder']}, Job {r['job']})",
        ("registry", f"{r['registry']} ({r['provider']})"), ("secret", secret), ("volume", volume),
        *_key_rows(r), ("mount path", r["mountPath"] or "-"), ("builder reads", r["reads"]),
        (r["authEnv"], docker_config),
    ]
    if r["helper"]:
        lines += [("helper", r["helper"]), ("cloud creds", r["helperSource"])]
    if r["registryCA"]:
        lines.append(("registry CA", r["registryCA"]))
    lines += [("node path", f"{p} (hostPath: the node must have it; Pod Security baseline refuses it)")
              for p in r["nodePaths"]]
    lines += [("destination", d) for d in r["destinations"]]
    lines.append(("status", r["status"]))
    lines += [("problem", p) for p in r["problems"]]
    width = max(len(label) for label in ROW_LABELS)
    return "\n".join(line if isinstance(line, str) else f"  {line[0]:<{width}} {line[1]}" for line in lines)


def _source(secret: str | None, generated: bool, external: set[str]) -> str | None:
    if secret is None:
        return None
    if secret in external:
        return "made in the cluster by an ExternalSecret"
    return "generated" if generated else "existing in the cluster"
