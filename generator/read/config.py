"""The generator config (`kind: ConnectionGenerator`): its schema, and loading it with its catalogs.

Relative paths resolve against the root (the kustomization directory, or the config's
directory on the CLI) and must stay inside it — kustomize's default load restrictor —
unless `loadRestrictor: LoadRestrictionsNone` (or the CLI flag) says otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Optional

import msgspec

from msgspec.structs import replace

from generator.model import names
from generator.model.builders import PROFILES
from generator.read.catalog import check_connections, load_catalog_file
from generator.errors import Issue, Origin, UserError, shown
from generator.read.kustomization import catalog_files
from generator.model.lifecycle import MODES
from generator.model.records import (Build, Connection, ConnectionContext, Credential, ExistingSecret, ExternalSource,
                             GeneratorConfig, GeneratorOptions, JobDefaults, PullSecrets, RemoteRef, ValueSource)
from generator.read.sops import FORMATS, file_format
from generator.read.spec import (INVALID, AnyValue, Bool, Budget, Ctx, Custom, Field, Int, ListOf, MapOf, Rec, Str, rec,
                            type_name)

API_VERSION = "conngen.dev/v1"
KIND = "ConnectionGenerator"
RESTRICT_ROOT = "LoadRestrictionsRootOnly"
RESTRICT_NONE = "LoadRestrictionsNone"


def _sops_source(ref: dict, ctx: Ctx, path: tuple, whole_ok: bool) -> Any:
    """`{sops: path, key: name, format: json|yaml|dotenv|binary}`: a value inside an encrypted file."""
    checked = SOPS_REF.check(ref, ctx, path)
    if checked is INVALID:
        return INVALID
    fmt = file_format(checked.sops, checked.format)
    if fmt == "binary" and checked.key is not None:
        return ctx.error(path + (checked.spelled["key"],), "key does not apply to a binary sops file (the whole file "
                         "is the value)", "remove key, or set format: json|yaml|dotenv")
    if fmt != "binary" and checked.key is None and not whole_ok:
        return ctx.error(path, f"say which key of the {fmt} sops file holds the value",
                         "add key: <name>, e.g. {sops: creds/login.enc.yaml, key: password}")
    return ValueSource(sops=checked.sops, key=checked.key, format=checked.format, origin=Origin(ctx.file, path))


SOPS_REF = rec("sops file reference",
               Field("sops", Str("sops-encrypted file, relative to the root", min_len=1), required=True),
               Field("key", Str("top-level key holding the value (json, yaml, dotenv files)", min_len=1)),
               Field("format", Str("sops format; default from the file name (.json, .yaml/.yml, .env), else binary",
                                   enum=FORMATS)))


_ENV_REF = Str(pattern=names.ENV_NAME, hint="an environment variable name")
_NOT_EMPTY = Str(min_len=1)


def _value_source(allow_literal: bool) -> Custom:
    def convert(value: Any, ctx: Ctx, path: tuple) -> Any:
        if isinstance(value, dict) and "sops" in value:
            return _sops_source(value, ctx, path, whole_ok=not allow_literal)
        if isinstance(value, str):
            if allow_literal:
                ctx.issues.append(Issue(Origin(ctx.file, path), "credential written as a literal in the config",
                                        "use {env: NAME} or {file: path} to keep it out of git", severity="warning"))
                return ValueSource(literal=value, origin=Origin(ctx.file, path))
            return ValueSource(file=value, origin=Origin(ctx.file, path))
        if isinstance(value, dict) and len(value) == 1:
            (key, ref), = value.items()
            if key == "env":
                name = _ENV_REF.check(ref, ctx, path + ("env",))
                return INVALID if name is INVALID else ValueSource(env=name, origin=Origin(ctx.file, path))
            if key == "file":
                file = _NOT_EMPTY.check(ref, ctx, path + ("file",))
                return INVALID if file is INVALID else ValueSource(file=file, origin=Origin(ctx.file, path))
        what = "a string, {env: NAME}, {file: path}" if allow_literal else "a path, {env: NAME}, {file: path}"
        return ctx.error(path, f"expected {what} or {{sops: path, key: name}}, got {type_name(value)}",
                         "for example {env: REG_PASS} or {file: creds/password}")

    ref = [{"type": "object", "properties": {"env": {"type": "string"}}, "required": ["env"], "additionalProperties": False},
           {"type": "object", "properties": {"file": {"type": "string"}}, "required": ["file"], "additionalProperties": False},
           SOPS_REF.json_schema()]
    return Custom(convert, {"oneOf": [{"type": "string"}, *ref]}, typed=str | _REF, fast=_env_or_file)


_REF = msgspec.defstruct("value source", [("env", Optional[_ENV_REF.annotation], None),
                                          ("file", Optional[_NOT_EMPTY.annotation], None),
                                          ("sops", Any, None), ("key", Any, None), ("format", Any, None)],
                         forbid_unknown_fields=True)


def _env_or_file(value: Any, raw: Any, ctx: Ctx, path: tuple) -> ValueSource | None:
    """{env: NAME} or {file: path}, as msgspec typed it; None for the other forms (`convert` reads them)."""
    if type(value) is str or len(raw) != 1 or (value.env is None) == (value.file is None):
        return None
    return ValueSource(env=value.env, file=value.file, origin=Origin(ctx.file, path))


GCP_KEY_USER = "_json_key"  # Google's registries take a service-account key JSON as this user's password


def _check_credential(c: Rec, ctx: Ctx) -> None:
    if c.gcpServiceAccountKey is not None:
        if c.username is not None or c.password is not None or c.dockerConfig is not None:
            ctx.error(c.origin.path, "gcpServiceAccountKey is the password of user _json_key: "
                      "give it alone, without username, password or dockerConfig",
                      "remove username, password and dockerConfig from this entry")
        else:
            c.username = ValueSource(literal=GCP_KEY_USER, origin=c.origin)
            c.password = c.gcpServiceAccountKey
    has_config = c.dockerConfig is not None
    has_login = c.username is not None or c.password is not None
    if c.externalSecret is not None:
        if has_config or has_login:
            given = next(c.spelled[k] for k in ("dockerConfig", "username", "password", "gcpServiceAccountKey")
                         if k in c.spelled)
            ctx.error(c.origin.path + (given,), "an externalSecret credential takes its values from the secret store",
                      "remove username/password/dockerConfig (the ExternalSecret's remoteRefs say where they are)")
    elif has_config and has_login:
        ctx.error(c.origin.path, "give either dockerConfig or username/password, not both",
                  "keep dockerConfig for a whole config.json, or username and password for one login")
    elif not has_config and (c.username is None or c.password is None):
        ctx.error(c.origin.path, "credentials need username and password (or dockerConfig)",
                  "add username: {env: REG_USER} and password: {env: REG_PASS}")


REMOTE_REF = rec("remoteRef",
                 Field("key", Str("the secret's key (name or path) in the store", min_len=1), required=True),
                 Field("property", Str("a property inside that secret, if the store keeps maps")),
                 Field("version", Str("a version of the secret, if the store keeps versions")))


def _check_remote_refs(r: Rec, ctx: Ctx) -> None:
    login = r.username is not None or r.password is not None
    if r.dockerConfig is not None and login:
        ctx.error(r.origin.path, "give remoteRefs.dockerConfig or remoteRefs.username/password, not both",
                  "keep dockerConfig for a stored config.json, or username and password for one login")
    elif r.dockerConfig is None and (r.username is None or r.password is None):
        ctx.error(r.origin.path, "remoteRefs need username and password (or dockerConfig)",
                  "add username: {key: ..., property: ...} and password: {key: ..., property: ...}")


CREDENTIAL = rec(
    "credentials entry",
    Field("dockerConfig", _value_source(False)),
    Field("username", _value_source(True)),
    Field("password", _value_source(True)),
    Field("email", Str("optional e-mail written into the auths entry")),
    # GCR/Artifact Registry: a service-account key JSON, written as user _json_key with the key as password
    Field("gcpServiceAccountKey", _value_source(False)),
    Field("externalSecret", rec(
        "externalSecret",
        Field("storeRef", rec("storeRef", Field("name", Str(pattern=names.DNS_SUBDOMAIN, max_len=253), required=True),
                              Field("kind", Str(enum=["SecretStore", "ClusterSecretStore"]), default="SecretStore")),
              required=True),
        Field("refreshInterval", Str("how often ESO reads the store again (Go duration)",
                                     pattern=r"0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+",
                                     hint="a Go duration such as 1h, 30m or 2h30m"), default="1h"),
        Field("remoteRefs", rec(
            "remoteRefs",
            Field("username", REMOTE_REF), Field("password", REMOTE_REF), Field("dockerConfig", REMOTE_REF),
            validate=_check_remote_refs), required=True),
    )),
    validate=_check_credential,
)


_QUANTITY = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?")


def _check_resources(value: Any, ctx: Ctx, path: tuple) -> Any:
    """Kubernetes ResourceRequirements (requests/limits of quantities), keys sorted for stable output."""
    if not isinstance(value, dict):
        return ctx.error(path, f"resources must be a mapping with requests/limits, got {type_name(value)}",
                         "write e.g. {requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 2Gi}}")
    out: dict[str, dict] = {}
    before = len(ctx.issues)
    for section in sorted(value, key=str):
        amounts = value[section]
        if section not in ("requests", "limits"):
            ctx.error(path + (section,), f"unknown key {shown(section)} in resources", "use requests and limits")
            continue
        if not isinstance(amounts, dict):
            ctx.error(path + (section,), f"{section} must map resource names to quantities",
                      "write e.g. {cpu: 500m, memory: 1Gi}")
            continue
        out[section] = {}
        for name in sorted(amounts, key=str):
            amount = amounts[name]
            text = str(amount) if isinstance(amount, (int, float)) and not isinstance(amount, bool) else amount
            if not isinstance(text, str) or not _QUANTITY.fullmatch(text):
                ctx.error(path + (section, name), f"{shown(amount)} is not a Kubernetes quantity", "write e.g. 500m, 2, 4Gi")
                continue
            out[section][str(name)] = text
    return out if len(ctx.issues) == before else INVALID


RESOURCES = Custom(_check_resources, {"type": "object", "properties": {
    "requests": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
    "limits": {"type": "object", "additionalProperties": {"type": ["string", "number"]}}},
    "additionalProperties": False}, "container resources: requests and limits (Kubernetes quantities)")


#: one line of printable text without spaces: URLs, paths and refs that become single arguments
ARG_TEXT = r"[^\s\x00-\x1f\x7f]+"
_ARG_HINT = "no spaces, line breaks or control characters"
_ARG = Str(pattern=ARG_TEXT, hint=_ARG_HINT)


def _check_context(value: Any, ctx: Ctx, path: tuple) -> Any:
    if isinstance(value, str):
        return _ARG.check(value, ctx, path)
    return _connection_context(CONNECTION_CONTEXT.read(value, ctx, path))


def _connection_context(c: Any) -> Any:
    return INVALID if c is INVALID else ConnectionContext(c.connection, c.revision, c.origin, c.path, c.ssh)


CONNECTION_CONTEXT = rec(
    "connection context",
    Field("connection", Str("a git, s3, gcs, wasb, volume_claim or host_path connection of the catalog"),
          required=True),
    Field("revision", Str("git: branch, tag or refs/... (default: the connection's revision)",
                          pattern=ARG_TEXT, hint=_ARG_HINT)),
    Field("path", Str("s3/gcs/wasb: the context tarball in the bucket (contexts/trainer.tar.gz); "
                      "volume_claim/host_path: a directory under the mountPath", pattern=ARG_TEXT, hint=_ARG_HINT)),
    Field("ssh", Str("git over SSH: an ssh connection whose secret holds ssh-privatekey (and known_hosts, "
                     "or in its configMap)", min_len=1)))

BUILD = rec(
    "build",
    Field("name", Str("build name; the Job is named after it", pattern=names.CONNECTION_NAME, max_len=253,
                      hint="letters, digits, '-', '_' and '.'"), required=True),
    Field("connection", Str("the registry connection to push to"), required=True),
    Field("builder", Str("builder", enum=sorted(PROFILES)), default="kaniko"),
    Field("image", Str("image name and tag, relative to the registry url", min_len=1), required=True),
    Field("tags", ListOf(Str(min_len=1), "extra tags pushed with the image")),
    Field("context", Custom(_check_context, {"oneOf": [{"type": "string"}, CONNECTION_CONTEXT.json_schema()]},
                            "build context: a URL the builder understands (git://, s3://, gs://, dir://...) "
                            "or a catalog connection: {connection: <git>, revision, ssh}, {connection: <s3|gcs|wasb>, "
                            "path: <tarball>}, {connection: <volume_claim|host_path>, path: <dir>}",
                            typed=_ARG.annotation | CONNECTION_CONTEXT.annotation,  # a url msgspec checked, or:
                            fast=lambda v, raw, ctx, path: v if type(v) is str else _connection_context(
                                CONNECTION_CONTEXT.finish(v, raw, ctx, path)))),
    Field("contextSubPath", Str("sub-directory of the context", pattern=ARG_TEXT, hint=_ARG_HINT)),
    Field("dockerfile", Str("Dockerfile path inside the context", pattern=ARG_TEXT, hint=_ARG_HINT),
          default="Dockerfile"),
    Field("cache", Bool("builder layer cache"), default=False),
    Field("buildArgs", MapOf(Str(), "build arguments", key=Str(pattern=r"[A-Za-z_][A-Za-z0-9_]*"))),
    Field("connections", ListOf(Str(), "other catalog connections the build pod uses (env, configMap, secret)")),
    Field("resources", RESOURCES),
)


SECRET_MODE = "secret"
EXTERNAL_MODE = "externalSecret"

#: where each type of Secret keeps the docker config: kubectl create secret docker-registry, and Polyaxon's docs
SECRET_TYPE_KEYS = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "Opaque": "config.json"}


def _check_existing_secret(r: Rec, ctx: Ctx) -> None:
    if (r.type is None) == (r.key is None):
        ctx.error(r.origin.path, "say either the Secret's type or its key, not both" if r.type else
                  "say which key holds the docker config", "type: kubernetes.io/dockerconfigjson, or key: <name>")


EXISTING_SECRET = rec(
    "existing Secret",
    Field("type", Str("the Secret's type: kubernetes.io/dockerconfigjson (key .dockerconfigjson, as kubectl create "
                      "secret docker-registry makes it) or Opaque (key config.json, as Polyaxon's docs make it)",
                      enum=sorted(SECRET_TYPE_KEYS))),
    Field("key", Str("the key of the Secret that holds the docker config.json", pattern=r"[-._a-zA-Z0-9]+",
                     hint="keys contain only letters, digits, '-', '_' and '.'")),
    validate=_check_existing_secret,
)

CONFIG = rec(
    "ConnectionGenerator",
    Field("apiVersion", Str(enum=[API_VERSION]), required=True),
    Field("kind", Str(enum=[KIND]), required=True),
    Field("metadata", rec(
        "metadata",
        Field("name", Str(pattern=names.DNS_LABEL, max_len=63, hint="a DNS label: lowercase letters, digits and '-'"),
              required=True),
        Field("namespace", Str(pattern=names.DNS_LABEL, max_len=63, hint="a DNS label")),
        Field("annotations", MapOf(Str())),
        Field("labels", MapOf(Str())),
    ), required=True),
    Field("catalog", Custom(lambda v, ctx, p: [v] if isinstance(v, str) else ListOf(Str(min_len=1)).check(v, ctx, p),
                            {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                            "catalog files, relative to the root (the kustomization's directory under kustomize, "
                            "else the config's)")),
    Field("connections", AnyValue("inline connections, same schema as the catalog")),
    Field("credentials", MapOf(CREDENTIAL, "credentials keyed by the Secret name the connections give",
                               key=Str(pattern=names.DNS_SUBDOMAIN, max_len=253, hint="a Kubernetes Secret name"))),
    Field("existingSecrets", MapOf(EXISTING_SECRET, "registry Secrets that exist in the cluster, by name: which key "
                                   "holds the docker config (default config.json, as Polyaxon's docs create them)",
                                   key=Str(pattern=names.DNS_SUBDOMAIN, max_len=253, hint="a Kubernetes Secret name"))),
    Field("builds", ListOf(BUILD)),
    Field("builders", MapOf(rec("builder options", Field("image", Str("pinned builder image", min_len=1)),
                                Field("securityContext", AnyValue("container securityContext replacing the "
                                                                  "builder's default (docs/builders.md)")),
                                Field("dockerSocket", Str("dockerizer only: the node's Docker Engine socket, "
                                                          "mounted at /var/run/docker.sock in the pod",
                                                          pattern=r"/[^\0:]*", max_len=4096,
                                                          hint="an absolute path on the node, such as "
                                                               "/run/docker.sock"))),
                            "per-builder options", key=Str(enum=sorted(PROFILES) + ["fetch", "git"]))),
    Field("generatorOptions", GENERATOR_OPTIONS := rec(
        "generatorOptions",
        Field("disableNameSuffixHash", Bool("do not ask kustomize to hash Secret names"), default=False),
        Field("behavior", Str(enum=["create", "merge", "replace"])),
        Field("labels", MapOf(Str(pattern=names.LABEL_VALUE, max_len=63), key=Str(pattern=names.QUALIFIED_KEY))),
        Field("annotations", MapOf(Str(), key=Str(pattern=names.QUALIFIED_KEY))),
        Field("secretMode", Str("secret: Secrets with data; externalSecret: External Secrets Operator ExternalSecrets "
                                "(no credential value in the output)", enum=[SECRET_MODE, EXTERNAL_MODE]),
              default=SECRET_MODE),
    )),
    Field("pullSecrets", ListOf(rec(
        "pullSecrets entry",
        Field("serviceAccount", Str("ServiceAccount whose pods pull with these Secrets", pattern=names.DNS_SUBDOMAIN,
                                    max_len=253, hint="a Kubernetes name"), required=True),
        Field("secrets", ListOf(Str(), "credentials (Secret names) to list in imagePullSecrets", min_items=1),
              required=True),
        Field("patch", Bool("the ServiceAccount exists already (e.g. default): emit only metadata.name and "
                            "imagePullSecrets, to merge into it"), default=False),
    ), "ServiceAccounts that pull images with the generated registry Secrets")),
    Field("jobDefaults", JOB_DEFAULTS := rec(
        "jobDefaults",
        Field("backoffLimit", Int(minimum=0), default=0),
        Field("ttlSecondsAfterFinished", Int("seconds before a finished Job is deleted; "
                               "only with lifecycle argocd or helm (docs/lifecycle.md)", minimum=0)),
        Field("activeDeadlineSeconds", Int(minimum=1)),
        Field("serviceAccountName", Str(pattern=names.DNS_SUBDOMAIN)),
        Field("resources", RESOURCES),
    )),
    Field("templates", Str("directory of template overrides, relative to the root")),
    Field("lifecycle", Str("how builder Jobs live through later applies: plain (Job names carry a hash of the "
                           "build), argocd or helm (hooks replaced on every sync/upgrade), flux (hashed names, "
                           "force); docs/lifecycle.md", enum=list(MODES)), default="plain"),
    Field("strict", Bool("treat every warning as an error (for CI)"), default=False),
    Field("loadRestrictor", Str(enum=[RESTRICT_ROOT, RESTRICT_NONE]), default=RESTRICT_ROOT),
)

def config_schema() -> dict:
    """The generator config's JSON Schema (`conngen schema config`): built on demand, not by every build's import."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **CONFIG.json_schema()}


