"""Planning: which Secrets and Jobs to make, and exactly where each credential is mounted.

Pure: it reads the typed config and returns data; no files, no environment, no templates.
Builder-specific facts come only from `builders.PROFILES`.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, NamedTuple

from msgspec import Struct, structs

from generator.model.builders import DOCKER_SOCKET, PROFILES, BuilderProfile
from generator.plan.contexts import ContextFetch, ContextPlanner, GitClone
from generator.errors import Issue, Origin, UserError, dotted, shown
from generator.model.records import Build, Connection, Credential, GeneratorConfig, KeyToPath
from generator.model.lifecycle import MODES, hashed_job_name
from generator.model.names import dns_label
from generator.plan.pod import Pod, expose, resource_volume, use_connection
from generator.plan.podcheck import (cache_warning, check_credentials_env, check_modes, check_mounts, local_context_dir,
                                     pod_reads)
from generator.model.providers import CA_KEY, PROVIDER_INFO, Helper, Provider, detect, in_cluster, namespace_problem
from generator.model.records import RegistrySchema
from generator.model.registry import AddressError, image_destinations, split_image

DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
#: the key of an existing registry Secret, unless the catalog's items or the config's existingSecrets say otherwise:
#: Polyaxon's docs create it with `kubectl create secret generic docker-conf --from-file=config.json=./config.json`
EXISTING_SECRET_KEY = "config.json"
MANAGED_BY = {"app.kubernetes.io/managed-by": "conngen"}
NEEDS_HASH = "kustomize.config.k8s.io/needs-hash"
BEHAVIOR = "kustomize.config.k8s.io/behavior"


class SecretPlan(Struct, frozen=True):
    """One registry Secret to render: its name, the registries it holds, and where its credentials come from."""

    name: str
    namespace: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    credential: Credential
    servers: tuple[str, ...]  # auths keys this Secret must hold


class CredentialPath(Struct, frozen=True):
    """How a build's registry credentials travel, for `explain` and the render check."""

    registry: str
    secret: str | None
    generated: bool
    volume: str | None
    key: str | None
    mount_path: str | None
    mounted_file: str | None
    reads: str
    docker_config: str | None
    provider: str = "generic"
    helper: str | None = None  # a credential helper built into the builder, used instead of a docker config
    helper_source: str | None = None  # where that helper finds cloud credentials
    key_source: str | None = None  # who chose `key`: generated, items, existingSecrets or default


class RegistryCA(Struct, frozen=True):
    """A private registry CA mounted into the builder pod."""

    host: str
    directory: str
    file: str


class JobPlan(Struct, frozen=True):
    """One builder Job to render: every value its template prints, decided here so templates only lay them out."""

    name: str
    build: str
    namespace: str | None
    builder: str
    template: str
    image: str
    labels: dict[str, str]
    annotations: dict[str, str]
    pod_annotations: dict[str, str]
    destinations: tuple[str, ...]
    context: str
    context_sub_path: str | None
    dockerfile: str
    cache: bool
    build_args: tuple[tuple[str, str], ...]
    insecure_registries: tuple[str, ...]
    env: tuple[dict, ...]
    env_from: tuple[dict, ...]
    volume_mounts: tuple[dict, ...]
    volumes: tuple[dict, ...]
    workspace: str
    git_clone: GitClone | None
    context_fetch: ContextFetch | None
    resources: Any
    backoff_limit: int
    ttl_seconds_after_finished: int | None
    active_deadline_seconds: int | None
    service_account_name: str | None
    credential: CredentialPath
    security_context: Any = None
    registry_ca: RegistryCA | None = None

    @property
    def context_dir(self) -> str:
        """The local build context directory, sub-path included (builders that take a path)."""
        return self.context.rstrip("/") + "/" + self.context_sub_path if self.context_sub_path else self.context

    @property
    def dockerfile_file(self) -> str:
        """The Dockerfile as an absolute path: `dockerfile` is relative to the context directory."""
        return self.context_dir.rstrip("/") + "/" + self.dockerfile

    @property
    def dockerfile_dir(self) -> str:
        return self.dockerfile_file.rsplit("/", 1)[0] or "/"

    @property
    def dockerfile_name(self) -> str:
        return self.dockerfile_file.rsplit("/", 1)[1]

    @property
    def cache_repository(self) -> str:
        """`<first destination's repository>/cache`, the repository kaniko infers for its layer cache."""
        ref = self.destinations[0]
        name, _, tag = ref.rpartition(":")
        return (name if name and "/" not in tag else ref) + "/cache"


