"""`conngen explain connections.yaml`: what each catalog entry gives a build.

A catalog alone renders nothing; this says so, then per connection what conngen would do with
it: for a registry, the `auths` key, where images go, the Secret and which builders read the
mount path as it is; for git, bucket and volume connections, that they serve as build contexts.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.model.builders import PROFILES
from generator.read.catalog import load_catalog_file
from generator.plan.contexts import VOLUME_KINDS
from generator.errors import UserError, shown
from generator.model.records import Connection
from generator.model.providers import detect
from generator.model.registry import AddressError, parse_registry_url

BUCKET_KINDS = ("s3", "gcs", "wasb")


def explain_catalog(file: str, fmt: str = "text") -> tuple[str, bool]:
    """The explanation of one catalog file, and whether it has no errors."""
    connections, issues = load_catalog_file(Path(file), file)
    if any(i.severity == "error" for i in issues):
        raise UserError(issues)
    rows = [_row(c) for c in connections]
    if fmt == "json":
        return json.dumps({"ok": True, "catalog": file, "connections": rows}, indent=2), True
    head = (f"{file} is a connections catalog ({len(rows)} connection{'s' if len(rows) != 1 else ''}); it renders "
            "nothing by itself: a generator config lists it under catalog: and its builds name connections "
            "(`conngen init` writes one; `conngen explain generator.yaml` then follows each build)")
    return "\n\n".join([head] + [_block(r) for r in rows]), True


def _row(c: Connection) -> dict:
    row: dict = {"name": c.name, "kind": c.kind, "secret": c.secret.name if c.secret else None,
                 "mountPath": c.secret.mount_path if c.secret else None}
    if c.registry is not None:
        try:
            address = parse_registry_url(c.registry.url)
        except AddressError as exc:
            row["use"] = f"registry url {shown(c.registry.url)} cannot be used: {exc}"
            return row
        row.update(
            use="a registry builds push to (`connection:` of a build)",
            authsKey=address.auth_key, images=f"{address.repository_prefix}/<image>",
            provider=c.registry.provider or detect(address.host), insecure=c.registry.insecure,
            readBy=sorted(p.name for p in PROFILES.values()
                          if c.secret and c.secret.mount_path == p.default_mount_path))
    elif c.kind == "git":
        row["use"] = "a build context: `context: {connection: " + c.name + "}` clones it"
    elif c.kind in BUCKET_KINDS:
        row["use"] = "a build context: `context: {connection: " + c.name + ", path: <tarball>}` fetches it"
    elif c.kind in VOLUME_KINDS:
        row["use"] = "a build context: `context: {connection: " + c.name + ", path: <dir>}` mounts it"
    elif c.kind == "ssh":
        row["use"] = "the SSH key of a git context: `context: {connection: <git>, ssh: " + c.name + "}`"
    elif c.config_map is not None:
        row["use"] = "a ConfigMap a registry can name as its CA (`schema.ca`), else not used by conngen"
    else:
        row["use"] = "not used by conngen (it builds with registry connections; git, bucket and volume ones are contexts)"
    return row


def _block(r: dict) -> str:
    lines = [f"connection {r['name']} ({r['kind']})", ("used as", r["use"])]
    if "authsKey" in r:
        lines += [("registry", f"{r['authsKey']} ({r['provider']}{', plain HTTP' if r['insecure'] else ''})"),
                  ("images", r["images"])]
    if r["secret"]:
        lines.append(("secret", r["secret"] + (f", mounted at {r['mountPath']}" if r["mountPath"] else "")))
    if "readBy" in r and r["mountPath"]:
        readers = ", ".join(r["readBy"])
        lines.append(("mount path", f"where {readers} read{'s' if len(r['readBy']) == 1 else ''} by default"
                      if readers else "no builder's default: conngen points the builder at it (DOCKER_CONFIG, REGISTRY_AUTH_FILE)"))
    return "\n".join(line if isinstance(line, str) else f"  {line[0]:<10} {line[1]}" for line in lines)