class Paths:
    """Resolves user paths against the root and enforces the load restrictor."""

    def __init__(self, root: Path, restrictor: str):
        self.root = root.resolve()
        self.restrictor = restrictor
        self._root = str(self.root)
        self._inside = self._root.rstrip(os.sep) + os.sep
        self._real_dirs: dict[str, tuple[str, frozenset[str] | None]] = {}  # thousands of files share a few

    def resolve(self, relative: str, origin: Origin | None) -> str:
        """The real path of `relative`, a string: thousands of credential files pass through here."""
        try:
            if "\0" in relative:
                raise ValueError("embedded null byte")
            path = self._realpath(relative)
        except (ValueError, OSError, RuntimeError) as exc:  # a NUL byte, a loop of symlinks
            raise UserError([Issue(origin, f"{shown(relative)} is not a usable path ({exc})", "fix the path")]) from None
        if self.restrictor != RESTRICT_NONE and not (path + os.sep).startswith(self._inside):
            raise UserError([Issue(origin, f"{shown(relative)} is outside the root {shown(str(self.root))}",
                                   f"move the file under the root, or set loadRestrictor: {RESTRICT_NONE} "
                                   f"(CLI: --load-restrictor {RESTRICT_NONE})")])
        return path

    def _realpath(self, relative: str) -> str:
        """os.path.realpath of the root joined with `relative`: each directory resolved and listed once."""
        cut = relative.rfind(os.sep) + 1
        head, tail = relative[:cut], relative[cut:]
        if tail in ("", ".", ".."):
            return os.path.realpath(os.path.join(self._root, relative))
        if head not in self._real_dirs:
            self._real_dirs[head] = _real_dir(os.path.join(self._root, head))
        real_head, links = self._real_dirs[head]
        path = real_head + tail
        return os.path.realpath(path) if (tail in links if links is not None else os.path.islink(path)) else path

    def anchored(self, source: ValueSource | None) -> ValueSource | None:
        """A credential value with its file (or sops file) resolved."""
        if source is not None and source.sops is not None:
            return replace(source, sops=self.resolve(source.sops, source.origin))
        if source is None or source.file is None:
            return source
        return ValueSource(file=self.resolve(source.file, source.origin), origin=source.origin)

    def display(self, path: Path) -> str:
        try:
            return os.path.relpath(path, Path.cwd())
        except ValueError:
            return str(path)