class Wiring(Struct, frozen=True):
    """What wiring a builder pod decided, besides the pod itself: where credentials travel, the CA, the context."""

    credential: CredentialPath
    registry_ca: RegistryCA | None
    context: str
    step: GitClone | ContextFetch | None  # the init step that brings the context, when the builder cannot


class Registry(Struct, frozen=True):
    """A registry connection as planning uses it, worked out once however many builds push there."""

    conn: Connection
    schema: RegistrySchema
    provider: Provider
    auth: str  # dockerConfig or helper: schema.auth, else the provider's default
    helper: Helper | None  # the credential helper asked instead of a docker config (auth helper), if it has one
    auth_key: str  # schema.address.auth_key


class ServiceAccountPlan(Struct, frozen=True):
    """A ServiceAccount listing registry Secrets in imagePullSecrets (kustomize renames them with the hash)."""

    name: str
    namespace: str | None
    labels: dict[str, str]  # empty for a patch: the existing account keeps its own
    pull_secrets: tuple[str, ...]
    patch: bool


class Plan(Struct, frozen=True):
    """Everything one config produces, in output order, plus the warnings found while planning."""

    secrets: tuple[SecretPlan, ...]
    jobs: tuple[JobPlan, ...]
    warnings: tuple[Issue, ...]
    service_accounts: tuple[ServiceAccountPlan, ...] = ()


