"""Reading credential values and building `.dockerconfigjson`, without ever echoing them.

Values are read here, at render time, from the environment, from files under the root or
from sops-encrypted files (decrypted in memory, see sops.py); they go into the Secret's data
and nowhere else. Messages name the variable or the file, never the value. In ExternalSecret
mode no value is read at all: the External Secrets Operator fills in a Go template instead.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Mapping

from generator.dockerauth import login_config
from generator.errors import Issue, Origin, UserError
from generator.model import Credential, ValueSource
from generator.sops import Decryptor
from generator.yamlio import MAX_FILE_BYTES

MAX_SECRET_BYTES = 1024 * 1024  # the API server's limit for a Secret's data


def read_value(source: ValueSource, what: str, environ: Mapping[str, str], decryptor: Decryptor | None = None) -> str:
    if source.sops is not None:
        return (decryptor or Decryptor(environ)).value(source)
    if source.literal is not None:
        return source.literal
    if source.env is not None:
        value = environ.get(source.env)
        if value is None:
            raise UserError([Issue(source.origin, f"{what}: environment variable {source.env} is not set",
                                   f"export {source.env} before running, or use {{file: path}}")])
        return value
    assert source.file is not None
    try:
        text = _read_small_file(source.file).decode("utf-8")
        if "\r" in text:  # as a text-mode read gives it: \r\n and \r are line ends
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    except _TooLarge:
        raise UserError([Issue(source.origin, f"{what}: file {source.file} is too large")]) from None
    except FileNotFoundError:
        raise UserError([Issue(source.origin, f"{what}: file {source.file} does not exist",
                               "create it, or fix the path (relative to the kustomization directory)")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError([Issue(source.origin, f"{what}: cannot read {source.file} ({type(exc).__name__})")]) from None
    # `echo secret > file` leaves a newline that is not part of the secret
    return text[:-1] if text.endswith("\n") else text


class _TooLarge(Exception):
    pass


def _read_small_file(name: str) -> bytes:
    """The file's bytes, refusing one over the limit; plain os calls, as thousands are read per render."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_size > MAX_FILE_BYTES:
            raise _TooLarge
        chunks, total = [], 0
        while chunk := os.read(fd, 65536):  # st_size is 0 for a pipe or /proc file: read to the end
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def docker_config_json(cred: Credential, servers: tuple[str, ...], environ: Mapping[str, str]) -> bytes:
    """The `.dockerconfigjson` bytes for one Secret."""
    decryptor = Decryptor(environ)  # one per Secret: a file holding username and password is decrypted once
    if cred.docker_config is not None:
        source = cred.docker_config
        raw = decryptor.docker_config(source) if source.sops is not None else \
            read_value(source, f"credentials {cred.secret_name}.dockerConfig", environ)
        _check_docker_config(raw, cred, servers)
        data = raw.encode("utf-8")
    else:
        assert cred.username is not None and cred.password is not None
        user = read_value(cred.username, f"credentials {cred.secret_name}.username", environ, decryptor)
        password = read_value(cred.password, f"credentials {cred.secret_name}.password", environ, decryptor)
        if ":" in user:
            raise UserError([Issue(cred.username.origin, f"credentials {cred.secret_name}.username contains ':'",
                                   "registry user names cannot contain ':' (it separates user and password in auth)")])
        if not user or not password:
            raise UserError([Issue(cred.origin, f"credentials {cred.secret_name}: username or password is empty")])
        data = login_config(servers, user, password, cred.email)
    if len(data) > MAX_SECRET_BYTES:
        raise UserError([Issue(cred.origin, f"Secret {cred.secret_name} would be {len(data)} bytes, over the 1 MiB limit")])
    return data