def _real_dir(path: str) -> tuple[str, frozenset[str] | None]:
    """A directory's real path (ending in a separator), and its symlinks from one listing, not an lstat per file."""
    real = os.path.realpath(path).rstrip(os.sep) + os.sep
    try:
        with os.scandir(real) as entries:
            return real, frozenset(e.name for e in entries if e.is_symlink())
    except OSError:  # None: each file is asked
        return real, None


def load_config(data: Any, display: str, root: Path, restrictor: str | None = None
                ) -> tuple[GeneratorConfig | None, list[Issue]]:
    """Check the config and load its catalogs; every problem found is returned."""
    ctx = Ctx(display)
    try:
        cfg = CONFIG.read(data, ctx, ())
    except Budget:
        raise UserError([Issue(Origin(display), "the document expands to too many values (YAML aliases?)")]) from None
    if cfg is INVALID:
        # still check the catalogs, so one run reports every problem
        files = catalog_files(data)
        if files is not None:
            paths = Paths(root, restrictor or RESTRICT_ROOT)
            _load_catalogs(files, [Origin(display, ("catalog", i)) for i in range(len(files))], paths, ctx.issues)
        return None, ctx.issues
    paths = Paths(root, restrictor or cfg.loadRestrictor)
    issues = ctx.issues
    files = cfg.catalog or []
    origins = [cfg.at("catalog").at(i) if isinstance(data.get(cfg.spelled.get("catalog", "catalog")), list)
               else cfg.at("catalog") for i in range(len(files))]
    connections = _load_catalogs(files, origins, paths, issues)
    if cfg.connections is not None:
        connections.extend(check_connections(cfg.connections, ctx, (cfg.spelled["connections"],)))
    options = cfg.generatorOptions or GENERATOR_OPTIONS.annotation()  # every key at its default
    credentials = []
    for secret_name, c in (cfg.credentials or {}).items():
        try:
            credentials.append(_credential(secret_name, c, paths, options.secretMode))
        except UserError as exc:
            issues.extend(exc.issues)
    pull_secrets = _pull_secrets(cfg, {c.secret_name for c in credentials} | set(cfg.credentials or {}), issues)
    jd = cfg.jobDefaults or JOB_DEFAULTS.annotation()
    mode = MODES[cfg.lifecycle]
    if jd.ttlSecondsAfterFinished is not None and not mode.ttl_allowed:
        issues.append(Issue(cfg.jobDefaults.at("ttlSecondsAfterFinished"),  # set, so not the default above
                            f"a TTL with lifecycle {mode.name}: {mode.why_no_ttl}",
                            "remove ttlSecondsAfterFinished (an unchanged build keeps its finished Job, so it never "
                            "runs twice), or use lifecycle: argocd or helm, whose hook Jobs are not re-created"))
    templates_dir = None
    if cfg.templates:
        try:
            templates_dir = paths.resolve(cfg.templates, cfg.at("templates"))
        except UserError as exc:
            issues.extend(exc.issues)
    config = GeneratorConfig(
        name=cfg.metadata.name,
        namespace=cfg.metadata.namespace,
        root=str(paths.root),
        connections=tuple(connections),
        credentials=tuple(credentials),
        builds=tuple(_build(b) for b in cfg.builds or []),
        builder_images=tuple(sorted((k, v.image) for k, v in (cfg.builders or {}).items() if v.image)),
        builder_security=tuple(sorted((k, v.securityContext) for k, v in (cfg.builders or {}).items()
                                      if v.securityContext is not None)),
        docker_socket=_docker_socket(cfg.builders or {}, issues),
        options=GeneratorOptions(options.disableNameSuffixHash, options.behavior,
                                 tuple(sorted((options.labels or {}).items())),
                                 tuple(sorted((options.annotations or {}).items()))),
        job_defaults=JobDefaults(jd.backoffLimit, jd.ttlSecondsAfterFinished, jd.activeDeadlineSeconds,
                                 jd.serviceAccountName, jd.resources),
        templates_dir=templates_dir,
        origin=Origin(display),
        pull_secrets=pull_secrets,
        lifecycle=mode.name,
        strict=cfg.strict,
        existing_secrets=tuple(ExistingSecret(name, e.key or SECRET_TYPE_KEYS[e.type], e.type, e.origin)
                               for name, e in (cfg.existingSecrets or {}).items()),
        templates_root=None if paths.restrictor == RESTRICT_NONE else str(paths.root),
    )
    return config, issues