class Planner:
    """Plans one config: its catalog indexed once, then its Secrets, ServiceAccounts and Jobs.

    Every problem found goes to `issues` (shared with each Pod and with the ContextPlanner), so
    one run reports them all; `run` raises them together.
    """

    def __init__(self, config: GeneratorConfig, job_templates: Mapping[str, str]):
        self.config = config
        self.lifecycle = MODES[config.lifecycle]
        self.job_templates = job_templates  # template name -> digest of what its Jobs are rendered from
        self.issues: list[Issue] = []
        self.warned: set[str] = set()  # messages `_warn_once` said: a set, not a scan of issues for each Job
        self.connections: dict[str, Connection] = {}  # filled by index()
        self.registries: dict[str, Registry] = {}  # the registry connections, by name: filled by index()
        self.credentials = {c.secret_name: c for c in config.credentials}
        self.existing = {e.name: e for e in config.existing_secrets}
        self.images = dict(config.builder_images)
        security = dict(config.builder_security)
        # each builder's securityContext: the config's, else the profile's; one dict its Jobs share
        self.security = {name: security.get(name, dict(p.security_context or {})) or None for name, p in PROFILES.items()}
        self.users = {name: p.run_as(self.security[name]) for name, p in PROFILES.items()}  # uid, gid of each builder
        self.contexts = ContextPlanner(self.connections, self.images, self.issues)
        self.labels = dict(config.options.labels)  # the config's own, on every object
        # each builder's Job labels, the instance (the Job's name) left to fill in
        self.job_labels = {name: {**self.labels, "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "",
                                  "app.kubernetes.io/component": "image-build", "app.kubernetes.io/part-of": config.name,
                                  **MANAGED_BY} for name in PROFILES}
        # every Job's own annotations: one dict they share, as their securityContext
        self.job_annotations = {**dict(config.options.annotations), **dict(self.lifecycle.job_annotations)}

    def error(self, origin: Origin | None, message: str, hint: str = "") -> None:
        self.issues.append(Issue(origin, message, hint))

    def raise_errors(self) -> None:
        """Raise every issue found so far (warnings too, for context) if any is an error."""
        if any(i.severity == "error" for i in self.issues):
            raise UserError(self.issues)

    def run(self) -> Plan:
        self.index()
        secrets = self._secrets()
        accounts = self._service_accounts()
        jobs = []
        job_names: dict[str, Build] = {}
        for build in self.config.builds:
            name = dns_label(build.name)  # the Job's name before the lifecycle may hash it
            job = self._job(build, name)
            if job is None:
                continue
            if name in job_names:
                self.error(build.origin.at("name"), f"build {shown(build.name)} gives the same Job name "
                           f"{shown(name)} as build {shown(job_names[name].name)}", "rename one of the builds")
                continue
            job_names[name] = build
            jobs.append(job)
        self.raise_errors()
        return Plan(tuple(secrets), tuple(jobs), tuple(self.issues), accounts)

    def index(self) -> None:
        """Index the catalog: each connection by name, and each registry's address, provider and auth mode."""
        for conn in self.config.connections:
            if conn.name in self.connections:
                prior = self.connections[conn.name].origin
                self.error(conn.origin.at("name"), f"duplicate connection name {shown(conn.name)} "
                           f"(first defined in {prior.file} at {dotted(prior.path)})",
                           "connection names must be unique across all catalogs")
                continue
            self.connections[conn.name] = conn
            if isinstance(conn.schema, RegistrySchema):  # conn.registry, without a call per connection
                self.registries[conn.name] = self._index_provider(conn, conn.schema)
        self._check_existing_secrets()

    def _secrets(self) -> list[SecretPlan]:
        users: dict[str, list[Registry]] = {}
        for reg in self.registries.values():
            if reg.conn.secret is not None:
                users.setdefault(reg.conn.secret.name, []).append(reg)
        builds = self.config.builds
        used = {b.connection for b in builds}.union(*(b.extra_connections for b in builds if b.extra_connections))
        mounted = {c.secret.name for name in used  # Secrets some build's pod mounts
                   if (c := self.connections.get(name)) is not None and c.secret is not None}
        options = self.config.options
        base_annotations = {**dict(options.annotations), **dict(self.lifecycle.other_annotations)}
        behavior = {BEHAVIOR: options.behavior} if options.behavior else {}
        # every Secret shares one labels dict and one of two annotation dicts, as Jobs share theirs
        kept, hashed = {**base_annotations, **behavior}, {**base_annotations, NEEDS_HASH: "true", **behavior}
        labels = {**self.labels, "app.kubernetes.io/name": "conngen",
                  "app.kubernetes.io/instance": self.config.name,
                  "app.kubernetes.io/component": "registry-credentials", **MANAGED_BY}
        out = []
        for name in sorted(self.credentials):
            cred = self.credentials[name]
            conns = users.get(name)
            if not conns:
                known = ", ".join(sorted(users)) or "none"
                self.error(cred.origin, f"credentials {shown(name)} are not used by any registry connection",
                           f"key credentials by a registry connection's secret.name (in use: {known})")
                continue
            for reg in conns:
                if reg.conn.secret.items:  # type: ignore[union-attr]  # users holds connections with a secret
                    self._check_generated_items(reg.conn)
            servers = (conns[0].auth_key,) if len(conns) == 1 else tuple(sorted({reg.auth_key for reg in conns}))
            # ESO creates an ExternalSecret's Secret under the plain name, and a Secret a Job mounts must keep
            # its name (a renamed one would change every Job's pod template): kustomize must not hash either
            hash_name = not options.disable_name_suffix_hash and cred.external is None and name not in mounted
            out.append(SecretPlan(name, self.config.namespace, labels, hashed if hash_name else kept, cred, servers))
        return out

    def _service_accounts(self) -> tuple[ServiceAccountPlan, ...]:
        labels = {**self.labels, "app.kubernetes.io/name": "conngen",
                  "app.kubernetes.io/instance": self.config.name, "app.kubernetes.io/component": "image-pull",
                  **MANAGED_BY}
        return tuple(ServiceAccountPlan(p.service_account, self.config.namespace, {} if p.patch else labels,
                                        p.secrets, p.patch) for p in self.config.pull_secrets)

    def _check_generated_items(self, conn: Connection) -> None:
        assert conn.secret is not None
        for i, item in enumerate(conn.secret.items or ()):
            if item.key != DOCKERCONFIGJSON_KEY:
                self.error(conn.secret.origin.at("items", i),
                           f"secret {shown(conn.secret.name)} is generated with the single key {DOCKERCONFIGJSON_KEY}; "
                           f"items names key {shown(item.key)}",
                           "remove items (conngen maps .dockerconfigjson to config.json) "
                           "or write {key: .dockerconfigjson, path: config.json}")

    def _registry(self, build: Build) -> Registry | None:
        reg = self.registries.get(build.connection)
        if reg is not None:
            return reg
        conn = self.connections.get(build.connection)
        origin = build.origin.at("connection")
        if conn is None:
            registries = [c.name for c in self.connections.values() if c.kind == "registry"]
            import difflib  # only on this error path

            close = difflib.get_close_matches(build.connection, registries, n=1)
            hint = f"did you mean {shown(close[0])}?" if close else f"registry connections: {', '.join(registries) or 'none'}"
            self.error(origin, f"build {shown(build.name)} names connection {shown(build.connection)}, which is not in the catalog", hint)
            return None
        listed = ", ".join(c.name for c in self.connections.values() if c.kind == "registry") or "none"
        self.error(origin, f"connection {shown(conn.name)} is a {conn.kind} connection, a build needs a registry connection",
                   f"name a registry connection (the catalog's: {listed})")
        return None

    def _job(self, build: Build, name: str) -> JobPlan | None:
        """The build's Job: check what was asked, wire the pod, check the pod, record; None after an error."""
        reg = self._registry(build)
        if reg is None:
            return None
        before = len(self.issues)
        profile = PROFILES[build.builder]
        dests = self._check_build(build, reg, profile)
        if dests is None:
            return None
        pod = Pod(build.origin, self.issues)
        wiring = self._wire(pod, build, reg, profile)
        self._check_pod(pod, build, reg, profile, wiring)
        if len(self.issues) > before and any(i.severity == "error" for i in self.issues[before:]):
            return None
        return self._record(build, name, reg, profile, pod, wiring, dests)

    def _check_build(self, build: Build, reg: Registry, profile: BuilderProfile) -> list[str] | None:
        """Refuse what the builder cannot do or the registry would refuse; the images pushed, None if unknowable."""
        try:
            repository, tag = split_image(build.image)
            dests = image_destinations(reg.schema.address, repository, tag, build.tags)
        except AddressError as exc:
            self.error(build.origin.at("image"), str(exc), exc.hint)
            return None
        if len(dests) > 1 and not profile.multiple_destinations:
            self.error(build.origin.at("tags"), f"{profile.name} pushes a single destination", "remove tags, or use kaniko")
        if build.build_args and not profile.build_args:
            self.error(build.origin.at("buildArgs"), f"{profile.name} does not take build arguments", "use kaniko")
        if build.dockerfile != "Dockerfile" and not profile.dockerfile_path:
            self.error(build.origin.at("dockerfile"), f"{profile.name} always reads Dockerfile at the context root",
                       "remove dockerfile, or use kaniko")
        self._check_provider(build, reg, repository, profile)
        return dests

    def _wire(self, pod: Pod, build: Build, reg: Registry, profile: BuilderProfile) -> Wiring:
        """Put into the pod everything the builder needs: its env, credentials, CA, connections, context and mounts."""
        for name, value in profile.env:
            pod.set_env({"name": name, "value": value}, build.origin)
        credential = self.wire_credentials(pod, reg, profile)
        registry_ca = self._registry_ca(pod, build, reg, profile)
        use_connection(pod, reg.conn, mount_secret=False)
        context, step = self.contexts.context(pod, build, profile)
        for name in build.extra_connections:
            extra = self.connections.get(name)
            if extra is None:
                self.error(build.origin.at("connections"), f"connection {shown(name)} is not in the catalog")
                continue
            use_connection(pod, extra)
        for host in profile.host_mounts:
            node_path = self.config.docker_socket if host.name == DOCKER_SOCKET and self.config.docker_socket \
                else host.path
            pod.mount(host.name, {"hostPath": {"path": node_path, "type": host.type}}, host.path, False, build.origin)
            self._warn_once(Issue(build.origin.at("builder"), f"{profile.name} builds through the node's Docker "
                                  f"Engine: it mounts the node's {node_path} (hostPath), which needs Docker Engine on "
                                  "every node (containerd-only nodes, the default since Kubernetes 1.24, have no such "
                                  "socket) and which Pod Security 'baseline' refuses",
                                  "use kaniko or buildkit; or run builds in a namespace whose Pod Security level is "
                                  "privileged and set builders.dockerizer.dockerSocket if the socket is elsewhere",
                                  severity="warning"))
        for scratch in profile.scratch:
            pod.mount(scratch.name, {"emptyDir": {}}, scratch.path, False, build.origin)
        return Wiring(credential, registry_ca, context, step)

    def _check_pod(self, pod: Pod, build: Build, reg: Registry, profile: BuilderProfile, wiring: Wiring) -> None:
        """Refuse a wired pod the builder could not run in or read from; warn about how it will push."""
        conn = reg.conn
        check_mounts(pod, profile, local_context_dir(wiring.context, build.context_sub_path))
        check_credentials_env(pod, profile, wiring.credential.mounted_file, wiring.credential.secret, conn.origin)
        if build.cache:
            cache_warning(pod, profile, build.cache, build.origin)
        check_modes(pod, profile, self.users[profile.name])
        if reg.schema.insecure:
            for note in profile.notes:
                self.issues.append(Issue(conn.origin.at("schema", "insecure"), note, severity="warning"))
        elif reg.schema.address.plain_http_scheme:
            self.issues.append(Issue(conn.origin.at("schema", "url"), "url says http:// but insecure is not set: "
                                     "the builder will push over HTTPS", "set schema.insecure: true for a plain-HTTP registry",
                                     severity="warning"))

    def _record(self, build: Build, name: str, reg: Registry, profile: BuilderProfile, pod: Pod, wiring: Wiring,
                dests: list[str]) -> JobPlan:
        """The Job as its template prints it, under its lifecycle's name: in hashed modes `<name>-<hash>`.

        The hash covers everything its pod template is made of, so the record is first made with
        the fields a Job may change in place (its own annotations, backoffLimit, TTL, deadline)
        left out: changing them updates the Job instead of running the build again. So is the
        credential route, which `explain` and the render check read and no template prints.
        """
        config = self.config
        defaults = config.job_defaults
        labels = self.job_labels[profile.name].copy()
        labels["app.kubernetes.io/instance"] = name
        step, schema = wiring.step, reg.schema
        # positional, in JobPlan's field order: msgspec matching 31 keywords by name cost a tenth of planning
        inputs = JobPlan(
            "", build.name, config.namespace, profile.name, profile.template,  # name .. template
            self.images.get(profile.name, profile.image), labels, {},  # image, labels, annotations
            dict(sorted(pod.annotations.items())) if pod.annotations else {},  # pod_annotations
            tuple(dests), wiring.context, build.context_sub_path, build.dockerfile, build.cache, build.build_args,
            (schema.address.host,) if schema.insecure else (),  # insecure_registries
            tuple(pod.env), tuple(pod.env_from), tuple(pod.mounts), tuple(pod.volumes), profile.workspace,
            step if isinstance(step, GitClone) else None, step if isinstance(step, ContextFetch) else None,
            build.resources if build.resources is not None else defaults.resources,
            0, None, None, defaults.service_account_name,  # backoff_limit, TTL, deadline, service_account_name
            None, self.security[profile.name], wiring.registry_ca)  # type: ignore[arg-type]  # credential ..
        if self.lifecycle.hashed_names:
            name = hashed_job_name(name, inputs, self.job_templates[profile.template])
        return structs.replace(inputs, name=name, annotations=self.job_annotations,
                               backoff_limit=defaults.backoff_limit,
                               ttl_seconds_after_finished=defaults.ttl_seconds_after_finished,
                               active_deadline_seconds=defaults.active_deadline_seconds, credential=wiring.credential)

    def _warn_once(self, warning: Issue) -> None:
        """A warning said once, however many builds meet it (its message names what it is about)."""
        if warning.message not in self.warned:
            self.warned.add(warning.message)
            self.issues.append(warning)

    def _index_provider(self, conn: Connection, schema: RegistrySchema) -> Registry:
        """Resolve the connection's provider and auth mode; refuse what the provider cannot do."""
        address = schema.address
        provider = PROVIDER_INFO[schema.provider or detect(address.host)]
        auth = schema.auth or provider.default_auth
        reg = Registry(conn, schema, provider, auth, provider.helper if auth == "helper" else None, address.auth_key)
        if auth == "helper" and provider.helper is None:
            self.error(conn.origin.at("schema", "auth"), f"{provider.title} has no credential helper",
                       "remove auth: helper; the connection's secret is then a docker config.json "
                       "(helpers exist for ecr, acr and gcr)")
            return reg
        if auth == "helper" and provider.helper is not None and detect(address.host) != provider.name:
            self.error(conn.origin.at("schema", "provider"), f"the {provider.helper.name} credential helper answers only "
                       f"for {provider.title} hosts, not {address.host}",
                       "use the registry's own host name, or set schema.auth: dockerConfig")
        cred = self.credentials.get(conn.secret.name) if conn.secret else None
        if cred is None:
            return reg
        if auth == "helper" and provider.helper is not None:
            self.error(cred.origin, f"connection {shown(conn.name)} uses the {provider.helper.name} credential helper, so its "
                       f"secret {shown(cred.secret_name)} holds {provider.helper.secret_holds}, not a docker config",
                       "remove this credentials entry and create that Secret yourself, "
                       "or set schema.auth: dockerConfig on the connection")
        elif not provider.static_password:
            self.error(cred.origin, f"{provider.title} has no static password: a login token expires after 12 hours, "
                       f"so a generated Secret for connection {shown(conn.name)} would stop working",
                       "use schema.auth: helper (kaniko's ecr-login with IRSA or an AWS credentials Secret), or keep "
                       "an existing Secret fresh with External Secrets' ECRAuthorizationToken generator")
        return reg

    def _check_provider(self, build: Build, reg: Registry, repository: str, profile: BuilderProfile) -> None:
        """Combinations of builder and registry that would only fail once the Job runs."""
        conn, address, provider = reg.conn, reg.schema.address, reg.provider
        if provider.namespace_depth and (problem := namespace_problem(provider, address.host, address.path, repository)):
            self.error(build.origin.at("image"), problem, f"add the namespace to schema.url of {shown(conn.name)} or to the image")
        helper = reg.helper
        if helper is not None and provider.name not in profile.helpers:
            able = sorted(n for n, p in PROFILES.items() if provider.name in p.helpers)
            self.error(build.origin.at("builder"), f"{profile.name} cannot use the {helper.name} credential helper "
                       f"that connection {shown(conn.name)} ({provider.title}) needs: only {', '.join(able)} has it built in",
                       f"use builder: {able[0]}, or set schema.auth: dockerConfig on {shown(conn.name)} with a docker config "
                       "Secret kept fresh outside conngen" if able else "set schema.auth: dockerConfig")
        if in_cluster(address.host):
            if not profile.cluster_dns:
                self.error(build.origin.at("builder"), f"{profile.name} pushes through the node's docker daemon, which "
                           f"cannot resolve the cluster Service name {address.host}",
                           "expose the registry on a NodePort and use url: 127.0.0.1:<nodePort>, or use kaniko")
            elif not reg.schema.insecure and not reg.schema.ca:
                warning = Issue(conn.origin.at("schema", "url"), f"in-cluster registry {address.host} is pushed to "
                                "over HTTPS with public CAs",
                                "set schema.insecure: true for plain HTTP, or schema.ca for a private CA", severity="warning")
                self._warn_once(warning)  # once per connection, however many builds use it

    def wire_credentials(self, pod: Pod, reg: Registry, profile: BuilderProfile) -> CredentialPath:
        """Wire registry `reg`'s credentials into `pod`, where `profile`'s builder reads them.

        A credential helper's cloud credentials, or the docker config Secret mounted (and the
        builder pointed at it): the one wiring of generated Jobs and of Helm-injected workloads.
        """
        helper = reg.helper
        if helper is not None:
            return self._helper_credentials(pod, reg, profile, helper)
        return self._mount_credentials(pod, reg, profile)

    def _helper_credentials(self, pod: Pod, reg: Registry, profile: BuilderProfile, helper: Helper) -> CredentialPath:
        """Wire a credential helper's cloud credentials: a mounted Secret, env vars, or the pod's identity."""
        conn = reg.conn
        for name, value in helper.env:
            pod.set_env({"name": name, "value": value}, conn.origin)
        secret = conn.secret
        if secret is None:
            source = helper.identity
            warning = Issue(conn.origin, f"connection {shown(conn.name)} has no secret: {helper.name} uses the pod's "
                            f"identity ({helper.identity})", "set jobDefaults.serviceAccountName to that ServiceAccount",
                            severity="warning")
            if not self.config.job_defaults.service_account_name:
                self._warn_once(warning)
        elif helper.secret_as == "env":
            if secret.mount_path:
                self.error(secret.origin.at("mountPath"), f"{helper.name} reads {helper.secret_holds} from environment "
                           "variables; a mounted file is never read", "remove mountPath: the secret's keys become "
                           "environment variables")
            expose(pod, secret, "secret")
            source = f"environment variables from Secret {secret.name}"
        else:
            assert helper.mount_path is not None
            default = profile.home.rstrip("/") + helper.mount_path[1:] if helper.mount_path.startswith("~") \
                else helper.mount_path
            mount_path = secret.mount_path or default
            source_volume = resource_volume("secret", secret.name, secret.items, secret.default_mode)
            pod.mount(secret.name, source_volume, mount_path, True, secret.origin.at("mountPath"))
            for name, file in helper.relocate if mount_path != default else ():
                pod.set_env({"name": name, "value": f"{mount_path.rstrip('/')}/{file}"}, secret.origin.at("mountPath"))
            if helper.file_env:
                items = secret.items or ()
                if len(items) > 1:
                    self.error(secret.origin.at("items"), f"{helper.name} reads one key file, but items project "
                               f"{len(items)} keys", "keep the one key that holds the key JSON")
                key_file = items[0].path if items else helper.default_file
                pod.set_env({"name": helper.file_env, "value": f"{mount_path.rstrip('/')}/{key_file}"},
                            secret.origin.at("mountPath"))
            source = f"Secret {secret.name} mounted at {mount_path}"
        reads = pod_reads(pod, profile)
        return CredentialPath(reg.auth_key, None, False, None, None, None, None, reads, None,
                              reg.provider.name, helper.name, source)

    def _registry_ca(self, pod: Pod, build: Build, reg: Registry, profile: BuilderProfile) -> RegistryCA | None:
        """Mount the CA that `schema.ca` names where the builder is told to read it."""
        name, address = reg.schema.ca, reg.schema.address
        if not name:
            return None
        origin = reg.conn.origin.at("schema", "ca")
        holder = self.connections.get(name)
        resource, kind = ((holder.config_map, "configMap") if holder and holder.config_map
                          else (holder.secret if holder else None, "secret"))
        if resource is None:
            self.error(origin, f"CA connection {shown(name)} " + ("is not in the catalog" if holder is None
                                                            else "has neither a configMap nor a secret"),
                       f"add a connection with configMap: {{name: <ConfigMap>, items: [{CA_KEY}]}}")
            return None
        if profile.ca_dir is None:
            self.error(build.origin.at("builder"), f"{profile.name} cannot take a registry CA from the pod: it pushes "
                       "through the node's docker daemon",
                       f"install the CA on every node as /etc/docker/certs.d/{address.host}/ca.crt, or use kaniko")
            return None
        items = resource.items or ()
        if len(items) > 1:
            self.error(resource.origin.at("items"), f"a CA connection projects one key (the PEM bundle), not {len(items)}")
            return None
        key = items[0].key if items else CA_KEY
        source = resource_volume(kind, resource.name, (KeyToPath(key, CA_KEY),), None)
        pod.mount("registry-ca", source, profile.ca_dir, True, origin)
        return RegistryCA(address.host, profile.ca_dir, f"{profile.ca_dir}/{CA_KEY}")

    def _check_existing_secrets(self) -> None:
        """Each existingSecrets entry names a Secret that a registry connection mounts and nothing else keys."""
        if not self.existing:
            return
        mounted: dict[str, list[Connection]] = {}
        for reg in self.registries.values():
            if reg.conn.secret is not None and reg.auth != "helper":
                mounted.setdefault(reg.conn.secret.name, []).append(reg.conn)
        for entry in self.existing.values():
            if entry.name in self.credentials:
                self.error(entry.origin, f"Secret {shown(entry.name)} is generated from credentials, with the key "
                           f"{DOCKERCONFIGJSON_KEY}", f"remove existingSecrets.{entry.name} or credentials.{entry.name}")
            elif entry.name not in mounted:
                self.error(entry.origin, f"no registry connection mounts a Secret named {shown(entry.name)}",
                           "existing registry Secrets in the catalog: "
                           f"{', '.join(sorted(set(mounted) - set(self.credentials))) or 'none'}")
            for conn in mounted.get(entry.name, ()):
                if conn.secret is not None and conn.secret.items:
                    self.error(entry.origin, f"connection {shown(conn.name)} already says with secret.items which key "
                               f"of {shown(entry.name)} to mount", "keep one of the two: the catalog's items or this entry")

    def _mount_credentials(self, pod: Pod, reg: Registry, profile: BuilderProfile) -> CredentialPath:
        """Mount the registry secret where the builder reads it; set DOCKER_CONFIG if needed."""
        secret, auth_key, provider = reg.conn.secret, reg.auth_key, reg.provider.name
        if secret is None:
            return CredentialPath(auth_key, None, False, None, None, None, None, profile.own_reads, None, provider)
        generated = secret.name in self.credentials
        mount_path = secret.mount_path or profile.default_mount_path
        origin = secret.origin.at("mountPath")
        if secret.items:
            items, key_source = secret.items, "items"
            key = next((i.key for i in items if i.path == profile.file_name), None)
            if key is None:
                self.error(secret.origin.at("items"), f"{profile.name} reads {profile.file_name}, but items project "
                           f"{', '.join(i.path for i in items)}",
                           f"map the key to {profile.file_name}: {{key: {DOCKERCONFIGJSON_KEY}, path: {profile.file_name}}} "
                           f"for a kubernetes.io/dockerconfigjson Secret, {{key: config.json, path: {profile.file_name}}} "
                           "for one made as Polyaxon's docs make it")
        else:  # the key that holds the docker config, and who said so
            existing = self.existing.get(secret.name)
            key, key_source = ((DOCKERCONFIGJSON_KEY, "generated") if generated else (existing.key, "existingSecrets")
                               if existing else (EXISTING_SECRET_KEY, "default"))
            items = _one_item(key, profile.file_name)
            if key_source == "default":
                self._warn_once(Issue(secret.origin.at("name"), f"existing Secret {shown(secret.name)} is mounted by its "
                                      f"key {key}, as Polyaxon's docs create it (kubectl create secret generic "
                                      "--from-file=config.json=...)", "a Secret from kubectl create secret "
                                      f"docker-registry holds {DOCKERCONFIGJSON_KEY} instead: say which in the generator "
                                      f"config, existingSecrets: {{{secret.name}: {{type: kubernetes.io/dockerconfigjson}}}} "
                                      "(or {type: Opaque} to confirm this one)", severity="warning"))
        source = resource_volume("secret", secret.name, items, secret.default_mode)
        volume = pod.mount(secret.name, source, mount_path, True, origin)
        mounted_file = f"{mount_path.rstrip('/')}/{profile.file_name}"
        docker_config = None
        if profile.own_reads != mounted_file:  # not where the image looks by itself
            docker_config = profile.auth_env_value(mount_path)
            pod.set_env({"name": profile.dir_env, "value": docker_config}, origin)
        return CredentialPath(auth_key, secret.name, generated, volume, key, mount_path, mounted_file,
                              pod_reads(pod, profile), docker_config, provider, None, None, key_source)

