"""Kubernetes name rules, and turning free-form names into valid, stable, distinct ones."""

from __future__ import annotations

import re

from generator.limits import MAX_DNS_LABEL

try:  # CPython's builtin sha256: hashlib would load OpenSSL, ~5 ms of every first build (a kustomize build's tenth)
    from _sha256 import sha256
except ImportError:  # another Python
    from hashlib import sha256

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = rf"{DNS_LABEL}(\.{DNS_LABEL})*"
ENV_NAME = r"[-._a-zA-Z][-._a-zA-Z0-9]*"
# a qualified name with an optional DNS-subdomain prefix, as labels and annotations use
QUALIFIED_KEY = r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
LABEL_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
CONNECTION_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"

_label_re = re.compile(DNS_LABEL)


def short_hash(text: str, length: int = 8) -> str:
    return sha256(text.encode("utf-8")).hexdigest()[:length]


def dns_label(name: str, limit: int = MAX_DNS_LABEL) -> str:
    """A DNS-1123 label for `name`: itself when already valid, else cleaned and hashed.

    A hash of the original is appended whenever the name had to change, so two names that
    clean up to the same text (``Trainer`` and ``trainer``) stay distinct.
    """
    if len(name) <= limit and _label_re.fullmatch(name):
        return name
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    suffix = short_hash(name)
    head = cleaned[: limit - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}" if head else f"x-{suffix}"