def _load_catalogs(files: list[str], origins: list[Origin], paths: Paths, issues: list[Issue]) -> list[Connection]:
    connections: list[Connection] = []
    for rel, origin in zip(files, origins):
        try:
            path = Path(paths.resolve(rel, origin))
            if not os.path.exists(path):  # (a name too long, too) named at the line that lists it, with where it was looked
                issues.append(Issue(origin, f"catalog {shown(rel)} not found: no file {paths.display(path)}",
                                    f"fix the path; relative paths start at {paths.root}"))
                continue
            found, more = load_catalog_file(path, paths.display(path))
            connections.extend(found)
            issues.extend(more)
        except UserError as exc:
            issues.extend(exc.issues)
    return connections


def _credential(secret_name: str, c: Rec, paths: Paths, mode: str) -> Credential:
    ext = c.externalSecret
    if mode == EXTERNAL_MODE and ext is None:
        raise UserError([Issue(c.origin, f"generatorOptions.secretMode is {EXTERNAL_MODE}, "
                               "so every credential needs externalSecret",
                               "add externalSecret: {storeRef: {name: ...}, remoteRefs: {...}}, or set secretMode: "
                               f"{SECRET_MODE}")])
    if mode != EXTERNAL_MODE and ext is not None:
        raise UserError([Issue(c.at("externalSecret"), "externalSecret needs "
                               f"generatorOptions.secretMode: {EXTERNAL_MODE}",
                               "set it, so that no credential is ever rendered into a Secret by mistake")])
    external = None
    if ext is not None:
        user, password, config = (None if r is None else RemoteRef(r.key, r.property, r.version)
                                  for r in (ext.remoteRefs.username, ext.remoteRefs.password, ext.remoteRefs.dockerConfig))
        external = ExternalSource(ext.storeRef.name, ext.storeRef.kind, ext.refreshInterval, user, password, config,
                                  ext.origin)
    return Credential(secret_name, paths.anchored(c.dockerConfig), paths.anchored(c.username),
                      paths.anchored(c.password), c.email, c.origin, external)


