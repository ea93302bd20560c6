"""The `.dockerconfigjson` of a username/password login, as kubectl writes it.

Pure and stdlib-only, so that the render cache (cache.py) can rebuild a Secret's data from
fresh values without importing the rest of conngen.
"""

from __future__ import annotations

import base64
import json


def auth_entry(username: str, password: str, email: str | None) -> dict:
    """One `auths` entry exactly as `kubectl create secret docker-registry` writes it."""
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
    return entry


def login_config(servers: tuple[str, ...] | list[str], username: str, password: str, email: str | None) -> bytes:
    """The whole `.dockerconfigjson`: the same login for every server."""
    return go_json({"auths": {server: auth_entry(username, password, email) for server in servers}}).encode("utf-8")


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json(value: object) -> str:
    """Compact JSON as Go's json.Marshal writes it (so kubectl's bytes): UTF-8 kept, <, > and & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)  # only strings can hold these characters, so only strings change
    return text
