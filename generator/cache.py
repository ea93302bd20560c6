"""Warm-start cache for the kustomize exec plugin: a repeated build imports neither YAML nor Jinja.

kustomize (and ArgoCD, on every refresh) runs the plugin for every build, and importing the
renderer costs more than the whole budget. So after a full render the plugin stores the YAML
stream with each Secret's `.dockerconfigjson` replaced by a placeholder, where each credential
comes from (an environment variable name or a file path, never a value), and the sha256 of
every file the render read. A later build with the same config, root and files fills the
Secrets from the live sources and writes the stream, without rendering.

Nothing secret is stored: a config with a literal credential, a dockerConfig, sops or
ExternalSecrets is never cached, nor one whose secret.yaml.j2 is overridden (a template could
derive text from the value). Any problem on the way (an unset variable, a missing file, a
changed dependency, a corrupt entry) means "no hit": the full path runs and reports it as usual.
Stdlib only, and only modules the interpreter has loaded anyway or that are cheap.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys

try:
    from _sha256 import sha256  # CPython 3.11's builtin; hashlib would load OpenSSL, several ms every build
except ImportError:  # elsewhere in other versions
    from hashlib import sha256

from generator import __version__
from generator.dockerauth import login_config

FORMAT = 1  # bump when the entry layout changes
MAX_ENTRIES = 256  # oldest entries beyond this are removed when one is stored
TOO_BIG = 1024 * 1024  # a value or Secret this large goes the full path, whose limits are not smaller
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_dir(environ: dict) -> str | None:
    """`$XDG_CACHE_HOME/conngen` (default `~/.cache/conngen`); None when off or unknown."""
    if environ.get("CONNGEN_CACHE", "").lower() in ("off", "0", "false", "no"):
        return None
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "conngen")


def private_dir(path: str, create: bool) -> bool:
    """The directory exists (or is made), is ours and is closed to everyone else."""
    try:
        if create:
            os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return False
        if info.st_mode & 0o077:
            os.chmod(path, 0o700)
        return True
    except OSError:
        return False


def _sha(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _tree(directory: str, suffix: str = "", recursive: bool = True) -> dict[str, str | None]:
    """Every file under `directory` (names relative to it) with its sha256."""
    found: dict[str, str | None] = {}
    pending = [""]
    while pending:
        sub = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(directory, sub)))
        except OSError:
            continue
        for entry in entries:
            name = os.path.join(sub, entry.name)
            if entry.is_dir():
                if recursive and entry.name != "__pycache__":
                    pending.append(name)
            elif entry.name.endswith(suffix):
                found[name] = _sha(entry.path)
    return found


def _source_value(source: dict, environ: dict) -> str | None:
    """A credential value from its live source, read as credentials.read_value reads it."""
    if "env" in source:
        return environ.get(source["env"])
    if os.path.realpath(source["path"]) != source["file"]:  # a symlink moved: the full path re-checks it
        return None
    try:
        if os.stat(source["file"]).st_size > TOO_BIG:
            return None
        with open(source["file"], encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    return text[:-1] if text.endswith("\n") else text


class Probe:
    """One plugin call's view of the cache: replay a stored build, or store this one."""

    def __init__(self, directory: str, config_file: str, root: str):
        self.directory = directory
        self.config_file = config_file
        self.root = root
        with open(config_file, "rb") as fh:
            config_bytes = fh.read()
        digest = sha256()
        for part in (f"conngen-cache-{FORMAT}", __version__, root, os.getcwd()):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(config_bytes)
        self.key = digest.hexdigest()
        self.path = os.path.join(directory, self.key + ".json")
        self.miss = ""

    def replay(self, out, err, environ: dict) -> bool:
        """Write the stored build with fresh credentials; False (nothing written) when it cannot."""
        try:
            text, warnings = self._filled(environ)
        except Exception:  # noqa: BLE001 - a corrupt or foreign entry is a miss, never a failure
            self.miss = "the entry is unreadable"
            return False
        if text is None:
            self.miss = warnings  # on a miss, _filled says why (for --verbose)
            return False
        out.write(text)
        err.write(warnings)
        try:
            os.utime(self.path)  # recently used: kept when old entries are pruned
        except OSError:
            pass
        return True

    def _filled(self, environ: dict) -> tuple[str | None, str]:
        """(stream, warnings) on a hit; (None, why not) on a miss."""
        if not private_dir(self.directory, create=False):
            return None, f"{self.directory} is missing or not private to this user"
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None, "no entry for this config, root and conngen version"
        with os.fdopen(fd, encoding="utf-8") as fh:
            entry = json.load(fh)
        if entry["format"] != FORMAT or entry["key"] != self.key:
            return None, "the entry has another format"
        changed = [path for path, sha in entry["files"].items() if _sha(path) != sha]
        if changed:
            return None, f"{changed[0]} changed"
        if any(_tree(d, suffix, recursive) != files for d, suffix, recursive, files in entry["trees"]):
            return None, "a directory it depends on (templates, credentials) changed"
        text = entry["stream"]
        for secret in entry["secrets"]:
            user = _source_value(secret["username"], environ)
            password = _source_value(secret["password"], environ)
            if not user or not password or ":" in user:
                return None, "a credential source is unset or unusable"  # the full path says which, located
            data = login_config(secret["servers"], user, password, secret["email"])
            if len(data) > TOO_BIG:
                return None, "a Secret is too large to replay"
            text = text.replace(secret["placeholder"], base64.b64encode(data).decode("ascii"))
        return text, entry["warnings"]

    def store(self, data: object, display: str, config, plan, objects: list[dict], stream: str, warnings: str,
              dump, builtin_templates: str) -> bool:
        """Keep this build for next time, if it can be kept without any secret-derived text.

        `display` is the kustomization's own file for the config (warnings name its lines),
        `dump` writes objects as the stream does, `builtin_templates` is render's directory.
        """
        try:
            entry = self._entry(data, display, config, plan, objects, stream, warnings, dump, builtin_templates)
        except Exception:  # noqa: BLE001 - the build already succeeded; a cache that cannot keep it just misses
            return False
        if entry is None or not private_dir(self.directory, create=True):
            return False
        tmp = os.path.join(self.directory, f".{self.key}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        _prune(self.directory)
        return True

    def _entry(self, data, display, config, plan, objects, stream, warnings, dump, builtin_templates) -> dict | None:
        if config.templates_dir and os.path.exists(os.path.join(config.templates_dir, "secret.yaml.j2")):
            return None
        secrets, real = [], {}
        by_name = {obj["metadata"]["name"]: i for i, obj in enumerate(objects) if obj.get("kind") == "Secret"}
        masked = list(objects)
        for number, secret in enumerate(plan.secrets):
            cred = secret.credential
            if cred.external is not None or cred.docker_config is not None:
                return None
            sources = [_source_record(s, data, config.root) for s in (cred.username, cred.password)]
            index = by_name.get(secret.name)
            if None in sources or index is None:
                return None
            obj = objects[index]
            value = (obj.get("data") or {}).get(".dockerconfigjson")
            if obj.get("data") != {".dockerconfigjson": value} or not isinstance(value, str):
                return None
            placeholder = f"conngenCachePlaceholder{number}x{self.key[:16]}"
            masked[index] = {**obj, "data": {".dockerconfigjson": placeholder}}
            real[placeholder] = value
            secrets.append({"placeholder": placeholder, "servers": list(secret.servers), "email": cred.email,
                            "username": sources[0], "password": sources[1]})
        template = dump(masked) if secrets else stream
        check = template
        for placeholder, value in real.items():
            if value in template or template.count(placeholder) != 1:
                return None
            check = check.replace(placeholder, value)
        if check != stream:
            return None
        files = {path: _sha(path) for path in _catalogs(data, config.root)}
        for name in KUSTOMIZATIONS:
            files[os.path.join(self.root, name)] = _sha(os.path.join(self.root, name))
        if display != self.config_file:
            files[os.path.join(self.root, display)] = _sha(os.path.join(self.root, display))
        for name in ("yaml", "jinja2", "markupsafe"):  # their versions live here; an upgrade may change bytes
            module = sys.modules.get(name)
            if getattr(module, "__file__", None):
                files[module.__file__] = _sha(module.__file__)
        trees = [[builtin_templates, "", True, _tree(builtin_templates)],
                 [PACKAGE_DIR, ".py", False, _tree(PACKAGE_DIR, ".py", False)]]
        if config.templates_dir:
            trees.append([config.templates_dir, "", True, _tree(config.templates_dir)])
        return {"format": FORMAT, "key": self.key, "stream": template, "secrets": secrets, "files": files,
                "trees": trees, "warnings": warnings}


def _source_record(source, data: object, root: str) -> dict | None:
    """Where a value comes from (a variable name, a file path), or None when it cannot be re-read here."""
    if source is None or source.literal is not None or source.sops is not None:
        return None
    if source.env is not None:
        return {"env": source.env}
    node = data
    try:
        for key in source.origin.path:
            node = node[key]
    except (KeyError, IndexError, TypeError):
        return None
    written = node.get("file") if isinstance(node, dict) else node
    if not isinstance(written, str):
        return None
    path = os.path.join(root, written)  # as written, so a moved symlink is seen on the next build
    if source.file is None or os.path.realpath(path) != source.file:
        return None
    return {"file": source.file, "path": path}


def _catalogs(data: object, root: str) -> list[str]:
    raw = data.get("catalog") if isinstance(data, dict) else None
    files = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [os.path.realpath(os.path.join(root, f)) for f in files if isinstance(f, str)]


def _prune(directory: str) -> None:
    """Remove the least recently used entries beyond MAX_ENTRIES."""
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".json")]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES]:
            os.unlink(entry.path)
    except OSError:
        pass


def probe(config_file: str, root: str, environ: dict) -> Probe | None:
    """The cache slot for this call, or None when the cache is off or the config unreadable."""
    directory = cache_dir(environ)
    if directory is None:
        return None
    try:
        return Probe(directory, config_file, root)
    except OSError:
        return None