def _pull_secrets(cfg: Rec, known: set[str], issues: list[Issue]) -> tuple[PullSecrets, ...]:
    """Each ServiceAccount once, each listing credentials of this config (so kustomize can rename them)."""
    out: list[PullSecrets] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(cfg.pullSecrets or []):
        account = entry.serviceAccount
        if account in seen:
            issues.append(Issue(entry.at("serviceAccount"), f"ServiceAccount {shown(account)} is already listed in "
                                f"pullSecrets[{seen[account]}]", "list all its secrets in one entry"))
            continue
        seen[account] = i
        secrets: list[str] = []
        for j, name in enumerate(entry.secrets):
            if name in secrets:
                issues.append(Issue(entry.at("secrets").at(j), f"secret {shown(name)} is listed twice", "remove one"))
            elif name not in known:
                issues.append(Issue(entry.at("secrets").at(j), f"{shown(name)} is not one of this config's credentials",
                                    f"credentials: {', '.join(sorted(known)) or 'none'} (imagePullSecrets here name "
                                    "generated Secrets, so kustomize can follow their hashed names)"))
            else:
                secrets.append(name)
        out.append(PullSecrets(account, tuple(secrets), entry.patch, entry.origin))
    return tuple(out)


def _docker_socket(builders: dict, issues: list[Issue]) -> str | None:
    """The node's Docker socket the dockerizer mounts, where `builders.dockerizer.dockerSocket` moves it."""
    for name, options in builders.items():
        if options.dockerSocket is not None and name != "dockerizer":
            issues.append(Issue(options.at("dockerSocket"), f"{name} does not use the node's Docker socket",
                                "set dockerSocket under builders.dockerizer"))
    dockerizer = builders.get("dockerizer")
    return dockerizer.dockerSocket if dockerizer else None


def _build(b: Rec) -> Build:
    return Build(
        name=b.name, connection=b.connection, builder=b.builder, image=b.image,
        tags=tuple(b.tags or ()), context=b.context, context_sub_path=b.contextSubPath,
        dockerfile=b.dockerfile, cache=b.cache, build_args=tuple(sorted((b.buildArgs or {}).items())),
        extra_connections=tuple(b.connections or ()), resources=b.resources, origin=b.origin,
    )
