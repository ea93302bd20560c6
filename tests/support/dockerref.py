"""Which `auths` entry a docker client uses for an image reference: docker's own rules, not conngen's.

Two steps, each from the client's source:

* the registry of a reference: distribution/reference `ParseNormalizedNamed` (its `splitDockerDomain`
  reads a first component as a registry only with a `.`, a `:`, `localhost` or an upper-case letter;
  otherwise the name is a Docker Hub path), through the docker-image-py package, which ports it;
* the `auths` key looked up for that registry: go-containerregistry's keychain (kaniko, the Go
  builders) asks for `https://index.docker.io/v1/` on Docker Hub and the registry host elsewhere, and
  docker/cli's file store answers with the exact key, else with the first key whose host
  (`ConvertToHostname`: scheme and path dropped) is the one asked for.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import urlsplit

from docker_image.reference import Reference

DOCKER_HUB_KEY = "https://index.docker.io/v1/"


def registry_of(reference: str) -> str:
    """The registry docker pushes `reference` to (`docker.io` for Docker Hub)."""
    return Reference.parse_normalized_named(reference).repository["domain"]


def lookup_key(registry: str) -> str:
    """The key a client asks the docker config for: go-containerregistry's `authn.DefaultKeychain`."""
    return DOCKER_HUB_KEY if registry in ("docker.io", "index.docker.io") else registry


def convert_to_hostname(key: str) -> str:
    """docker/cli `credentials.ConvertToHostname`."""
    if "://" in key:
        parts = urlsplit(key)
        if parts.hostname:
            return parts.netloc.rpartition("@")[2]
    return key.partition("/")[0]


def auth_entry_key(auths: Mapping[str, object], reference: str) -> str | None:
    """The `auths` key whose entry a client uses to push `reference`, or None (an anonymous push)."""
    wanted = lookup_key(registry_of(reference))
    if wanted in auths:
        return wanted
    return next((key for key in auths if convert_to_hostname(key) == wanted), None)
