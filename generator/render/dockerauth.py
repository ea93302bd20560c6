"""The `.dockerconfigjson` of a username/password login as kubectl writes it, and a given one checked.

Pure and stdlib-only, so that the render cache (speed/cache.py) can rebuild a Secret's data from
fresh values without importing the rest of conngen; a login is written without the json and
base64 modules, whose imports (re, enum, functools) would be a third of a cached build.
"""

from __future__ import annotations

from binascii import b2a_base64

try:
    from _json import encode_basestring as _json_string  # what json.dumps(ensure_ascii=False) quotes strings with
except ImportError:  # an interpreter without the C accelerator
    from json.encoder import py_encode_basestring as _json_string


def login_config(servers: tuple[str, ...] | list[str], username: str, password: str, email: str | None) -> bytes:
    """The whole `.dockerconfigjson`: the same login for every server, each entry as `kubectl create secret
    docker-registry` writes it (username, password, email if any, auth), compact as go_json writes it (a test checks)."""
    auth = b2a_base64(f"{username}:{password}".encode("utf-8"), newline=False).decode("ascii")
    entry = (f':{{"username":{_json_string(username)},"password":{_json_string(password)},'
             + (f'"email":{_json_string(email)},' if email else "") + f'"auth":"{auth}"}}')
    auths = ",".join([_json_string(server) + entry for server in dict.fromkeys(servers)])
    return _go_escaped('{"auths":{' + auths + "}}").encode("utf-8")


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json(value: object) -> str:
    """Compact JSON as Go's json.Marshal writes it (so kubectl's bytes): UTF-8 kept, <, > and & escaped."""
    import json

    return _go_escaped(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _go_escaped(text: str) -> str:
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)  # only strings can hold these characters, so only strings change
    return text


#: Credential helpers (`docker-credential-<name>`) a builder image ships, by the provider
#: builders.BuilderProfile.helpers names; the kubelet and the other builders have none.
HELPER_PROVIDERS = {"ecr-login": "ecr", "acr-env": "acr", "gcr": "gcr"}


class Problem(Exception):
    """What is wrong with a docker config, said without quoting any part of it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


def normalise_key(key: str) -> str:
    """The host an auths key stands for, as docker's clients match it: scheme, path (`/v1/`, a repository
    scope such as `host:port/org`) and trailing slash do not matter (docker/cli ConvertToHostname,
    docker-py convert_to_hostname; containers/image also matches `host/org` for images under it)."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    key = key.split("/", 1)[0]
    return "index.docker.io" if key in ("docker.io", "registry-1.docker.io") else key


def checked_config(raw: str, servers: tuple[str, ...] | list[str], helpers: frozenset[str] | None
                   ) -> tuple[bytes, list[str]]:
    """A docker config.json as every client that mounts it will read it: its bytes and warnings.

    Clients differ: docker/cli (kaniko, BuildKit) takes `username`/`password` when `auth` is
    missing, but docker-py (the dockerizer), containers/image (buildah) and the kubelet read
    only `auth`, and every one of them prefers `auth` when both are there. So a missing `auth`
    is filled from the entry's username and password (then the file is rewritten compactly,
    as Go writes it), an `auth` that disagrees with them is refused, and so is a `credsStore`
    or `credHelpers` entry naming a helper that a builder mounting the Secret does not have
    (`helpers`: the providers every such builder ships; None: no builder is known, so only
    helpers no builder has are refused). Raises Problem; never quotes the file.
    """
    import base64
    import json

    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:  # the position is safe to show; the text around it is not
        raise Problem(f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                      "write it as `kubectl create secret docker-registry --dry-run=client` would") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("auths"), dict):
        raise Problem('has no "auths" object', 'a docker config looks like {"auths": {"myregistry.com": {"auth": "..."}}}')
    auths, filled, warnings, empty = doc["auths"], False, [], []
    count = len(auths)
    for number, (key, entry) in enumerate(auths.items(), 1):
        where = f"auths entry {number} of {count}"
        if not isinstance(entry, dict):
            raise Problem(f"{where} is not an object")
        for field in ("auth", "username", "password", "identitytoken", "registrytoken", "email"):
            if field in entry and not isinstance(entry[field], str):
                raise Problem(f"{where}: {field} is not a string")
        user, password = entry.get("username", ""), entry.get("password", "")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise Problem(f"{where} has an auth field that is not base64 of UTF-8 text") from None
            if ":" not in decoded:
                raise Problem(f"{where} has an auth field without 'user:password'")
            if (user or password) and decoded != f"{user}:{password}":
                raise Problem(f"{where}: its auth does not match its username and password, and every client "
                              "uses auth", "remove auth (conngen fills it from username and password), or fix it")
        elif user and password:
            auths[key] = {**entry, "auth": base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")}
            filled = True
        elif not (entry.get("identitytoken") or entry.get("registrytoken")):
            empty.append((where, normalise_key(key)))
    store = doc.get("credsStore")
    helper_for = {normalise_key(k): v for k, v in (doc.get("credHelpers") or {}).items()} \
        if isinstance(doc.get("credHelpers"), dict) else {}
    wanted = {normalise_key(s) for s in servers}
    for server_key, helper in list(helper_for.items()) + ([(None, store)] if store else []):
        usable = _helper_usable(helper, helpers)
        what = "credsStore" if server_key is None else "a credHelpers entry"
        if usable is True:
            continue
        message = (f"{what} names a credential helper that {usable}; clients ask the helper instead of auths, "
                   "so every push it covers would fail")
        hint = "remove it (Docker Desktop writes credsStore) and keep the login in auths"
        if server_key is None or server_key in wanted:
            raise Problem(message, hint)
        warnings.append(message + " (for a registry this Secret is not for)")
    for where, server_key in empty:
        if store is None and server_key not in helper_for and server_key in wanted:
            raise Problem(f"{where}, the one for a registry of this Secret, holds no credentials "
                          "(no auth, no username and password, no identity token)")
    covered = {normalise_key(k) for k in auths} | (set(helper_for) if store is None else wanted)
    missing = [s for s in servers if normalise_key(s) not in covered]
    if missing:
        raise Problem(f"has no auths entry for {', '.join(missing)}",
                      f"add an entry keyed {missing[0]} (it has {count} entr{'y' if count == 1 else 'ies'}, "
                      "compared without scheme and /v1/)")
    return (go_json(doc).encode("utf-8") if filled else raw.encode("utf-8")), warnings


def _helper_usable(helper: object, providers: frozenset[str] | None) -> str | bool:
    """True if every builder mounting the Secret has `docker-credential-<helper>`, else why not."""
    provider = HELPER_PROVIDERS.get(helper) if isinstance(helper, str) else None
    if provider is None:
        return "no builder image ships"
    if providers is not None and provider not in providers:
        return "a builder mounting this Secret does not ship (only kaniko's image has it)"
    return True
