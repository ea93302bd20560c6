"""Polyaxon's connections catalog: its schema (checked per kind) and loading it.

Polyaxon v2 parses `schema` as an untagged union, so a registry without `url` silently
becomes a dict. Here the schema is chosen by `kind` and checked; `items` may be key names
(Polyaxon) or `{key, path}` (Kubernetes), `defaultMode` an int or an octal string, and
`env` a mapping, a list of `{name, value}` or a list of pairs.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from msgspec import structs

from generator.model import names
from generator.errors import Issue, Origin, UserError, shown
from generator.model.records import Connection, GitSchema, KeyToPath, RegistrySchema, Resource
from generator.model.providers import AUTH_MODES, CA_KEY, PROVIDERS
from generator.model.registry import AddressError, parse_registry_url
from generator.read.spec import (INVALID, AnyValue, Bool, Budget, Ctx, Custom, Field, ListOf, MapOf, Rec, Record, Str,
                            rec, type_name)
from generator.read.yamlio import parse_yaml, read_text

KINDS = (
    "host_path", "volume_claim", "gcs", "s3", "wasb", "registry", "git", "aws", "gcp", "azure", "mysql", "postgres",
    "oracle", "vertica", "sqlite", "mssql", "redis", "presto", "mongo", "cassandra", "ftp", "grpc", "hdfs", "http",
    "pig_cli", "hive_cli", "hive_metastore", "hive_server2", "jdbc", "jenkins", "samba", "snowflake", "ssh",
    "cloudant", "databricks", "segment", "slack", "teams", "email", "discord", "mattermost", "pagerduty", "hipchat",
    "webhook", "custom",
)
ARTIFACT_KINDS = ("host_path", "volume_claim", "gcs", "s3", "wasb")


def absolute_path(description: str) -> Str:
    return Str(description, pattern=r"/[^:\x00]*", hint="use an absolute path such as /kaniko/.docker (no ':')")


_ABSOLUTE = absolute_path("")


def _check_mount_path(value: Any, ctx: Ctx, path: tuple) -> Any:
    checked = _ABSOLUTE.check(value, ctx, path)
    if checked is INVALID:
        return INVALID
    if ".." in checked.split("/"):
        return ctx.error(path, f"mount path {shown(checked)} contains '..'", "write the absolute path without '..'")
    return posixpath.normpath(checked) if checked != "/" else checked


MOUNT_PATH = Custom(_check_mount_path, {"type": "string", "pattern": "^/[^:]*$"},
                    "absolute path in the container where the volume is mounted", pure=True)


def _check_item_path(value: Any, ctx: Ctx, path: tuple) -> Any:
    if not isinstance(value, str) or not value:
        return ctx.error(path, f"expected a file name, got {type_name(value)}")
    if value.startswith("/") or ".." in value.split("/"):
        return ctx.error(path, f"item path {shown(value)} must be relative and must not contain '..'",
                         "use a file name such as config.json")
    return value


def _check_mode(value: Any, ctx: Ctx, path: tuple) -> Any:
    """File modes: 420 or "0644" (octal string) as Polyaxon v2 writes it."""
    if isinstance(value, bool):
        return ctx.error(path, "expected a file mode, got a boolean")
    if isinstance(value, int):
        if 0 <= value <= 0o777:
            return value
        return ctx.error(path, f"file mode {value} is out of range 0..511",
                         "an unquoted 0644 is the decimal number 644 in YAML 1.2; "
                         "write the mode as an octal string (\"0644\") or in decimal (420)")
    if isinstance(value, str):
        text = value[2:] if value.startswith("0o") else value
        if 1 <= len(text) <= 4 and set(text) <= set("01234567"):
            mode = int(text, 8)
            if mode <= 0o777:
                return mode
        return ctx.error(path, f"file mode {shown(value)} is not an octal mode", "write it like \"0644\" or 420")
    return ctx.error(path, f"expected a file mode, got {type_name(value)}")


MODE = Custom(_check_mode, {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 511},
                                      {"type": "string", "pattern": "^(0o)?[0-7]{1,4}$"}]},
              "file mode: an integer (420) or an octal string (\"0644\")", pure=True)

KEY_TO_PATH = rec(
    "item",
    Field("key", Str("key in the Secret or ConfigMap", pattern=r"[-._a-zA-Z0-9]+",
                     hint="keys contain only letters, digits, '-', '_' and '.'"), required=True),
    Field("path", Custom(_check_item_path, {"type": "string"}, "file name under the mount path", pure=True), required=True),
    Field("mode", MODE),
)


def _check_items(value: Any, ctx: Ctx, path: tuple) -> Any:
    if not isinstance(value, list):
        return ctx.error(path, f"expected a list of key names or {{key, path}}, got {type_name(value)}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            key = KEY_TO_PATH.fields["key"].spec.check(item, ctx, path + (i,))
            out.append(INVALID if key is INVALID else KeyToPath(key, key))
        else:
            checked = KEY_TO_PATH.check(item, ctx, path + (i,))
            out.append(INVALID if checked is INVALID else KeyToPath(checked.key, checked.path, checked.mode))
    return INVALID if INVALID in out else tuple(out)


ITEMS = Custom(_check_items, {"type": "array", "items": {"oneOf": [{"type": "string"}, KEY_TO_PATH.json_schema()]}},
               "keys to project: key names (Polyaxon) or {key, path} (Kubernetes)")


def _resource(title: str) -> Record:
    return rec(
        title,
        Field("name", Str(f"name of the {title}", pattern=names.DNS_SUBDOMAIN, max_len=253,
                          hint="Kubernetes names are lowercase letters, digits, '-' and '.'"), required=True),
        Field("mountPath", MOUNT_PATH),
        Field("items", ITEMS),
        Field("defaultMode", MODE),
        Field("hostPath", Str("accepted for Polyaxon compatibility; unused")),
        Field("isRequested", Bool("accepted for Polyaxon compatibility; unused")),
    )


SECRET = _resource("secret")
CONFIG_MAP = _resource("configMap")

_env_name = Str(pattern=names.ENV_NAME, hint="environment variable names are letters, digits, '_', '-' and '.'")


def _env_value(value: Any, ctx: Ctx, path: tuple) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return ctx.error(path, f"environment value must be a string, got {type_name(value)}")


def _check_env(value: Any, ctx: Ctx, path: tuple) -> Any:
    pairs: list = []
    if isinstance(value, dict):  # a mapping has no order: sort, so output does not depend on key order
        for k, v in sorted(value.items(), key=lambda kv: str(kv[0])):
            pairs.append((_env_name.check(k, ctx, path + (k,)), _env_value(v, ctx, path + (k,))))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and set(item) <= {"name", "value"} and "name" in item:
                pairs.append((_env_name.check(item["name"], ctx, path + (i, "name")),
                              _env_value(item.get("value", ""), ctx, path + (i, "value"))))
            elif isinstance(item, list) and len(item) == 2:
                pairs.append((_env_name.check(item[0], ctx, path + (i, 0)), _env_value(item[1], ctx, path + (i, 1))))
            else:
                ctx.error(path + (i,), "each env entry must be {name, value} or a [name, value] pair")
                pairs.append((INVALID, INVALID))
    else:
        return ctx.error(path, f"env must be a mapping or a list, got {type_name(value)}")
    if any(INVALID in p for p in pairs):
        return INVALID
    seen: set[str] = set()
    for i, (name, _) in enumerate(pairs):
        if name in seen:
            return ctx.error(path, f"environment variable {shown(name)} is set twice", "keep one entry per name")
        seen.add(name)
    return tuple(pairs)


ENV = Custom(_check_env, {"oneOf": [
    {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    {"type": "array", "items": {"oneOf": [
        {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": ["string", "number", "boolean"]}},
         "required": ["name"], "additionalProperties": False},
        {"type": "array", "minItems": 2, "maxItems": 2}]}}]},
    "environment variables for the pod: a mapping, a list of {name, value}, or a list of pairs")

ANNOTATIONS = MapOf(Str("annotation value"), "annotations added to the builder pod",
                    key=Str(pattern=names.QUALIFIED_KEY, hint="annotation keys look like example.com/key"))


_URL = Str(min_len=1)


def _check_registry_url(value: Any, ctx: Ctx, path: tuple) -> Any:
    """The url taken apart by the rules `render` uses, so `validate` of a catalog alone refuses the same urls."""
    url = _URL.check(value, ctx, path)
    return INVALID if url is INVALID else _registry_address(url, None, ctx, path)


def _registry_address(url: str, raw: Any, ctx: Ctx, path: tuple) -> Any:
    try:
        address = parse_registry_url(url)
    except AddressError as exc:
        return ctx.error(path, str(exc), exc.hint)
    if address.hub_by_default:
        namespace = address.path.split("/")[0]
        fix = (f"write {address.repository_prefix} to say so" if namespace == address.path else
               f"Docker Hub holds only <namespace>/<name>, so it refuses images under {address.repository_prefix}: "
               f"write docker.io/{namespace} and name the repository in the build's image")
        ctx.issues.append(Issue(Origin(ctx.file, path), f"url {shown(url)} names no registry host: like docker, conngen "
                                f"reads it as Docker Hub, {address.repository_prefix}",
                                f"{fix}, or put the registry's host first (registry.example.com/{address.path})",
                                severity="warning"))
    return url, address


REGISTRY_URL = Custom(_check_registry_url, {"type": "string", "minLength": 1},
                      "registry host, optional path: myregistry.com/org (a scheme is ignored; a first component "
                      "without '.', ':' or localhost is a Docker Hub namespace, as for docker)",
                      typed=_URL.annotation, fast=_registry_address)

_kind_field = Field("kind", Str("accepted for Polyaxon compatibility; must equal the connection kind"))
_bool_ro = Field("readOnly", Bool())

KIND_SCHEMAS: dict[str, Record] = {
    "registry": rec("registry schema",
                    Field("url", REGISTRY_URL, required=True),
                    Field("insecure", Bool("plain HTTP or unverified TLS"), default=False),
                    Field("provider", Str("registry provider; detected from url when omitted", enum=PROVIDERS)),
                    Field("auth", Str("dockerConfig: the secret is a docker config.json; helper: the builder's "
                                      "credential helper (ecr, acr, gcr) with cloud credentials from the secret "
                                      "or the pod's identity (default: helper for ECR, else dockerConfig)",
                                      enum=AUTH_MODES)),
                    Field("ca", Str("a connection whose configMap (or secret) holds the registry's CA "
                                    f"certificate (key {CA_KEY}, or its single item)", min_len=1)),
                    _kind_field),
    "git": rec("git schema",
               Field("url", Str("repository URL", min_len=1)),
               Field("revision", Str("branch, tag, or ref")),
               Field("flags", ListOf(Str(), "extra git flags")), _kind_field),
    "volume_claim": rec("volume_claim schema",
                        Field("volumeClaim", Str(pattern=names.DNS_SUBDOMAIN), required=True),
                        Field("mountPath", MOUNT_PATH, required=True), _bool_ro, _kind_field),
    "host_path": rec("host_path schema",
                     Field("hostPath", absolute_path("path on the node"), required=True),
                     Field("mountPath", MOUNT_PATH, required=True), _bool_ro, _kind_field),
}
for _bucket_kind in ("gcs", "s3", "wasb"):
    KIND_SCHEMAS[_bucket_kind] = rec(f"{_bucket_kind} schema", Field("bucket", Str(min_len=1), required=True),
                                     _kind_field)


def _check_connection(conn: Rec, ctx: Ctx) -> None:
    kind = conn.kind
    spec = KIND_SCHEMAS.get(kind)
    path = conn.origin.path + (conn.spelled.get("schema", "schema"),)
    if spec is None:
        conn.schema = AnyValue().check(conn.schema, ctx, path)
        return
    if conn.schema is None:
        if kind in ("registry", "volume_claim", "host_path") or kind in ("gcs", "s3", "wasb"):
            ctx.error(conn.origin.path, f"a {kind} connection needs a schema",
                      f"add schema: with {', '.join(f.name for f in spec.fields.values() if f.required)}")
        return
    checked = spec.read(conn.schema, ctx, path)
    if checked is not INVALID and checked.kind not in (None, kind):
        ctx.error(path + ("kind",), f"schema kind {shown(checked.kind)} differs from connection kind {shown(kind)}",
                  "remove schema.kind")
    conn.schema = checked


def _connection_schema() -> dict:
    branches = [{"if": {"properties": {"kind": {"const": k}}}, "then": {"properties": {"schema": s.json_schema()}}}
                for k, s in KIND_SCHEMAS.items()]
    return {"allOf": branches}


CONNECTION = rec(
    "connection",
    Field("name", Str("unique connection name", pattern=names.CONNECTION_NAME, max_len=253,
                      hint="letters, digits, '-', '_' and '.'"), required=True),
    Field("kind", Str("connection kind", enum=KINDS), required=True),
    Field("description", Str()),
    Field("tags", ListOf(Str())),
    Field("schema", AnyValue("kind-specific settings (checked per kind)")),
    Field("secret", SECRET),
    Field("configMap", CONFIG_MAP),
    Field("env", ENV),
    Field("annotations", ANNOTATIONS),
    Field("isAlias", Bool()),
    validate=_check_connection,
)

def catalog_schema() -> dict:
    """The catalog's JSON Schema (`conngen schema catalog`): built on demand, not by every build's import."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "conngen connections catalog (Polyaxon format)",
        "type": "object",
        "properties": {
            "connections": {"type": "array", "items": {**CONNECTION.json_schema(), **_connection_schema()}},
            "artifactsStore": {**CONNECTION.json_schema(), **_connection_schema()},
        },
    }