def _check_docker_config(raw: str, cred: Credential, servers: tuple[str, ...]) -> None:
    """A docker config.json must be a JSON object with `auths` covering every registry using it."""
    origin = cred.docker_config.origin if cred.docker_config else cred.origin
    where = f"credentials {cred.secret_name}.dockerConfig"
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        # the position is safe to show; the text around it may be a secret, so it is not shown
        raise UserError([Issue(origin, f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                               "write it as `kubectl create secret docker-registry --dry-run=client` would")]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("auths"), dict):
        raise UserError([Issue(origin, f"{where} has no \"auths\" object",
                               "a docker config looks like {\"auths\": {\"myregistry.com\": {\"auth\": \"...\"}}}")])
    for key, entry in doc["auths"].items():
        if not isinstance(entry, dict):
            raise UserError([Issue(origin, f"{where}: auths entry {key!r} is not an object")])
        if "auth" in entry and isinstance(entry["auth"], str):
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise UserError([Issue(origin, f"{where}: auths entry {key!r} has an auth field that is not base64")]) from None
            if ":" not in decoded:
                raise UserError([Issue(origin, f"{where}: auths entry {key!r} has an auth field without 'user:password'")])
    helpers = doc.get("credHelpers") or {}
    covered = {_normalise_key(k) for k in doc["auths"]} | {_normalise_key(k) for k in helpers}
    if doc.get("credsStore"):
        return
    missing = [s for s in servers if _normalise_key(s) not in covered]
    if missing:
        raise UserError([Issue(origin, f"{where} has no auths entry for {', '.join(missing)}",
                               f"add an entry keyed {missing[0]!r} (keys present: {', '.join(sorted(doc['auths'])) or 'none'})")])


def _normalise_key(key: str) -> str:
    """The host an auths key stands for, as docker's clients match it: scheme, path (`/v1/`, a repository
    scope such as `host:port/org`) and trailing slash do not matter (docker/cli ConvertToHostname,
    docker-py convert_to_hostname; containers/image also matches `host/org` for images under it)."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    key = key.split("/", 1)[0]
    return "index.docker.io" if key in ("docker.io", "registry-1.docker.io") else key



# The ExternalSecret's Go template (ESO engine v2: text/template with sprig). Values pass through
# sprig's toJson, so quotes or backslashes in a password stay valid JSON, byte for byte what
# kubectl's json.Marshal writes; `auth` is base64, which never needs escaping.
_GO_LOGIN = ('"username":{{ .username | toJson }},"password":{{ .password | toJson }},{email}'
             '"auth":"{{ printf "%s:%s" .username .password | b64enc }}"')
_GO_DOCKER_CONFIG = "{{ .dockerconfigjson | toString }}"


def external_secret_parts(cred: Credential, servers: tuple[str, ...]) -> tuple[str, list[dict]]:
    """The `.dockerconfigjson` Go template and the `spec.data` entries that feed it."""
    ext = cred.external
    assert ext is not None
    refs = {"dockerconfigjson": ext.docker_config} if ext.docker_config else \
        {"username": ext.username, "password": ext.password}
    data = []
    for secret_key, ref in refs.items():
        assert ref is not None
        remote = {"key": ref.key}
        if ref.property is not None:
            remote["property"] = ref.property
        if ref.version is not None:
            remote["version"] = ref.version
        data.append({"secretKey": secret_key, "remoteRef": remote})
    if ext.docker_config is not None:
        return _GO_DOCKER_CONFIG, data
    email = f'"email":{_go_literal(cred.email, cred.origin.at("email"))},' if cred.email else ""
    login = _GO_LOGIN.replace("{email}", email)
    auths = ",".join(f"{_go_literal(server, cred.origin)}:{{{login}}}" for server in servers)
    return '{"auths":{' + auths + "}}", data


def _go_literal(text: str, origin: Origin) -> str:
    """`text` as a JSON string that is also inert template text (no `{{` or `}}` inside)."""
    encoded = json.dumps(text, ensure_ascii=True)
    if "{{" in encoded or "}}" in encoded:
        raise UserError([Issue(origin, f"{text!r} contains '{{{{' or '}}}}', "
                               "which would be read as Go template code in the ExternalSecret")])
    return encoded
