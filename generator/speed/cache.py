"""Warm-start cache for the kustomize exec plugin: a repeated build imports neither YAML nor Jinja.

kustomize (and ArgoCD, on every refresh) runs the plugin for every build, and importing the
renderer costs more than the whole budget. So after a full render the plugin stores the YAML
stream with each Secret's `.dockerconfigjson` replaced by a placeholder, where each credential
comes from (an environment variable name or a file path, never a value), and what the render
read: the sha256 of every file, and how every path the root rule checked resolved (catalogs,
credential files, the templates directory and each file in it, the root itself). A later
build with the same config, root and working directory is a hit only if a fresh render would
read exactly that: same resolutions, same bytes. It then fills the Secrets from the live
sources and writes the stream, without rendering.

An entry is trusted only if it is a regular file of ours, closed to everyone else, not a
symlink and not hard-linked, and its HMAC-SHA256 under a per-user key (32 random bytes in the
same private directory, checked the same way) matches. Ownership and mode stop another local
user who once could write into the directory; the MAC stops everything that can put a file
there without the key (see SECURITY.md for what it does not stop).

Nothing secret is stored: a config with a literal credential, a dockerConfig, sops or
ExternalSecrets is never cached, nor one whose secret.yaml.j2 is overridden (a template could
derive text from the value). Any problem on the way (an unset variable, a missing file, a
changed dependency, a corrupt or untrusted entry) means "no hit": the full path runs and
reports it as usual. Stdlib only, and only modules the interpreter has loaded anyway or that
are cheap.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys

try:
    from _sha256 import sha256  # CPython 3.11's builtin; hashlib would load OpenSSL, several ms every build
except ImportError:  # elsewhere in other versions
    from hashlib import sha256
from _operator import _compare_digest  # what hmac.compare_digest is, without importing hmac (and OpenSSL)
from binascii import b2a_base64

from generator import __version__
from generator.render.dockerauth import login_config
from generator.read.kustomization import KUSTOMIZATIONS, catalog_files
from generator.limits import MAX_FILE_BYTES, MAX_SECRET_BYTES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which a cached build does not need
if TYPE_CHECKING:  # types only: this module loads nothing beyond the standard library
    from typing import Any, Callable, Mapping, Sequence, TextIO

    from generator.model.records import GeneratorConfig, ValueSource
    from generator.plan.planner import Plan

FORMAT = 4  # bump when the entry layout changes
MAX_ENTRIES = 256  # oldest entries beyond this are removed when one is stored
MAX_ENTRY = 64 * 1024 * 1024  # a larger entry file is not read
MAX_TREE = 1000  # a templates directory with more files than this is not cached
KEY_FILE = "hmac-key"
ENTRY = ".entry"  # marshal'd: json would import re, ~10 ms of a ~30 ms cached build
KEY_BYTES = 32
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # generator/, all its packages


def cache_dir(environ: Mapping[str, str]) -> str | None:
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


def _mac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) on the builtin sha256; the hmac module would load OpenSSL on every build."""
    block = key.ljust(64, b"\0")
    inner = sha256(block.translate(_IPAD) + message).digest()
    return sha256(block.translate(_OPAD) + inner).hexdigest().encode("ascii")


def _trusted(fd: int) -> bool:
    """A regular file of ours that no one else can write or read, under one name only."""
    info = os.fstat(fd)
    return (stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077
            and info.st_nlink == 1 and info.st_size <= MAX_ENTRY)