def build_connection(c: Rec) -> Connection:
    schema = c.schema
    if c.kind == "registry" and schema:
        url, address = schema.url
        schema = RegistrySchema(url, address, schema.insecure, schema.provider, schema.auth, schema.ca)
    elif c.kind == "git" and schema:
        schema = GitSchema(schema.url, schema.revision, tuple(schema.flags or ()))
    elif isinstance(schema, Rec):  # the other checked kinds stay a mapping, as Polyaxon's are
        schema = structs.asdict(schema)
    return Connection(
        name=c.name, kind=c.kind, description=c.description, tags=tuple(c.tags or ()),
        schema=schema, secret=_build_resource(c.secret), config_map=_build_resource(c.configMap),
        env=c.env or (), annotations=tuple(sorted((c.annotations or {}).items())), origin=c.origin,
    )


def _build_resource(r: Rec | None) -> Resource | None:
    if r is None:
        return None
    return Resource(r.name, r.mountPath, r.items, r.defaultMode, r.origin)


CONNECTIONS = ListOf(CONNECTION)


def check_connections(value: Any, ctx: Ctx, path: tuple) -> list[Connection]:
    """Check a `connections:` list; returns the valid ones (issues go to ctx)."""
    checked = CONNECTIONS.read(value, ctx, path)
    if checked is INVALID:
        return []
    return [build_connection(c) for c in checked if c is not INVALID]


