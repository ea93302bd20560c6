"""Rendering plans through Jinja templates, safely, and parsing the result back.

The environment is sandboxed (a user template cannot reach Python internals) with
StrictUndefined, and every `{{ }}` must end in the `json` filter: `finalize` refuses any
other value. JSON text is valid YAML, so a value can never break out of its place, whatever
characters it holds. Each rendered document is parsed back and must be the one object the
plan asked for.

Parsing that YAML back was most of a render's cost, so built-in templates take a faster road
to the same result: while rendering, the `json` filter prints a token in place of each value
and keeps the value's JSON aside. The token text (the template's *shape*: which branches ran,
which loops ran how often) is parsed once, checked, and turned into a JSON skeleton; each later
object of that shape is its skeleton with the values put back, read by `json.loads`. A JSON
value in a token's place parses to the same data as in the YAML text, so the result is the one
the full parse gives, which a property test checks. Shapes the check refuses (a token as a key,
inside a longer string, behind a tag or anchor, aliased) and user templates, which may inspect
what `json` returns, go through the full parse.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Mapping

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from msgspec import StructMeta

from generator.errors import Issue, Origin, UserError, shown
from generator.plan import JobPlan, SecretPlan, ServiceAccountPlan
from generator.shapes import MAX_SHAPES, Skeleton, skeleton
from generator.yamlio import MAX_FILE_BYTES, parse_yaml

_LONE_SURROGATE = re.compile(r"\\ud[89a-f][0-9a-f]{2}")
_SURROGATE_PAIR = re.compile(r"\\ud([89ab][0-9a-f]{2})\\ud([c-f][0-9a-f]{2})")


class JsonText(str):
    """Text produced by the `json` filter: the only thing a template may print."""


_dumps = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": "), allow_nan=False).encode


def _astral(m: re.Match) -> str:
    high, low = int("d" + m.group(1), 16), int("d" + m.group(2), 16)
    return "\\U%08x" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def yaml_safe(json_text: str) -> str:
    """JSON text YAML reads the same way: astral characters as \\U escapes, not surrogate pairs."""
    return _SURROGATE_PAIR.sub(_astral, json_text)


def to_json(value: Any) -> JsonText:
    """JSON that is also safe YAML: ASCII only, astral characters as \\U escapes."""
    return JsonText(yaml_safe(_dumps(value)))


def _only_json(value: Any) -> Any:
    if isinstance(value, JsonText):
        return value
    raise jinja2.TemplateRuntimeError("a template printed a value without the json filter; write {{ value | json }}")


def builtin_templates_dir() -> Path:
    spec = find_spec("generator.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "templates"


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with a short way to the fields of conngen's own plan records.

    Templates read dozens of plan fields per object; the sandbox's general check of each read
    was a third of a render. A declared field of a generator record (a Struct) is plain data,
    so it is returned directly; everything else takes the sandbox's full check.
    """

    _fields: dict[type, frozenset[str]] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        kind = type(obj)
        fields = self._fields.get(kind)
        if fields is None:
            fields = self._fields[kind] = _plan_fields(kind)
        if attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)