def _read_trusted(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not _trusted(fd):
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _key(directory: str, create: bool) -> bytes | None:
    """The per-user MAC key; with `create`, one is made (or an untrusted one replaced, voiding its entries)."""
    path = os.path.join(directory, KEY_FILE)
    key = _read_trusted(path)
    if key is not None and len(key) == KEY_BYTES:
        return key
    if not create:
        return None
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        if os.path.lexists(path):
            os.unlink(path)
        _write_private(tmp, os.urandom(KEY_BYTES))
        os.link(tmp, path)  # never replaces: of two racing builds, the first key stays
    except OSError:
        pass
    _remove(tmp)
    return _key(directory, False)


def _write_private(path: str, data: bytes) -> None:
    """`data` in a new file only this user can read or write; never through a symlink, never over a file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sha(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _tree(directory: str, suffix: str = "") -> dict[str, str | None]:
    """Every file under conngen's own `directory` (names relative to it) with its sha256."""
    found: dict[str, str | None] = {}
    for parent, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        relative = os.path.relpath(parent, directory)  # once a directory: per file it costs a cached build ~1 ms
        for name in files:
            if name.endswith(suffix):
                found[os.path.join(relative, name)] = _sha(os.path.join(parent, name))
    return found


def _user_tree(directory: str) -> dict[str, list] | None:
    """Everything a template could load from a user's templates directory: each name, where it
    resolves and its sha256 (symlinked directories followed once); None when it has too many."""
    found: dict[str, list] = {}
    pending, seen = [""], set()
    while pending:
        sub = pending.pop()
        real = os.path.realpath(os.path.join(directory, sub))
        if real in seen:
            found[sub + "/"] = [real, None]  # a loop: where it points is what matters
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(os.path.join(directory, sub)), key=lambda e: e.name)
        except OSError as exc:
            found[sub + "/"] = [real, type(exc).__name__]
            continue
        for entry in entries:
            name = os.path.join(sub, entry.name)
            if entry.is_dir():
                pending.append(name)
            else:
                found[name] = [os.path.realpath(entry.path), _sha(entry.path) if entry.is_file() else None]
            if len(found) > MAX_TREE:
                return None
    return found


def _source_value(source: dict, environ: Mapping[str, str]) -> str | None:
    """A credential value from its live source, read as credentials.read_value reads it."""
    if "env" in source:
        return environ.get(source["env"])
    if os.path.realpath(source["path"]) != source["file"]:  # a symlink moved: the full path re-checks it
        return None
    try:
        fd = os.open(source["file"], os.O_RDONLY | os.O_CLOEXEC)
        try:
            raw = os.read(fd, MAX_SECRET_BYTES + 1) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        finally:
            os.close(fd)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if len(raw) > MAX_SECRET_BYTES or not raw or "\r" in text:  # the full path reads these (line ends, what is wrong)
        return None
    return text[:-1] if text.endswith("\n") else text