LEGACY_KEY = "privateRegistries"


def legacy_private_registries(data: dict, display: str) -> Issue:
    """Polyaxon v0's `privateRegistries` (deployment config): what it is, and the catalog and credentials to write."""
    entries = data[LEGACY_KEY] if isinstance(data[LEGACY_KEY], list) else []
    hosts = [h for h in map(_legacy_host, entries) if h]
    host = hosts[0] if hosts else "registry.example.com"
    name = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    found = f"; entries for {', '.join(hosts)}" if hosts else ""
    return Issue(Origin(display, (LEGACY_KEY,)),
                 "this is Polyaxon v0's registry list ('user:password@host' or {host, user, password}), "
                 "which conngen does not read: it reads Polyaxon v1+ connections catalogs",
                 f"write each entry as a registry connection in a catalog, connections: [{{name: {name}, kind: registry, "
                 f"schema: {{url: {host}}}, secret: {{name: {name}}}}}], and its login as credentials in the generator "
                 f"config, credentials: {{{name}: {{username: {{env: REG_USER}}, password: {{env: REG_PASS}}}}}}{found} "
                 "(docs/registries.md, 'Polyaxon v0's privateRegistries')")


def _legacy_host(entry: Any) -> str | None:
    """The host of a v0 entry, shown only when it is plainly a host: never a part of the login."""
    host = entry.get("host") if isinstance(entry, dict) else entry.rpartition("@")[2] if isinstance(entry, str) \
        and "@" in entry else None
    try:
        address = parse_registry_url(host) if isinstance(host, str) else None
    except AddressError:
        return None
    return None if address is None or address.hub_by_default or address.path else address.host