@functools.cache  # one per key and builder file name, so `resource_volume`'s projection cache hits at once
def _one_item(key: str, path: str) -> tuple[KeyToPath]:
    return (KeyToPath(key, path),)


def make_plan(config: GeneratorConfig, job_templates: Mapping[str, str]) -> Plan:
    """The plan of `config`; `job_templates` maps each builder template to the digest of its sources."""
    return Planner(config, job_templates).run()


class RegistryMount(NamedTuple):
    """What a pod needs so that a builder reads a registry connection's credentials."""

    volumes: tuple[dict, ...]
    mounts: tuple[dict, ...]
    env: tuple[dict, ...]
    credential: CredentialPath


def registry_mount(config: GeneratorConfig, connection: str, builder: str) -> RegistryMount | None:
    """Volumes, mounts and env that let `builder` read `connection`'s registry credentials.

    The same wiring a generated Job gets (`Planner.wire_credentials`), for a pod someone else
    wrote (a Helm chart's own Job), so the two can never disagree. None when `connection` is
    not a registry connection; raises the catalog's errors, and a wiring such a pod cannot take.
    """
    planner = Planner(config, {})
    planner.index()
    reg = planner.registries.get(connection)
    credential = None
    pod = Pod(config.origin, planner.issues)
    if reg is not None:
        conn, provider, profile = reg.conn, reg.provider, PROFILES[builder]
        helper = provider.helper
        if reg.auth == "helper" and (helper is None or provider.name not in profile.helpers):
            planner.error(conn.origin, f"{builder} cannot use the credential helper that connection {shown(connection)} "
                          f"({provider.title}) needs", "annotate the workload for kaniko, or set schema.auth: dockerConfig")
        else:
            credential = planner.wire_credentials(pod, reg, profile)
            if pod.env_from and helper is not None:  # the return shape carries env, not envFrom
                planner.error(conn.secret.origin if conn.secret else conn.origin, f"connection {shown(connection)} "
                              f"gives {helper.name} its credentials through envFrom, which an injected "
                              "workload cannot receive", "list the Secret's keys in items: one env var each")
    planner.raise_errors()
    if credential is None:
        return None
    return RegistryMount(tuple(pod.volumes), tuple(pod.mounts), tuple(pod.env), credential)
