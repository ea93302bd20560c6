"""Rendering plans through Jinja templates, with every value quoted by a filter.

Every `{{ }}` ends in the `yaml` or `json` filter (in user templates `finalize` refuses
anything else; for built-in ones a test checks it). `json` prints JSON, which is valid YAML;
`yaml` prints the value as PyYAML writes it at that place (emit.node), with the strings a YAML
1.2 reader would take for numbers quoted, so a value can never break out of its place and
reads back the same under YAML 1.1 and 1.2. Built-in and user templates (an override directory)
get the same filters, and an object is checked by one path (`object`: read back as a user's
file is, then its apiVersion, kind and name; pipeline adds a Job's credential route).
Built-in templates are written in PyYAML's block layout with `yaml` only, so what they render
is the stream as printed (a long run of objects as one loop, `_loop`), and only the first object of
each template is read back and checked (their shapes are proven by tests; a test renders every
golden case both ways). User templates are sandboxed, every object they render is read back
and checked, and the objects are written again by PyYAML, so the output's layout does not
depend on how a user template lays its text out.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType
from itertools import islice
from typing import Any, Callable, Mapping, TextIO

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.errors import Issue, Origin, UserError, shown
from generator.render.emit import json_text, node, yaml_stream
from generator.limits import MAX_FILE_BYTES
from generator.plan.planner import JobPlan
from generator.speed import precompiled
from generator.speed.compiled import compiled_templates
from generator.read.yamlio import parse_yaml

_SURROGATE_PAIR = re.compile(r"\\ud([89ab][0-9a-f]{2})\\ud([c-f][0-9a-f]{2})")


class Printed(str):
    """Text the `json` or `yaml` filter made of a value: the only thing a template may print."""


def _astral(m: re.Match) -> str:
    high, low = int("d" + m.group(1), 16), int("d" + m.group(2), 16)
    return "\\U%08x" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def to_json(value: Any) -> Printed:
    """JSON that is also safe YAML: ASCII only, astral characters as \\U escapes, not surrogate pairs."""
    if isinstance(value, jinja2.Undefined):  # say which name is undefined, not that JSON could not encode it
        value._fail_with_undefined_error()
    return Printed(_SURROGATE_PAIR.sub(_astral, json_text(value)))


def _only_printed(value: Any) -> Any:
    if isinstance(value, Printed):
        return value
    raise jinja2.TemplateRuntimeError("a template printed a value without the json filter; write {{ value | json }} "
                                      "(or, alone after `key: ` or `- `, {{ value | yaml }})")


# `key: {{ v | yaml }}` or `- {{ v | yaml }}` alone on a line: the filter is told the column and
# which of the two it follows, and prints the separator itself (a block value starts on a new line)
_PLACED = re.compile(r"^( *)((?:- )*)([^\s{:#'\"][^{:]*: )?\{\{(.*?)\|\s*yaml\s*\}\}$", re.M)


def _place(m: re.Match) -> str:
    spaces, dashes, key, expr = m.groups()
    if key:
        return f"{spaces}{dashes}{key[:-1]}{{{{{expr}| yaml({len(spaces) + len(dashes)}, {len(key) - 2}) }}}}"
    if dashes:
        return f"{spaces}{dashes[:-1]}{{{{{expr}| yaml({len(spaces) + len(dashes) - 2}) }}}}"
    return m.group(0)


# what `_Placement` does to a source, in the keys of compiled templates (a change to it recompiles them)
REWRITE = (_PLACED.pattern + repr(_place.__code__.co_consts)).encode() + _place.__code__.co_code


class _Placement(jinja2.ext.Extension):
    """Tells each `| yaml` where it stands, from the template's own layout (see `_PLACED`)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _PLACED.sub(_place, source)


