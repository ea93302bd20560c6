"""Build contexts: a URL, or a git, bucket or volume connection of the catalog.

How each context reaches the builder: natively (kaniko fetches git over HTTPS and bucket
tarballs), as a mounted directory, or through an init step (a git clone, an rclone fetch).
"""

from __future__ import annotations

import re
from typing import Mapping

from msgspec import Struct

from generator.model.builders import FETCH_IMAGE, GIT_IMAGE, GIT_SSH_DIR, BuilderProfile
from generator.errors import Issue, Origin, shown
from generator.model.records import Build, Connection, ConnectionContext, KeyToPath
from generator.plan.pod import Pod, use_connection

GIT_ENV = {"username": "GIT_USERNAME", "password": "GIT_PASSWORD", "token": "GIT_TOKEN"}
BUCKET_SCHEMES = {"s3": "s3", "gcs": "gs"}  # wasb becomes an Azure blob https URL (_bucket_url)
VOLUME_KINDS = ("volume_claim", "host_path")
# a bucket secret mounted is read through this variable (None: never a file), else these env keys
# (None: only a file); the SDKs' documented names, see docs/reference.md "Builds"
BUCKET_CREDENTIALS: dict[str, tuple[str | None, tuple[str, ...] | None]] = {
    "s3": ("AWS_SHARED_CREDENTIALS_FILE", ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")),
    "gcs": ("GOOGLE_APPLICATION_CREDENTIALS", None),
    "wasb": (None, ("AZURE_STORAGE_ACCESS_KEY",)),
}
SSH_KEY = "ssh-privatekey"  # the key of a kubernetes.io/ssh-auth Secret
KNOWN_HOSTS = "known_hosts"


class GitClone(Struct, frozen=True):
    """The init step that clones a build context from a git connection (HTTPS token or SSH key)."""

    url: str
    revision: str | None
    image: str
    env: tuple[dict, ...]
    volume: str  # the emptyDir the clone lands in, shared with the builder
    mounts: tuple[dict, ...] = ()  # mounts of the clone step only (the SSH key)


class ContextFetch(Struct, frozen=True):
    """Downloads a bucket's context tarball into the workspace, for builders that cannot (rclone)."""

    kind: str  # s3 | gcs | wasb
    source: str  # rclone path: <bucket or container>/<object>
    account: str | None  # the Azure storage account (wasb)
    image: str
    env: tuple[dict, ...]
    env_from: tuple[dict, ...]
    volume: str
    mounts: tuple[dict, ...]


def _ssh_url(url: str) -> bool:
    """`ssh://...` or scp-like `user@host:path` (git's own rule: a colon before any slash)."""
    if "://" in url:
        return url.split("://", 1)[0] in ("ssh", "git+ssh")
    head = url.split("/", 1)[0]
    return ":" in head


def _local_dir(profile: BuilderProfile, directory: str) -> str:
    """A directory in the pod as the builder takes it: `dir://` for kaniko, a plain path for the others."""
    return f"dir://{directory}" if profile.context_urls else directory


class ContextPlanner:
    """Plans build contexts against a catalog; problems go to `issues`, the list the caller reports."""

    def __init__(self, connections: Mapping[str, Connection], images: Mapping[str, str], issues: list[Issue]):
        self.connections = connections  # by name: the caller may still be filling it
        self.images = images  # builders.<name>.image overrides, for the git and fetch steps
        self.issues = issues

    def error(self, origin: Origin | None, message: str, hint: str = "") -> None:
        self.issues.append(Issue(origin, message, hint))

    def context(self, pod: Pod, build: Build, profile: BuilderProfile) -> tuple[str, GitClone | ContextFetch | None]:
        """The context argument the builder gets, and a clone or fetch step when it cannot fetch it."""
        ctx = build.context
        if isinstance(ctx, str):
            return self._url_context(pod, ctx, profile, build.origin)
        if ctx is None:
            self.error(build.origin, f"build {shown(build.name)} has no context",
                       "add context: git://host/repo.git#refs/heads/main or {connection: <git connection>}")
            return "", None
        origin = build.origin.at("context")
        conn = self.connections.get(ctx.connection)
        usable = ("git", *BUCKET_SCHEMES, "wasb", *VOLUME_KINDS)
        if conn is None or conn.kind not in usable:
            names = sorted(c.name for c in self.connections.values() if c.kind in usable)
            self.error(origin.at("connection"), f"context connection {shown(ctx.connection)} " + (
                "is not in the catalog" if conn is None else f"is a {conn.kind} connection"),
                       f"a context is a git, s3, gcs, wasb, volume_claim or host_path connection "
                       f"(in the catalog: {', '.join(names) or 'none'})")
            return "", None
        if not self._context_fields(ctx, conn, origin):
            return "", None
        if conn.kind == "git":
            return self._git_context(pod, ctx, conn, profile, origin)
        if conn.kind in VOLUME_KINDS:
            return self._volume_context(pod, ctx, conn, profile, origin)
        return self._bucket_context(pod, build, ctx, conn, profile, origin)

    def _context_fields(self, ctx: ConnectionContext, conn: Connection, origin: Origin) -> bool:
        """Refuse fields that mean nothing for this kind of connection, rather than ignore them."""
        before = len(self.issues)
        if conn.kind != "git":
            for name, value in (("revision", ctx.revision), ("ssh", ctx.ssh)):
                if value is not None:
                    self.error(origin.at(name), f"{name} applies to git contexts; {shown(conn.name)} is a {conn.kind} connection",
                               f"remove {name}")
        if conn.kind == "git" and ctx.path is not None:
            self.error(origin.at("path"), "path applies to bucket and volume contexts, not git",
                       "for a directory inside the repository use contextSubPath")
        elif conn.kind not in ("git", *VOLUME_KINDS) and not ctx.path:
            self.error(origin, f"context connection {shown(conn.name)} is a {conn.kind} bucket: say which tarball in it "
                       "is the context", "add path: <dir>/<name>.tar.gz (a gzipped tar of the context)")
        if ctx.path is not None and (ctx.path.startswith("/") or ".." in ctx.path.split("/")):
            self.error(origin.at("path"), f"path {shown(ctx.path)} must be relative and stay inside the "
                       + ("bucket" if conn.kind not in VOLUME_KINDS else "volume"), "write it without a leading / or ..")
        return len(self.issues) == before

    def _url_context(self, pod: Pod, ctx: str, profile: BuilderProfile, build: Origin) -> tuple[str, GitClone | None]:
        scheme, sep, rest = ctx.partition("://")
        if not sep:
            scheme, rest = ("dir", ctx) if ctx.startswith("/") else ("", ctx)
        if scheme in profile.native_contexts:
            # builders other than kaniko take a local path, not a dir:// URL
            return (rest if scheme == "dir" and not profile.context_urls else ctx), None
        origin = build.at("context")
        if scheme != "git":
            self.error(origin, f"{profile.name} cannot fetch a {scheme or 'relative'} context {shown(ctx)}",
                       f"use one of: {', '.join(sorted(s + '://' for s in profile.native_contexts))}"
                       + (" or git://" if "git" not in profile.native_contexts else ""))
            return "", None
        url, _, ref = rest.partition("#")
        return self._clone(pod, profile, f"https://{url}", ref.split("#")[0] or None, [], (), origin)

    def _git_context(self, pod: Pod, ctx: ConnectionContext, git: Connection, profile: BuilderProfile,
                     origin: Origin) -> tuple[str, GitClone | None]:
        if git.git is None or not git.git.url:
            self.error(origin.at("connection"), f"context connection {shown(git.name)} has no schema.url",
                       "add schema.url: https://host/org/repo.git or git@host:org/repo.git")
            return "", None
        url, revision = git.git.url, ctx.revision or git.git.revision
        if git.git.flags:
            self.issues.append(Issue(git.origin.at("schema", "flags"), "git flags are not passed to the build context",
                                     severity="warning"))
        if _ssh_url(url):
            # no builder clones over SSH itself (kaniko's git context is HTTPS): always the clone step
            mount = self._ssh_key(pod, ctx, git, origin)
            if mount is None:
                return "", None
            key, hosts = f"{GIT_SSH_DIR}/id", f"{GIT_SSH_DIR}/{KNOWN_HOSTS}"
            command = f"ssh -i {key} -o IdentitiesOnly=yes -o UserKnownHostsFile={hosts} -o StrictHostKeyChecking=yes"
            return self._clone(pod, profile, url, revision, [{"name": "GIT_SSH_COMMAND", "value": command}], (mount,),
                               origin)
        if ctx.ssh is not None:
            self.error(origin.at("ssh"), f"ssh applies to an SSH git url; {shown(git.name)} has url {shown(url)}",
                       "remove ssh, or set schema.url to git@host:org/repo.git or ssh://git@host/org/repo.git")
            return "", None
        env = self._git_credentials(git)
        if "git" in profile.native_contexts:
            return self._kaniko_git_url(pod, url, revision, env, origin), None
        return self._clone(pod, profile, url, revision, env, (), origin)

    def _clone(self, pod: Pod, profile: BuilderProfile, url: str, revision: str | None, env: list[dict],
               mounts: tuple[dict, ...], origin: Origin) -> tuple[str, GitClone]:
        volume = pod.mount("workspace", {"emptyDir": {}}, profile.workspace, False, origin)
        clone = GitClone(url, revision, self.images.get("git", GIT_IMAGE), tuple(env), volume, mounts)
        return _local_dir(profile, profile.workspace), clone

    def _ssh_key(self, pod: Pod, ctx: ConnectionContext, git: Connection, origin: Origin) -> dict | None:
        """A read-only (0400) volume with the private key and known_hosts, for the clone step only."""
        holder: Connection | None = git
        if ctx.ssh is not None:
            holder = self.connections.get(ctx.ssh)
            if holder is None or holder.kind != "ssh":
                self.error(origin.at("ssh"), f"ssh connection {shown(ctx.ssh)} " + (
                    "is not in the catalog" if holder is None else f"is a {holder.kind} connection"),
                           f"name a connection of kind ssh whose secret holds {SSH_KEY}")
                return None
        assert holder is not None and git.git is not None
        hint = (f"give connection {shown(holder.name)} a secret with items [{SSH_KEY}, {KNOWN_HOSTS}] "
                "(a kubernetes.io/ssh-auth Secret plus the host keys), or name an ssh connection: "
                f"context: {{connection: {git.name}, ssh: <ssh connection>}}")
        secret = holder.secret
        if secret is None:
            self.error(origin, f"git url {shown(git.git.url)} is SSH, but connection {shown(holder.name)} has no secret "
                       "with a private key", hint)
            return None
        items = secret.items or (KeyToPath(SSH_KEY, SSH_KEY),)
        keys = [i.key for i in items if i.key == SSH_KEY or i.key.startswith("id_")]
        hosts = [i.key for i in items if i.key == KNOWN_HOSTS]
        strange = [i.key for i in items if i.key not in keys and i.key not in hosts]
        where = secret.origin.at("items") if secret.items else secret.origin
        if strange or len(keys) != 1:
            self.error(where, f"an SSH clone needs one private key ({SSH_KEY} or id_*) in secret {shown(secret.name)}"
                       + (f"; {', '.join(strange)} is not an SSH key" if strange else f", found {len(keys)}"), hint)
            return None
        sources: list[dict] = [{"secret": {"name": secret.name, "items": [
            {"key": keys[0], "path": "id"}, *({"key": KNOWN_HOSTS, "path": KNOWN_HOSTS} for _ in hosts)]}}]
        if not hosts:
            holder_map = holder.config_map
            map_items = (holder_map.items or (KeyToPath(KNOWN_HOSTS, KNOWN_HOSTS),)) if holder_map else ()
            if holder_map is None or len(map_items) != 1:
                self.error(holder_map.origin.at("items") if holder_map else where,
                           f"an SSH clone checks the host key, but connection {shown(holder.name)} gives no {KNOWN_HOSTS}",
                           f"add {KNOWN_HOSTS} to the secret's items, or a configMap with the single key {KNOWN_HOSTS} "
                           "(lines from ssh-keyscan, checked against the host's published fingerprints)")
                return None
            sources.append({"configMap": {"name": holder_map.name, "items": [{"key": map_items[0].key,
                                                                              "path": KNOWN_HOSTS}]}})
        volume = pod.volume("git-ssh", {"projected": {"defaultMode": 0o400, "sources": sources}})
        return {"name": volume, "mountPath": GIT_SSH_DIR, "readOnly": True}

    def _volume_context(self, pod: Pod, ctx: ConnectionContext, conn: Connection, profile: BuilderProfile,
                        origin: Origin) -> tuple[str, GitClone | None]:
        """A directory on a volume_claim/host_path connection, mounted where its schema says."""
        if "dir" not in profile.native_contexts:
            self.error(origin, f"{profile.name} cannot build from a local directory")
            return "", None
        assert isinstance(conn.schema, Mapping)
        use_connection(pod, conn)
        base = conn.schema["mountPath"].rstrip("/")
        directory = f"{base}/{ctx.path.strip('/')}" if ctx.path and ctx.path.strip("/") else base or "/"
        return _local_dir(profile, directory), None

    def _bucket_context(self, pod: Pod, build: Build, ctx: ConnectionContext, conn: Connection, profile: BuilderProfile,
                        origin: Origin) -> tuple[str, ContextFetch | None]:
        """kaniko fetches the tarball itself with the connection's credentials as Polyaxon exposes them;
        other builders get an rclone step, holding those credentials, that unpacks it into the workspace."""
        assert ctx.path is not None
        url = self._bucket_url(conn, ctx.path)
        if url is None:
            return "", None
        self._bucket_credentials(conn)
        if conn.kind in profile.native_buckets:
            use_connection(pod, conn)
            return url, None
        volume = pod.mount("workspace", {"emptyDir": {}}, profile.workspace, False, origin)
        step = pod.sibling()
        use_connection(step, conn)
        pod.annotate(step.annotations.items(), conn.origin.at("annotations"))
        if conn.kind == "wasb":  # https://<account>.blob.core.windows.net/<container>/<object>
            host, _, source = url.removeprefix("https://").partition("/")
            account: str | None = host.split(".", 1)[0]
        else:
            source, account = url.split("://", 1)[1], None
        fetch = ContextFetch(conn.kind, source, account, self.images.get("fetch", FETCH_IMAGE), tuple(step.env),
                             tuple(step.env_from), volume, tuple(step.mounts))
        return _local_dir(profile, profile.workspace), fetch

    def _bucket_url(self, conn: Connection, path: str) -> str | None:
        assert isinstance(conn.schema, Mapping)
        bucket = str(conn.schema["bucket"])
        where = conn.origin.at("schema", "bucket")
        if conn.kind == "wasb":
            match = re.fullmatch(r"wasbs?://([^@/]+)@([a-z0-9]+)\.blob\.core\.windows\.net(/[^?#]*)?", bucket)
            if match is None:
                self.error(where, f"wasb bucket {shown(bucket)} is not wasbs://<container>@<account>.blob.core.windows.net",
                           "write the bucket as Polyaxon does, e.g. wasbs://contexts@acme.blob.core.windows.net")
                return None
            container, account, prefix = match.groups()
            base = f"https://{account}.blob.core.windows.net/{container}{(prefix or '').rstrip('/')}"
        else:
            scheme = BUCKET_SCHEMES[conn.kind]
            found, sep, name = bucket.partition("://")
            if not sep:
                found, name = scheme, bucket
            if found != scheme or not name.strip("/"):
                self.error(where, f"{conn.kind} bucket {shown(bucket)} is not {scheme}://<bucket>[/prefix]",
                           f"write it as {scheme}://<bucket>")
                return None
            base = f"{scheme}://{name.rstrip('/')}"
        return f"{base}/{path.lstrip('/')}"

    def _bucket_credentials(self, conn: Connection) -> None:
        """Refuse a bucket secret exposed where the cloud SDK never reads it (BUCKET_CREDENTIALS)."""
        secret = conn.secret
        if secret is None:
            return  # the pod's identity: IRSA, GKE workload identity, Azure workload identity
        file_env, keys = BUCKET_CREDENTIALS[conn.kind]
        env = dict(conn.env)
        if secret.mount_path:
            mount = secret.mount_path.rstrip("/") + "/"
            if file_env is None:
                self.error(secret.origin.at("mountPath"), f"a {conn.kind} context's key is read from the environment "
                           f"({', '.join(keys or ())}); a mounted file is never read", "remove mountPath")
            elif not env.get(file_env, "").startswith(mount):
                self.error(conn.origin.at("env") if file_env in env else secret.origin.at("mountPath"),
                           f"a mounted {conn.kind} secret is read only through {file_env}, "
                           f"which must name a file under {mount}", f"add env {file_env}: {mount}<key file>")
        elif keys is None:
            self.error(secret.origin, f"a {conn.kind} secret is a key file: it must be mounted",
                       f"add mountPath and env {file_env}: <mountPath>/<key file>")
        elif secret.items and not set(keys) <= {i.key for i in secret.items}:
            self.error(secret.origin.at("items"), f"a {conn.kind} context reads {', '.join(keys)} from the environment",
                       "list those keys in items, or remove items to expose the whole Secret")

    def _kaniko_git_url(self, pod: Pod, url: str, revision: str | None, env: list[dict], origin: Origin) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in ("https", "http"):
            self.error(origin, f"git url {shown(url)} is not an http(s) URL; kaniko clones git contexts over HTTPS",
                       "use https://host/repo.git")
            return ""
        if scheme == "http":
            pod.set_env({"name": "GIT_PULL_METHOD", "value": "http"}, origin)
        for entry in env:
            pod.set_env(entry, origin)
        ref = "" if not revision else "#" + (revision if revision.startswith("refs/") else f"refs/heads/{revision}")
        return f"git://{rest}{ref}"

    def _git_credentials(self, git: Connection) -> list[dict]:
        """GIT_USERNAME/GIT_PASSWORD or GIT_TOKEN from the git connection's Secret keys."""
        if git.secret is None:
            return []
        items = git.secret.items or (KeyToPath("username", "username"), KeyToPath("password", "password"))
        env = []
        for i, item in enumerate(items):
            name = GIT_ENV.get(item.key.lower(), item.key if item.key in GIT_ENV.values() else None)
            if name is None:
                self.error(git.secret.origin.at("items", i), f"git secret key {shown(item.key)} is not a git credential",
                           "use keys username/password (kubernetes.io/basic-auth) or token")
                continue
            env.append({"name": name, "valueFrom": {"secretKeyRef": {"name": git.secret.name, "key": item.key}}})
        return env