class Probe:
    """One plugin call's view of the cache: replay a stored build, or store this one."""

    def __init__(self, directory: str, config_file: str, root: str):
        self.directory = directory
        self.root = root
        with open(config_file, "rb") as fh:
            config_bytes = fh.read(MAX_FILE_BYTES + 1)  # /dev/zero: the full path refuses it, by the same limit
        if len(config_bytes) > MAX_FILE_BYTES:
            raise OSError("too large to be a config")
        digest = sha256()
        for part in (f"conngen-cache-{FORMAT}", __version__, root, os.getcwd()):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(config_bytes)
        self.key = digest.hexdigest()
        self.path = os.path.join(directory, self.key + ENTRY)
        self.miss = ""

    def replay(self, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> bool:
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

    def _filled(self, environ: Mapping[str, str]) -> tuple[str | None, str]:
        """(stream, warnings) on a hit; (None, why not) on a miss."""
        if not private_dir(self.directory, create=False):
            return None, f"{self.directory} is missing or not private to this user"
        key = _key(self.directory, create=False)
        raw = _read_trusted(self.path) if key is not None else None
        if key is None or raw is None:
            return None, "no entry for this config, root and conngen version (or none this user can trust)"
        mac, _, body = raw.partition(b"\n")
        if not _compare_digest(mac, _mac(key, body)):
            return None, "the entry fails its integrity check"
        entry = marshal.loads(body)  # only after the MAC: marshal is not for bytes anyone else could write
        if entry["format"] != FORMAT or entry["key"] != self.key:
            return None, "the entry has another format"
        changed = _changed(entry)
        if changed:
            return None, changed
        text = entry["stream"]
        for secret in entry["secrets"]:
            user = _source_value(secret["username"], environ)
            password = _source_value(secret["password"], environ)
            if not user or not password or ":" in user:
                return None, "a credential source is unset or unusable"  # the full path says which, located
            data = login_config(secret["servers"], user, password, secret["email"])
            if len(data) > MAX_SECRET_BYTES:
                return None, "a Secret is too large to replay"
            text = text.replace(secret["placeholder"], b2a_base64(data, newline=False).decode("ascii"))
        return text, entry["warnings"]

    def store(self, data: object, config: GeneratorConfig, plan: Plan, objects: list[dict], stream: str, warnings: str,
              dump: Callable[[list[dict]], str], builtin_templates: str, read: Sequence[str] = ()) -> bool:
        """Keep this build for next time, if it can be kept without any secret-derived text.

        `dump` writes objects as the stream does and `builtin_templates` is render's directory (passed
        in: render imports this package), `read` the kustomization's files read to find the config's own.
        """
        try:
            entry = self._entry(data, config, plan, objects, stream, warnings, dump, builtin_templates, read)
        except Exception:  # noqa: BLE001 - the build already succeeded; a cache that cannot keep it just misses
            return False
        key = _key(self.directory, create=True) if entry is not None and private_dir(self.directory, True) else None
        if key is None:
            return False
        body = marshal.dumps(entry)
        tmp = os.path.join(self.directory, f".{self.key}.{os.getpid()}.tmp")
        try:
            _write_private(tmp, _mac(key, body) + b"\n" + body)
            os.replace(tmp, self.path)
        except OSError:
            _remove(tmp)
            return False
        _prune(self.directory)
        return True

    def _entry(self, data: object, config: GeneratorConfig, plan: Plan, objects: list[dict], stream: str, warnings: str,
               dump: Callable[[list[dict]], str], builtin_templates: str, read: Sequence[str]) -> dict | None:
        if config.templates_dir and os.path.exists(os.path.join(config.templates_dir, "secret.yaml.j2")):
            return None
        secrets: list[dict] = []
        real: dict[str, str] = {}
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
        links = _written_paths(data, config)
        if links is None:
            return None
        files = {real: _sha(real) for _, real in links if os.path.isfile(real)}
        for path in [os.path.join(self.root, name) for name in KUSTOMIZATIONS] + list(read):
            files[path] = _sha(path)
        for name in ("yaml", "jinja2", "markupsafe"):  # their versions live here; an upgrade may change bytes
            file = getattr(sys.modules.get(name), "__file__", None)
            if isinstance(file, str):
                files[file] = _sha(file)
        trees = [[builtin_templates, "", _tree(builtin_templates)],
                 [PACKAGE_DIR, ".py", _tree(PACKAGE_DIR, ".py")]]
        templates = None
        if config.templates_dir:
            tree = _user_tree(config.templates_dir)
            if tree is None:
                return None
            templates = [config.templates_dir, tree]
        return {"format": FORMAT, "key": self.key, "stream": template, "secrets": secrets, "warnings": warnings,
                "root": [self.root, os.path.realpath(self.root), config.root], "links": links, "files": files,
                "trees": trees, "templates": templates}


def _changed(entry: dict) -> str | None:
    """Why a fresh render would not read what this entry's render read (root, resolved paths, bytes); None if it would."""
    given, real, config_root = entry["root"]
    if os.path.realpath(given) != real or os.path.realpath(config_root) != config_root:
        return "the root resolves elsewhere"
    moved = next((joined for joined, resolved in entry["links"] if os.path.realpath(joined) != resolved), None)
    if moved:
        return f"{moved} resolves elsewhere"
    changed = next((path for path, sha in entry["files"].items() if _sha(path) != sha), None)
    if changed:
        return f"{changed} changed"
    if any(_tree(d, suffix) != files for d, suffix, files in entry["trees"]):
        return "a directory it depends on (templates, credentials) changed"
    if entry["templates"] is not None and _user_tree(entry["templates"][0]) != entry["templates"][1]:
        return "the templates directory changed"
    return None


def _written_paths(data: object, config: GeneratorConfig) -> list[list[str]] | None:
    """[path as written joined to the root, where it resolved] for the catalogs and the templates directory."""
    written = catalog_files(data)
    if written is None:
        return None
    if config.templates_dir:
        templates = data.get("templates") if isinstance(data, dict) else None
        if not isinstance(templates, str):
            return None  # --templates on the command line: the plugin never has it
        written.append(templates)
    return [[os.path.join(config.root, f), os.path.realpath(os.path.join(config.root, f))] for f in written]


def _source_record(source: ValueSource | None, data: object, root: str) -> dict | None:
    """Where a value comes from (a variable name, a file path), or None when it cannot be re-read here."""
    if source is None or source.literal is not None or source.sops is not None:
        return None
    if source.env is not None:
        return {"env": source.env}
    node: Any = data
    try:
        for key in source.origin.path if source.origin is not None else ():
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


def _prune(directory: str) -> None:
    """Remove the least recently used entries beyond MAX_ENTRIES."""
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith((ENTRY, ".json"))]  # .json: an older conngen's
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES]:
            os.unlink(entry.path)
    except OSError:
        pass


def probe(config_file: str, root: str, environ: Mapping[str, str]) -> Probe | None:
    """The cache slot for this call, or None when the cache is off or the config unreadable."""
    directory = cache_dir(environ)
    if directory is None:
        return None
    try:
        return Probe(directory, config_file, root)
    except OSError:
        return None
