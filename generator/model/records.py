"""Typed, validated input: what the catalog and the generator config mean.

Everything here is immutable and already checked; planning code never sees raw YAML.
Each object keeps its `Origin` so later stages can point at the exact line.
"""

from __future__ import annotations

from typing import Any, Mapping

from msgspec import Struct

from generator.errors import Origin
from generator.model.registry import RegistryAddress


class KeyToPath(Struct, frozen=True):
    """One Secret/ConfigMap key and the file name it is projected as (Kubernetes `items`)."""

    key: str
    path: str
    mode: int | None = None


class Resource(Struct, frozen=True):
    """A connection's `secret` or `configMap`, as Polyaxon describes it."""

    name: str
    mount_path: str | None
    items: tuple[KeyToPath, ...] | None
    default_mode: int | None
    origin: Origin


class RegistrySchema(Struct, frozen=True):
    """A registry connection's `schema`: where images go and how to authenticate."""

    url: str
    address: RegistryAddress  # the url taken apart, checked once when the catalog is read
    insecure: bool
    provider: str | None = None  # None: detected from the url
    auth: str | None = None  # dockerConfig or helper; None: the provider's default
    ca: str | None = None  # a connection holding the registry's CA certificate


class GitSchema(Struct, frozen=True):
    """A git connection's `schema`: the repository and revision a build context comes from."""

    url: str | None
    revision: str | None
    flags: tuple[str, ...]


class Connection(Struct, frozen=True):
    """One catalog entry, checked and with Polyaxon's defaults applied."""

    name: str
    kind: str
    description: str | None
    tags: tuple[str, ...]
    schema: RegistrySchema | GitSchema | Mapping[str, Any] | None
    secret: Resource | None
    config_map: Resource | None
    env: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    origin: Origin

    @property
    def registry(self) -> RegistrySchema | None:
        return self.schema if isinstance(self.schema, RegistrySchema) else None

    @property
    def git(self) -> GitSchema | None:
        return self.schema if isinstance(self.schema, GitSchema) else None


class ValueSource(Struct, frozen=True):
    """Where a credential value comes from; the value itself is read only when rendering."""

    env: str | None = None
    file: str | None = None
    literal: str | None = None  # never in repr (below): a credential must not reach a log or traceback
    origin: Origin | None = None
    sops: str | None = None  # a sops-encrypted file, decrypted in memory when rendering
    key: str | None = None  # the top-level key to read from a decrypted sops document
    format: str | None = None  # sops input format: json, yaml, dotenv or binary

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """The fields a repr shows (msgspec's own `__rich_repr__`, used by rich, would show `literal`)."""
        return [(name, getattr(self, name)) for name in self.__struct_fields__ if name != "literal"]

    def __repr__(self) -> str:
        return "ValueSource(" + ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__()) + ")"


class RemoteRef(Struct, frozen=True):
    """Where an External Secrets Operator store keeps one value."""

    key: str
    property: str | None
    version: str | None


class ExternalSource(Struct, frozen=True):
    """Credentials an ExternalSecret fetches from a (Cluster)SecretStore instead of the config."""

    store_name: str
    store_kind: str
    refresh_interval: str
    username: RemoteRef | None
    password: RemoteRef | None
    docker_config: RemoteRef | None
    origin: Origin


class Credential(Struct, frozen=True):
    """Credentials for one Secret (keyed by the Secret name the catalog gives)."""

    secret_name: str
    docker_config: ValueSource | None
    username: ValueSource | None
    password: ValueSource | None
    email: str | None
    origin: Origin
    external: ExternalSource | None = None


class ExistingSecret(Struct, frozen=True):
    """A registry Secret that exists in the cluster, and the key of it that holds the docker config."""

    name: str
    key: str
    type: str | None  # the Secret type the key was derived from, when the config gave one
    origin: Origin


class PullSecrets(Struct, frozen=True):
    """A ServiceAccount whose pods pull with the generated registry Secrets."""

    service_account: str
    secrets: tuple[str, ...]
    patch: bool  # the account exists already (e.g. `default`): emit only the imagePullSecrets to merge
    origin: Origin


class ConnectionContext(Struct, frozen=True):
    """`context: {connection: ...}`: a git, bucket (s3/gcs/wasb) or volume (volume_claim/host_path) connection."""

    connection: str
    revision: str | None
    origin: Origin
    path: str | None = None  # the tarball in a bucket, or a directory under a volume's mountPath
    ssh: str | None = None  # an ssh connection holding the key for a git-over-SSH url


class Build(Struct, frozen=True):
    """One image build from the config's `builds`: what to build, with which builder, pushed where."""

    name: str
    connection: str
    builder: str
    image: str
    tags: tuple[str, ...]
    context: str | ConnectionContext | None
    context_sub_path: str | None
    dockerfile: str
    cache: bool
    build_args: tuple[tuple[str, str], ...]
    extra_connections: tuple[str, ...]
    resources: Mapping[str, Any] | None
    origin: Origin


class JobDefaults(Struct, frozen=True):
    """Settings every generated Job gets unless a build says otherwise."""

    backoff_limit: int
    ttl_seconds_after_finished: int | None
    active_deadline_seconds: int | None
    service_account_name: str | None
    resources: Mapping[str, Any] | None


class GeneratorOptions(Struct, frozen=True):
    """`generatorOptions`: how Secrets are named and labelled (kustomize's own options; secretMode is read into each Credential)."""

    disable_name_suffix_hash: bool
    behavior: str | None
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]


class GeneratorConfig(Struct, frozen=True):
    """A whole ConnectionGenerator config with its catalogs loaded: the planner's only input."""

    name: str
    namespace: str | None
    root: str
    connections: tuple[Connection, ...]
    credentials: tuple[Credential, ...]
    builds: tuple[Build, ...]
    builder_images: tuple[tuple[str, str], ...]
    options: GeneratorOptions
    job_defaults: JobDefaults
    templates_dir: str | None
    origin: Origin
    builder_security: tuple[tuple[str, Any], ...] = ()  # securityContext replacing a builder's default
    pull_secrets: tuple[PullSecrets, ...] = ()
    lifecycle: str = "plain"  # how Jobs survive the next apply: plain | argocd | helm | flux (generator.model.lifecycle)
    strict: bool = False  # warnings are errors
    docker_socket: str | None = None  # the node's Docker socket for the dockerizer, when not the default
    existing_secrets: tuple[ExistingSecret, ...] = ()
    templates_root: str | None = None  # every file a template loads must resolve inside it; None: anywhere