def _plan_fields(kind: type) -> frozenset[str]:
    if not kind.__module__.startswith("generator.") or not isinstance(kind, StructMeta):
        return frozenset()
    return frozenset(name for name in kind.__struct_fields__ if not name.startswith("_"))


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in conngen's private cache directory, so a build does not recompile them.

    Jinja keys each entry by template name and file and checks the source's checksum and the
    Jinja/Python versions; the directory name adds conngen's version, which fixes the
    environment's options. A missing, unreadable or corrupt entry is a miss; a failed write is
    ignored. Templates hold no credentials, and the directory is the render cache's (0700).
    """

    def __init__(self, directory: str):
        self.directory = directory

    def _path(self, bucket: jinja2.bccache.Bucket) -> str:
        return os.path.join(self.directory, bucket.key + ".code")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            with open(os.open(self._path(bucket), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as fh:
                info = os.fstat(fh.fileno())
                if info.st_uid != os.geteuid() or info.st_mode & 0o022:
                    raise PermissionError("an entry someone else could have written is never run")
                bucket.load_bytecode(fh)
        except Exception:  # noqa: BLE001 - whatever is wrong with an entry, compiling afresh is right
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        path = self._path(bucket)
        partial = f"{path}.{os.getpid()}.part"
        try:
            with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                bucket.write_bytecode(fh)
            os.replace(partial, path)  # readers see a whole entry or none
        except OSError:
            try:
                os.unlink(partial)
            except OSError:
                pass


def compiled_templates(environ: Mapping[str, str] | None) -> CompiledTemplates | None:
    """The compiled-template store under the render cache directory, unless caching is off."""
    from generator import __version__
    from generator.cache import cache_dir, private_dir

    base = cache_dir(environ) if environ is not None else None
    if base is None:
        return None
    directory = os.path.join(base, f"templates-{__version__}")
    return CompiledTemplates(directory) if private_dir(base, True) and private_dir(directory, True) else None


class RootedLoader(jinja2.FileSystemLoader):
    """Templates from the override directory, then the built-in ones, under the root rule.

    Every file a template loads from the override directory (the template itself, an include,
    an import, an extends) must resolve inside `root`, after symlinks, as catalogs and credential
    files must (None: anywhere, for LoadRestrictionsNone), and be no larger than the inputs' limit.
    """

    def __init__(self, override_dir: str | None, root: str | None):
        super().__init__(([override_dir] if override_dir else []) + [str(builtin_templates_dir())])
        self._override = override_dir
        self._inside = None if root is None else os.path.realpath(root).rstrip(os.sep) + os.sep

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        if self._override is not None:
            found = posixpath.join(self._override, *jinja2.loaders.split_template_path(template))
            if os.path.isfile(found):
                if self._inside is not None and not (os.path.realpath(found) + os.sep).startswith(self._inside):
                    raise jinja2.exceptions.SecurityError(
                        f"{template} in the templates directory resolves outside the root {self._inside[:-1]} "
                        "(a symlink?); copy the file in, or set loadRestrictor: LoadRestrictionsNone")
                if os.path.getsize(found) > MAX_FILE_BYTES:
                    raise jinja2.exceptions.SecurityError(f"{template} is more than {MAX_FILE_BYTES} bytes")
        return super().get_source(environment, template)


class Renderer:
    """One environment per run: templates are compiled once (and kept compiled between runs)."""

    def __init__(self, override_dir: str | None = None, environ: Mapping[str, str] | None = None,
                 root: str | None = None):
        self.env = _Sandbox(
            loader=RootedLoader(override_dir, root), undefined=jinja2.StrictUndefined, autoescape=False,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, finalize=_only_json,
            bytecode_cache=compiled_templates(environ),
            auto_reload=False,  # one run renders thousands of objects; a template file does not change meanwhile
        )
        # Built-in templates print tokens (see the module docstring); a user's template may look
        # at what `json` returns, so with an override directory every value is printed as JSON.
        self._shapes: dict[str, Skeleton | None] | None = None if override_dir else {}
        self._prefix = f"cgslot{os.urandom(8).hex()}x"  # no template text can hold it by chance
        self._values: list[str] = []
        self.env.filters["json"] = to_json if override_dir else self._token

    def secret(self, plan: SecretPlan, dockerconfigjson: bytes) -> dict:
        data = base64.b64encode(dockerconfigjson).decode("ascii")
        obj = self._render("secret.yaml.j2", {"secret": plan, "dockerconfigjson_b64": data})
        return _expect(obj, "secret.yaml.j2", "v1", "Secret", plan.name)

    def external_secret(self, plan: SecretPlan, template: str, remote_data: list[dict]) -> dict:
        """An ExternalSecret whose Go `template` ESO fills with the `remote_data` values it fetches."""
        obj = self._render("externalsecret.yaml.j2", {"secret": plan, "external": plan.credential.external,
                                                       "dockerconfigjson_template": template,
                                                       "remote_data": remote_data})
        return _expect(obj, "externalsecret.yaml.j2", "external-secrets.io/v1", "ExternalSecret", plan.name)

    def service_account(self, plan: ServiceAccountPlan) -> dict:
        obj = self._render("serviceaccount.yaml.j2", {"account": plan})
        return _expect(obj, "serviceaccount.yaml.j2", "v1", "ServiceAccount", plan.name)

    def job(self, plan: JobPlan) -> dict:
        obj = self._render(plan.template, {"job": plan})
        return _expect(obj, plan.template, "batch/v1", "Job", plan.name)

    def _render(self, name: str, context: dict) -> Any:
        try:
            template = self.env.get_template(name)
            self._values = []
            text = template.render(context)
        except jinja2.TemplateNotFound as exc:
            raise UserError([Issue(Origin(name), f"template {exc.name} not found",
                                   "a templates directory overrides files of the same name")]) from None
        except jinja2.TemplateSyntaxError as exc:
            raise UserError([Issue(Origin(exc.filename or name), f"template syntax error: {exc.message}",
                                   line=exc.lineno)]) from None
        except (jinja2.TemplateError, jinja2.exceptions.SecurityError) as exc:
            raise UserError([Issue(Origin(_template_file(exc) or name), f"template error: {exc.message or type(exc).__name__}",
                                   line=_template_line(exc))]) from None
        except Exception as exc:  # noqa: BLE001 - a user template can raise anything; never show values
            raise UserError([Issue(Origin(_template_file(exc) or name), f"template error: {type(exc).__name__}",
                                   line=_template_line(exc))]) from None
        if self._shapes is None:
            return parse_yaml(text, f"output of template {name}", check=False)
        return self._from_shape(text, name)

    def _token(self, value: Any) -> JsonText:
        """The `json` filter of built-in templates: keep the value's JSON, print its token."""
        self._values.append(_dumps(value))
        return JsonText(f"{self._prefix}{len(self._values) - 1}")

    def _from_shape(self, text: str, name: str) -> Any:
        values, self._values = self._values, []
        shapes = self._shapes
        assert shapes is not None
        if text in shapes:
            found = shapes[text]
        else:
            try:
                found = skeleton(text, parse_yaml(text, name, check=False), self._prefix, len(values))
            except UserError:
                found = None  # the full text below gives the error its real values
            if len(shapes) < MAX_SHAPES:
                shapes[text] = found
        if found is not None and not any("\\ud" in v and _LONE_SURROGATE.search(yaml_safe(v)) for v in values):
            return found.fill(values)  # (json.loads would take a lone surrogate that YAML refuses)
        full = re.sub(re.escape(self._prefix) + r"(\d+)", lambda m: yaml_safe(values[int(m.group(1))]), text)
        return parse_yaml(full, f"output of template {name}", check=False)


def _frames(exc: BaseException) -> list:
    tb, out = exc.__traceback__, []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            out.append(tb)
        tb = tb.tb_next
    return out


def _template_file(exc: BaseException) -> str | None:
    frames = _frames(exc)
    return frames[-1].tb_frame.f_code.co_filename if frames else None


def _template_line(exc: BaseException) -> int | None:
    frames = _frames(exc)
    return frames[-1].tb_lineno if frames else None


def _expect(obj: Any, template: str, api_version: str, kind: str, name: str) -> dict:
    """A template must render exactly the object its plan describes."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    got = (obj.get("apiVersion"), obj.get("kind"), meta.get("name") if isinstance(meta, dict) else None) \
        if isinstance(obj, dict) else None
    if got != (api_version, kind, name):
        raise UserError([Issue(Origin(template), f"template rendered {shown(got)}, expected {api_version} {kind} {shown(name)}",
                               "a template renders one object: keep apiVersion, kind and metadata.name")])
    return obj
