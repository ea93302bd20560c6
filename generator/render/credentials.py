"""Reading credential values and building `.dockerconfigjson`, without ever echoing them.

Values are read here, at render time, from the environment, from files under the root or
from sops-encrypted files (decrypted in memory, see read/sops.py); they go into the Secret's data
and nowhere else. Messages name the variable or the file, never the value. In ExternalSecret
mode no value is read at all: the External Secrets Operator fills in a Go template instead.
"""

from __future__ import annotations

import os
from typing import Mapping

from generator.render.dockerauth import Problem, checked_config, go_json, login_config
from generator.errors import Issue, Origin, UserError, shown
from generator.limits import MAX_SECRET_BYTES
from generator.model.records import Credential, ValueSource
from generator.read.ahead import read_ahead
from generator.read.sops import Decryptor
from generator.read.yamlio import TooLarge, read_limited


def read_value(source: ValueSource, what: str, environ: Mapping[str, str], decryptor: Decryptor | None = None) -> str:
    """The value `source` points at; messages name `what` only when the origin's key path does not."""
    lead = "" if source.origin is not None and source.origin.path else f"{what}: "
    if source.sops is not None:
        return (decryptor or Decryptor(environ)).value(source)
    if source.literal is not None:
        return source.literal
    if source.env is not None:
        value = environ.get(source.env)
        if value is None:
            raise UserError([Issue(source.origin, f"{lead}environment variable {source.env} is not set",
                                   f"export {source.env} before running, or use {{file: path}}")])
        if not value.isascii():
            try:
                value.encode("utf-8")  # Python keeps undecodable bytes of the environment as lone surrogates
            except UnicodeEncodeError as exc:
                raise UserError([Issue(source.origin, f"{lead}environment variable {source.env} is not UTF-8 "
                                       f"(character {exc.start + 1})", "set it to UTF-8 text")]) from None
        return value
    assert source.file is not None
    try:
        text = _read_small_file(source.file).decode("utf-8")
        if "\r" in text:  # as a text-mode read gives it: \r\n and \r are line ends
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    except TooLarge:
        raise UserError([Issue(source.origin, f"{lead}file {source.file} is too large")]) from None
    except FileNotFoundError:
        raise UserError([Issue(source.origin, f"{lead}file {source.file} does not exist",
                               "create it, or fix the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError([Issue(source.origin, f"{lead}cannot read {source.file} ({type(exc).__name__})")]) from None
    # `echo secret > file` leaves a newline that is not part of the secret
    return text[:-1] if text.endswith("\n") else text


def _read_small_file(name: str) -> bytes:
    """The file's bytes, refusing one over the limit; plain os calls, as thousands are read per render."""
    ahead = read_ahead(name)
    if ahead is not None:
        return ahead
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return read_limited(fd)
    finally:
        os.close(fd)


def docker_config_json(cred: Credential, servers: tuple[str, ...], environ: Mapping[str, str],
                       helpers: frozenset[str] | None = None, warnings: list[Issue] | None = None) -> bytes:
    """The `.dockerconfigjson` bytes for one Secret.

    `helpers`: the credential-helper providers every builder mounting the Secret has (see
    dockerauth.checked_config); warnings about a given docker config are added to `warnings`.
    """
    if cred.docker_config is not None:
        source = cred.docker_config
        raw = Decryptor(environ).docker_config(source) if source.sops is not None else \
            read_value(source, f"credentials {cred.secret_name}.dockerConfig", environ)
        # the origin's key path already names the credential; say "the docker config" instead of repeating it
        where = "the docker config" if (source.origin or cred.origin).path else \
            f"credentials {cred.secret_name}.dockerConfig"
        try:
            data, notes = checked_config(raw, servers, helpers)
        except Problem as exc:
            raise UserError([Issue(source.origin or cred.origin, f"{where} {exc.message}", exc.hint)]) from None
        if warnings is not None:
            warnings.extend(Issue(source.origin or cred.origin, f"{where}: {note}", severity="warning") for note in notes)
    else:
        assert cred.username is not None and cred.password is not None
        # one per Secret, if any: a file holding username and password is decrypted once
        decryptor = Decryptor(environ) if cred.username.sops or cred.password.sops else None
        values, problems = [], []
        for name, source in (("username", cred.username), ("password", cred.password)):
            try:  # both are read, so that one run names every missing variable or file
                values.append(read_value(source, f"credentials {cred.secret_name}.{name}", environ, decryptor))
            except UserError as exc:
                problems.extend(exc.issues)
        if problems:
            raise UserError(problems)
        user, password = values
        if ":" in user:
            raise UserError([Issue(cred.username.origin, f"credentials {cred.secret_name}.username contains ':'",
                                   "registry user names cannot contain ':' (it separates user and password in auth)")])
        if not user or not password:
            raise UserError([Issue(cred.origin, f"credentials {cred.secret_name}: username or password is empty")])
        data = login_config(servers, user, password, cred.email)
    if len(data) > MAX_SECRET_BYTES:
        raise UserError([Issue(cred.origin, f"Secret {cred.secret_name} would be {len(data)} bytes, over the 1 MiB limit")])
    return data


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
    """`text` as kubectl's json.Marshal writes it (UTF-8 kept, `<>&` escaped), which must also be inert
    template text (no `{{` or `}}` inside)."""
    encoded = go_json(text)
    if "{{" in encoded or "}}" in encoded:
        raise UserError([Issue(origin, f"{shown(text)} contains '{{{{' or '}}}}', "
                               "which would be read as Go template code in the ExternalSecret")])
    return encoded