def builtin_templates_dir() -> Path:
    spec = find_spec("generator.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "templates"


def job_templates_digest(search: list[str], template: str) -> str:
    """A digest of the sources a builder's Job is rendered from: its template and every `_` partial.

    Looked up as the template loader does (the first directory that has a name wins), so an
    override or a conngen upgrade that changes what a Job is made of names a new Job.
    """
    found: dict[str, bytes] = {}
    for directory in search:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if name in found or not (name == template or (name.startswith("_") and name.endswith(".j2"))):
                continue
            try:
                with open(os.path.join(directory, name), "rb") as f:
                    found[name] = f.read()
            except OSError:
                continue
    digest = hashlib.sha256()
    for name in sorted(found):
        digest.update(name.encode() + b"\0" + hashlib.sha256(found[name]).digest())
    return digest.hexdigest()


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

    def load(self, environment: jinja2.Environment, name: str, globals: Any = None) -> jinja2.Template:
        """A built-in template from its shipped code when that code is current (speed/precompiled.py)."""
        if self._override is None:
            path = os.path.join(str(builtin_templates_dir()), name)
            try:
                template = precompiled.load(environment, precompiled.module_file(os.path.dirname(path), name),
                                            precompiled.key(REWRITE, _read(path)), path, globals)
            except OSError:  # no such template: Jinja says so below
                template = None
            if template is not None:
                return template
        return super().load(environment, name, globals)

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


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


#: the variables each built-in template is rendered with, in order (docs/templates.md); a builder's Job template gets `job`
VARIABLES = {
    "secret.yaml.j2": ("secret", "dockerconfigjson_b64"),
    "externalsecret.yaml.j2": ("secret", "external", "dockerconfigjson_template", "remote_data"),
    "serviceaccount.yaml.j2": ("account",),
}


def variables(template: str) -> tuple[str, ...]:
    """The names a template's context holds (see VARIABLES)."""
    return VARIABLES.get(template, ("job",))


class Renderer:
    """One environment per run: templates are compiled once (and kept compiled between runs).

    `stream` renders runs of objects straight to the stream's text as it is printed; `object`
    renders one object and reads it back. User templates (an override directory) are sandboxed:
    a template there cannot reach Python internals.
    """

    def __init__(self, override_dir: str | None = None, environ: Mapping[str, str] | None = None,
                 root: str | None = None):
        kind = ImmutableSandboxedEnvironment if override_dir else jinja2.Environment
        self.env = kind(
            loader=RootedLoader(override_dir, root), undefined=jinja2.StrictUndefined, autoescape=False,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            finalize=_only_printed if override_dir else None,  # a test checks the built-in templates instead
            extensions=[_Placement], bytecode_cache=compiled_templates(environ, REWRITE + kind.__qualname__.encode()),
            auto_reload=False,  # one run renders thousands of objects; a template file does not change meanwhile
        )
        self.env.filters["json"] = to_json
        self.env.filters["yaml"] = self._yaml
        self._builtin = override_dir is None
        self._memo: dict | None = {} if self._builtin else None  # plan records' values; user templates may print anything
        self._sources: dict[str, bytes] | None = None  # _builtin_sources
        self._open_ended = False  # a `|+` block was printed: PyYAML ends a stream whose last document holds one with `...`

    def _yaml(self, value: Any, column: int | None = None, key: int | None = None) -> str:
        if isinstance(value, jinja2.Undefined):  # say which name is undefined
            value._fail_with_undefined_error()
        if column is None:
            raise jinja2.TemplateRuntimeError("`{{ value | yaml }}` stands alone at the end of a line, "
                                              "after `key: ` or `- `; elsewhere write `| json`")
        text, open_ended = node(value, column, key, self._memo)
        if open_ended:
            self._open_ended = True
        return Printed(text) if self._memo is None else text  # built-in templates print it as it is (finalize checks user ones)

    def stream(self, runs: list[tuple[str, tuple[str, ...], list[tuple]]], out: TextIO) -> None:
        """Write the YAML documents of (template, context names, one context per object) runs: one loop
        over a run's objects, with the template written into it (`_loop`)."""
        for name, names, contexts in runs:
            try:
                loop = self._loop(name, names)
                items = contexts if len(names) > 1 else [context[0] for context in contexts]
                try:  # Template.generate without its generator around each of the millions of pieces
                    pieces = loop.root_render_func(loop.new_context({"contexts": items}))
                    while batch := list(islice(pieces, 65536)):  # a run's pieces joined at once would be millions
                        out.write("".join(batch))
                except Exception:  # noqa: BLE001 - re-raised, with the traceback in template lines as generate does
                    self.env.handle_exception()
            except (jinja2.TemplateError, jinja2.exceptions.SecurityError, TypeError, ValueError) as exc:
                raise _template_error(exc, name) from None
        if self._open_ended:  # rare: PyYAML says whether its last document ends the stream with `...`
            name, names, contexts = runs[-1]
            last = parse_yaml(self._render(name, dict(zip(names, contexts[-1]))), name, check=False)
            out.write("...\n" if yaml_stream([last]).endswith("\n...\n") else "")

    def object(self, name: str, context: dict, api_version: str, kind: str, object_name: str) -> dict:
        """One object rendered and read back as YAML 1.2, as a user's file is; it must be the object its plan describes."""
        obj = parse_yaml(self._render(name, context), f"output of template {name}", check=False)
        return _expect(obj, name, api_version, kind, object_name)

    def job(self, plan: JobPlan) -> dict:
        return self.object(plan.template, {"job": plan}, "batch/v1", "Job", plan.name)

    def _render(self, name: str, context: dict) -> str:
        try:
            return self.env.get_template(name).render(context)
        except Exception as exc:  # noqa: BLE001 - a user template can raise anything; never show values
            raise _template_error(exc, name) from None

    def _loop(self, name: str, names: tuple[str, ...]) -> jinja2.Template:
        """`{% for <names> in contexts %}---\n{% include <name> %}{% endfor %}`, with the template's parent,
        blocks and includes (constant names, as in the built-in templates) written into the loop's body: a
        render call per object costs four times the template's own text. Shipped compiled (speed/precompiled.py),
        under a key of every built-in source; compiled here only while that code is stale."""
        shipped = precompiled.load(self.env, self._loop_module(name), self._loop_key(names), "<template>") \
            if self._builtin else None
        return shipped or self.env.from_string(self._loop_tree(name, names))

    def _loop_module(self, name: str) -> str:
        return precompiled.module_file(str(builtin_templates_dir()), name + " loop")

    def _loop_key(self, names: tuple[str, ...]) -> str:
        """A loop's code depends on its variables and on every built-in template it may write into itself."""
        parts = [part for name, source in self._builtin_sources().items() for part in (name.encode(), source)]
        return precompiled.key(REWRITE, repr(names).encode(), *parts)

    def _builtin_sources(self) -> dict[str, bytes]:
        """Every built-in template's bytes by name, read once a run: each loop's key covers them all."""
        if self._sources is None:
            directory = str(builtin_templates_dir())
            self._sources = {n: _read(os.path.join(directory, n)) for n in sorted(os.listdir(directory)) if n.endswith(".j2")}
        return self._sources

    def _loop_tree(self, name: str, names: tuple[str, ...]) -> nodes.Template:
        target = [nodes.Name(n, "store") for n in names]
        loop = nodes.Template([nodes.For(target[0] if len(target) == 1 else nodes.Tuple(target, "store"),
                                         nodes.Name("contexts", "load"),
                                         [nodes.Output([nodes.TemplateData("---\n")]), *self._body(name, {})],
                                         [], None, False)])
        loop.set_environment(self.env).set_lineno(1)
        return loop

    def write_compiled(self) -> list[str]:
        """Write the code of every built-in template and loop for speed/precompiled.py (scripts/compile-templates)."""
        directory = str(builtin_templates_dir())
        sources = self._builtin_sources()
        names = list(sources)
        for name, source in sources.items():
            code = self.env.compile(source.decode("utf-8"), name, os.path.join(directory, name), raw=True)
            precompiled.write(precompiled.module_file(directory, name), name, code, precompiled.key(REWRITE, source))
        loops = [n for n in names if not n.startswith("_")]
        for name in loops:
            given = variables(name)
            precompiled.write(self._loop_module(name), name + " loop",
                              self.env.compile(self._loop_tree(name, given), raw=True), self._loop_key(given))
        return names + [n + " loop" for n in loops]

    def _body(self, name: str, blocks: dict[str, nodes.Block]) -> list[nodes.Node]:
        """The nodes of template `name`, its parent's with `blocks` (the child's) filled in, its includes inlined."""
        source, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        tree = self.env.parse(source, name, filename)
        blocks = {**{block.name: block for block in tree.find_all(nodes.Block)}, **blocks}
        parent = tree.find(nodes.Extends)
        if parent is not None:
            return self._body(parent.template.value, blocks)  # type: ignore[attr-defined]
        renderer = self

        class Inline(NodeTransformer):
            def visit_Block(self, block: nodes.Block) -> list[nodes.Node]:
                return [self.visit(child) for child in blocks[block.name].body]

            def visit_Include(self, include: nodes.Include) -> list[nodes.Node]:
                return renderer._body(include.template.value, {})  # type: ignore[attr-defined]

        return Inline().visit(tree).body


def _template_error(exc: Exception, name: str) -> UserError:
    """What went wrong in a template, located, and never with a value in it."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return UserError([Issue(Origin(name), f"template {exc.name} not found",
                                "a templates directory overrides files of the same name")])
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return UserError([Issue(Origin(exc.filename or name), f"template syntax error: {exc.message}", line=exc.lineno)])
    message = exc.message if isinstance(exc, (jinja2.TemplateError, jinja2.exceptions.SecurityError)) else None
    where = _template_frame(exc)
    return UserError([Issue(Origin(where.tb_frame.f_code.co_filename if where else name),
                            f"template error: {message or type(exc).__name__}", line=where.tb_lineno if where else None)])


def _template_frame(exc: BaseException) -> TracebackType | None:
    """The innermost traceback entry in a template's code (its file and line), if any."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            found = tb
        tb = tb.tb_next
    return found


def _expect(obj: Any, template: str, api_version: str, kind: str, name: str) -> dict:
    """A template must render exactly the object its plan describes."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    got = (obj.get("apiVersion"), obj.get("kind"), meta.get("name") if isinstance(meta, dict) else None) \
        if isinstance(obj, dict) else None
    if got != (api_version, kind, name):
        raise UserError([Issue(Origin(template), f"template rendered {shown(got)}, expected {api_version} {kind} {shown(name)}",
                               "a template renders one object: keep apiVersion, kind and metadata.name")])
    return obj
