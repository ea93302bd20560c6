"""Registry addresses: the `auths` key a builder looks up, and the image destination.

The classic failures live here: Docker Hub must be keyed `https://index.docker.io/v1/`
(kaniko #1209, #1574), the scheme of `schema.url` must never reach `--destination`, and a
url's first component is a host only where docker's reference rules say so (a `.`, a `:` or
`localhost`); otherwise docker reads it as a Docker Hub namespace, and so does conngen.
"""

from __future__ import annotations

import re

from msgspec import Struct

from generator.errors import shown

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"

_HOST = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])"
_AUTHORITY = re.compile(rf"(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_LABEL, _PART = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", _PATH_COMPONENT.pattern
# the usual url, nothing in it to normalise: http(s)://, a lowercase host with a '.', no port, a clean path
_PLAIN = re.compile(rf"(?:(https?)://)?((?:{_LABEL}\.)+{_LABEL})(?:/({_PART}(?:/{_PART})*))?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
# a valid image, host check aside: components, then an optional tag; anything else takes the checks one by one
_IMAGE = re.compile(rf"({_PART}(?:/{_PART})*)(?::({_TAG.pattern}))?")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")


class AddressError(ValueError):
    """A bad registry URL or image name; the message never repeats credentials."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class RegistryAddress(Struct, frozen=True):
    """A registry URL taken apart: the host that keys `auths`, and the repository prefix for images."""

    host: str  # lowercase host[:port]
    path: str  # repository prefix under the host, without surrounding slashes
    plain_http_scheme: bool  # the url said http://
    hub_by_default: bool = False  # the url named no host, so (as for docker) it is a Docker Hub path

    @property
    def docker_hub(self) -> bool:
        return self.host in DOCKER_HUB_HOSTS

    @property
    def auth_key(self) -> str:
        """The `auths` key kubectl writes and every builder looks up for this registry."""
        return DOCKER_HUB_AUTH_KEY if self.host in DOCKER_HUB_HOSTS else self.host

    @property
    def repository_prefix(self) -> str:
        host = "docker.io" if self.host in DOCKER_HUB_HOSTS else self.host
        return f"{host}/{self.path}" if self.path else host


def parse_registry_url(url: str) -> RegistryAddress:
    """Split `https://myregistry.com:5000/org/repo` into host and repository prefix."""
    plain = _PLAIN.fullmatch(url)
    if plain and plain.group(2) not in DOCKER_HUB_HOSTS:  # what the rules below make of it, in one match
        return RegistryAddress(plain.group(2), plain.group(3) or "", plain.group(1) == "http")
    rest = url.strip()
    if rest != url or not rest:
        raise AddressError("registry url must not be empty or have surrounding spaces")
    scheme = None
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", rest)
    if match:
        scheme = match.group(1).lower()
        if scheme not in ("http", "https"):
            raise AddressError(f"registry url scheme {shown(scheme)} is not supported", "use https://host/path or host/path")
        rest = rest[match.end():]
    authority, _, path = rest.partition("/")
    if "@" in authority:
        raise AddressError("registry url must not contain a user name or password",
                           "remove 'user:password@' and put the credentials under credentials:")
    if any(c in rest for c in "?#"):
        raise AddressError("registry url must not contain '?' or '#'", "write host/path only")
    if scheme is None and not _names_registry(authority) and authority == authority.lower():
        return _hub_path(rest)
    m = _AUTHORITY.fullmatch(authority)
    if not m or (m.group("port") and not 0 < int(m.group("port")) <= 65535):
        raise AddressError(f"{shown(authority)} is not a valid registry host[:port]", "use a host name like myregistry.com:5000")
    if not _names_registry(authority):
        raise AddressError(f"registry host {shown(authority)} has no '.' or port, so docker reads it as a Docker Hub namespace",
                           f"give the host's full name or its port ({authority.lower()}.example.com, "
                           f"{authority.lower()}:5000); for Docker Hub write docker.io/<namespace>")
    host = m.group("host").lower() + (f":{m.group('port')}" if m.group("port") else "")
    parts = [p for p in path.split("/") if p]
    if host in DOCKER_HUB_HOSTS and parts[:1] in (["v1"], ["v2"]):
        parts = parts[1:]  # https://index.docker.io/v1/ is the API, not a namespace
    _check_path(parts)
    return RegistryAddress(host, "/".join(parts), scheme == "http")


def _names_registry(authority: str) -> bool:
    """docker's rule (distribution/reference splitDockerDomain) for a first component that is a registry."""
    return "." in authority or ":" in authority or authority.lower() == "localhost"


def _hub_path(path: str) -> RegistryAddress:
    """A url without a registry host (`org/repo`): a repository path on Docker Hub, as docker reads it."""
    parts = [p for p in path.split("/") if p]
    _check_path(parts)
    return RegistryAddress("docker.io", "/".join(parts), False, hub_by_default=True)


def _check_path(parts: list[str]) -> None:
    for part in parts:
        if not _PATH_COMPONENT.fullmatch(part):
            raise AddressError(f"repository path component {shown(part)} is not valid",
                               "repository paths are lowercase letters, digits and single '.', '_' or '-'")


def split_image(image: str) -> tuple[str, str | None]:
    """Check an image given relative to its registry; return (repository, tag)."""
    valid = _IMAGE.fullmatch(image)
    first, slash, _ = image.partition("/")
    if valid and not (slash and ("." in first or first == "localhost")):  # one match for the usual image
        return valid.group(1), valid.group(2)
    if "://" in image:
        raise AddressError("image must not contain a URL scheme",
                           "write the image as name:tag; the connection url gives the host")
    if "@" in image:
        raise AddressError("image must not pin a digest: a build pushes a tag", "write name:tag")
    head, _, last = image.rpartition("/")
    name, colon, tag = last.partition(":")
    repo = f"{head}/{name}" if head else name
    parts = repo.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        raise AddressError(f"image starts with the registry host {shown(first)}",
                           "write the image relative to the connection's registry; its schema.url gives the host")
    for part in parts:
        if not _PATH_COMPONENT.fullmatch(part):
            raise AddressError(f"image name component {shown(part)} is not valid",
                               "image names are lowercase letters, digits and single '.', '_' or '-'")
    if colon and not _TAG.fullmatch(tag):
        raise AddressError(f"image tag {shown(tag)} is not valid", "tags are letters, digits, '_', '.' and '-', at most 128")
    return repo, tag or None


def check_tag(tag: str) -> None:
    if not _TAG.fullmatch(tag):
        raise AddressError(f"tag {shown(tag)} is not valid", "tags are letters, digits, '_', '.' and '-', at most 128")


def destinations(address: RegistryAddress, image: str, extra_tags: tuple[str, ...]) -> list[str]:
    """Every `host/path/name:tag` a build pushes, the image's own tag first."""
    return image_destinations(address, *split_image(image), extra_tags)


def image_destinations(address: RegistryAddress, repo: str, tag: str | None, extra_tags: tuple[str, ...]) -> list[str]:
    """`destinations` of an image `split_image` already took apart."""
    if address.docker_hub and not address.path and "/" not in repo:
        raise AddressError("Docker Hub images need a namespace",
                           "set schema.url to docker.io/<user-or-org>, or write the image as <org>/<name>")
    base = f"{address.repository_prefix}/{repo}"
    out = [f"{base}:{tag}" if tag else base]
    for extra in extra_tags:
        check_tag(extra)
        ref = f"{base}:{extra}"
        if ref not in out:
            out.append(ref)
    return out