#: Catalogs loaded ahead (read/ahead.py), by their text and name: load_catalog_file of the same takes them.
LOADED_AHEAD: dict[tuple[str, str], tuple[list[Connection], list[Issue]]] = {}


def load_catalog_file(path: Path, display: str) -> tuple[list[Connection], list[Issue]]:
    """Connections of one catalog file (a `connections:` list, or a Polyaxon agent config), and its issues."""
    text = read_text(path, display)
    ahead = LOADED_AHEAD.pop((text, display), None) if LOADED_AHEAD else None
    return ahead or _check_catalog(parse_yaml(text, display), display)


def load_catalog_ahead(path: Path, display: str) -> None:
    """Load a catalog file now, for a later `load_catalog_file` of the same text and name (read/ahead.py)."""
    text = read_text(path, display)
    LOADED_AHEAD[text, display] = _check_catalog(parse_yaml(text, display), display)


def _check_catalog(data: Any, display: str) -> tuple[list[Connection], list[Issue]]:
    ctx = Ctx(display)
    if not isinstance(data, dict):
        raise UserError([Issue(Origin(display), f"a catalog must be a mapping with 'connections:', got {type_name(data)}",
                               "start the file with connections:")])
    store_key = next((k for k in ("artifactsStore", "artifacts_store") if k in data), None)
    if LEGACY_KEY in data and "connections" not in data and store_key is None:
        raise UserError([legacy_private_registries(data, display)])
    if store_key is None:
        for key in data:
            if key != "connections":
                ctx.error((key,), f"unknown top-level key {shown(key)} in the catalog", "a catalog has only connections:")
    if "connections" not in data and store_key is None:
        ctx.error((), "the catalog has no 'connections:' list", "add connections: [...]")
    try:
        connections = check_connections(data.get("connections") or [], ctx, ("connections",))
        if store_key is not None:
            store = CONNECTION.read(data[store_key], ctx, (store_key,))
            if store is not INVALID:
                if store.kind not in ARTIFACT_KINDS:
                    ctx.error((store_key, store.spelled["kind"]), f"an artifacts store must be one of {', '.join(ARTIFACT_KINDS)}")
                else:
                    connections.append(build_connection(store))
    except Budget:
        raise UserError([Issue(Origin(display), "the document expands to too many values (YAML aliases?)",
                               "remove aliases that repeat large parts")]) from None
    return connections, ctx.issues
