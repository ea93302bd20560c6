"""Registry providers: which registry a connection points at, and what pushing there needs.

The provider comes from the host in `schema.url` (or `schema.provider`, which wins). Most
providers differ only in the `auths` key and the repository layout; ECR, ACR and GCR also
have a credential helper built into kaniko, used with `schema.auth: helper`. A helper reads
cloud credentials (a mounted file, environment variables, or the pod's workload identity),
never a docker config. Everything here is data; planning applies it without knowing names.
"""

from __future__ import annotations

import re

from msgspec import Struct

PROVIDERS = ("dockerhub", "ghcr", "quay", "gcr", "ecr", "acr", "generic")
AUTH_MODES = ("dockerConfig", "helper")
CA_KEY = "ca.crt"

_ECR = re.compile(r"[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
_ACR = re.compile(r"[a-z0-9]+\.azurecr\.(io|cn|de|us)")
#: hosts that name their provider outright
_NAMED_HOSTS = {**dict.fromkeys(("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"),
                                "dockerhub"), "ghcr.io": "ghcr", "quay.io": "quay", "gcr.io": "gcr", "public.ecr.aws": "ecr"}
_IN_CLUSTER = re.compile(r"[^:]+\.svc(\.cluster\.local)?(:[0-9]+)?")


class Helper(Struct, frozen=True):
    """A credential helper linked into the builder, and how it finds cloud credentials.

    `secret_as`: "mount" puts the connection's Secret at `mount_path` (`~` is the builder's
    HOME); "env" exposes its keys as environment variables. `file_env` names a variable that
    must point at the one file of the mounted Secret (`default_file` when there are no items).
    `mount_path` "~/.aws" is under the builder image's HOME.
    """

    name: str
    env: tuple[tuple[str, str], ...]
    secret_as: str
    mount_path: str | None
    file_env: str | None
    default_file: str | None
    secret_holds: str
    identity: str
    relocate: tuple[tuple[str, str], ...] = ()  # variables naming each file when the mount is not the default


class Provider(Struct, frozen=True):
    """What a registry provider (Docker Hub, ECR, GCR...) asks of a push: repository depth, auth, credential helper."""

    name: str
    title: str
    namespace_depth: int  # repository path components a push needs before the image name
    namespace_hint: str
    helper: Helper | None = None
    default_auth: str = "dockerConfig"
    static_password: bool = True  # False: a generated username/password Secret would expire


PROVIDER_INFO: dict[str, Provider] = {
    "dockerhub": Provider("dockerhub", "Docker Hub", 1, "docker.io/<user-or-org>/<image>"),
    "ghcr": Provider("ghcr", "GitHub Container Registry", 1, "ghcr.io/<owner>/<image>"),
    "quay": Provider("quay", "Quay", 1, "quay.io/<namespace>/<image>"),
    "gcr": Provider("gcr", "Google Container/Artifact Registry", 1,
                    "gcr.io/<project>/<image> or <region>-docker.pkg.dev/<project>/<repository>/<image>",
                    Helper("google", (), "mount", "/secret", "GOOGLE_APPLICATION_CREDENTIALS", "key.json",
                           "a service-account key JSON file",
                           "GKE Workload Identity: a ServiceAccount annotated iam.gke.io/gcp-service-account")),
    "ecr": Provider("ecr", "Amazon ECR", 0, "<account>.dkr.ecr.<region>.amazonaws.com/<repository>",
                    Helper("ecr-login", (("AWS_SDK_LOAD_CONFIG", "true"),), "mount", "~/.aws", None, None,
                           "an AWS credentials file (keys credentials, config)",
                           "IRSA: a ServiceAccount annotated eks.amazonaws.com/role-arn (or the node's role)",
                           (("AWS_SHARED_CREDENTIALS_FILE", "credentials"), ("AWS_CONFIG_FILE", "config"))),
                    default_auth="helper", static_password=False),
    "acr": Provider("acr", "Azure Container Registry", 0, "<name>.azurecr.io/<repository>",
                    Helper("acr-env", (), "env", None, None, None,
                           "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID of a service principal",
                           "the managed identity of the node (MSI)")),
    "generic": Provider("generic", "registry", 0, "<host>/<repository>"),
}


def detect(host: str) -> str:
    """The provider a registry host belongs to; `generic` when it is not a known service."""
    name = host.split(":", 1)[0]
    named = _NAMED_HOSTS.get(name)  # one look-up for the usual host, which is none of them
    if named is not None:
        return named
    if name.endswith((".gcr.io", ".pkg.dev")):
        return "gcr"
    if ".dkr.ecr" in name and _ECR.fullmatch(name):
        return "ecr"
    if ".azurecr." in name and _ACR.fullmatch(name):
        return "acr"
    return "generic"


def in_cluster(host: str) -> bool:
    """A registry reached through a cluster Service name (`<svc>.<ns>.svc.cluster.local:5000`)."""
    return ".svc" in host and bool(_IN_CLUSTER.fullmatch(host))


def namespace_problem(provider: Provider, host: str, path: str, repository: str) -> str | None:
    """Why a push to `host/path/repository` would be refused for lack of a namespace, if it would."""
    depth = provider.namespace_depth
    if provider.name == "gcr" and host.split(":", 1)[0].endswith(".pkg.dev"):
        depth = 2  # Artifact Registry: <project>/<repository>/<image>
    # `path` has no empty components (RegistryAddress): its slashes separate them, as the repository's do
    if depth and (path.count("/") + 1 if path else 0) + repository.count("/") < depth:
        return f"{provider.title} images need a namespace: {provider.namespace_hint}"
    return None
