"""Rendering plans through Jinja templates, with every value quoted by a filter.

Every `{{ }}` ends in the `yaml` or `json` filter (in user templates `finalize` refuses
anything else; for built-in ones a test checks it). `json` prints JSON, which is valid YAML;
`yaml` prints the value as PyYAML writes it at that place (emit.node, told the place by
placement.py), with the strings a YAML 1.2 reader would take for numbers quoted, so a value
can never break out of its place and reads back the same under YAML 1.1 and 1.2. User
templates (an override directory) are sandboxed, every object they render is read back and
checked (`object`, then sources.expect), and the objects are written again by PyYAML, so the
output's layout does not depend on how a user template lays its text out. Built-in templates
run without Jinja (builtin.py); here Jinja generates their loops' code (`loop_code`,
`write_compiled`) and says where one failed.
"""

from __future__ import annotations

import os
import posixpath
import re
from types import TracebackType
from typing import Any, Callable, Mapping

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generator.errors import Issue, Origin, UserError
from generator.limits import MAX_FILE_BYTES
from generator.read.yamlio import parse_yaml
from generator.render.emit import json_text, node
from generator.render.placement import NOT_PLACED, REWRITE, placed
from generator.render import sources
from generator.render.sources import builtin_sources, expect, loop_key, loop_module, variables
from generator.speed import precompiled
from generator.speed.compiled import compiled_templates

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


class _Placement(jinja2.ext.Extension):
    """Tells each `| yaml` where it stands, from the template's own layout (placement.py)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return placed(source)


class RootedLoader(jinja2.FileSystemLoader):
    """Templates from the override directory, then the built-in ones, under the root rule.

    Every file a template loads from the override directory (the template itself, an include,
    an import, an extends) must resolve inside `root`, after symlinks, as catalogs and credential
    files must (None: anywhere, for LoadRestrictionsNone), and be no larger than the inputs' limit.
    """

    def __init__(self, override_dir: str | None, root: str | None):
        super().__init__(([override_dir] if override_dir else []) + [str(sources.builtin_templates_dir())])
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
    """One Jinja environment per run: templates are compiled once (and kept compiled between runs).

    `object` renders one object and reads it back. User templates (an override directory) are
    sandboxed: a template there cannot reach Python internals.
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

    def _yaml(self, value: Any, column: int | None = None, key: int | None = None) -> str:
        if isinstance(value, jinja2.Undefined):  # say which name is undefined
            value._fail_with_undefined_error()
        if column is None:
            raise jinja2.TemplateRuntimeError(NOT_PLACED)
        return Printed(node(value, column, key)[0])

    def object(self, name: str, context: dict, api_version: str, kind: str, object_name: str) -> dict:
        """One object rendered and read back as YAML 1.2, as a user's file is; it must be the object its plan describes."""
        obj = parse_yaml(self.render(name, context), f"output of template {name}", check=False)
        return expect(obj, name, api_version, kind, object_name)

    def render(self, name: str, context: dict) -> str:
        try:
            return self.env.get_template(name).render(context)
        except Exception as exc:  # noqa: BLE001 - a user template can raise anything; never show values
            raise _template_error(exc, name) from None

    def loop_code(self, name: str, names: tuple[str, ...]) -> str:
        """The code of `{% for <names> in contexts %}---\n{% include <name> %}{% endfor %}`, with the template's
        parent, blocks and includes (constant names, as in the built-in templates) written into the loop's
        body, for conngen's runtime (builtin.py): a render call per object costs four times the template's
        own text."""
        target = [nodes.Name(n, "store") for n in names]
        loop = nodes.Template([nodes.For(target[0] if len(target) == 1 else nodes.Tuple(target, "store"),
                                         nodes.Name("contexts", "load"),
                                         [nodes.Output([nodes.TemplateData("---\n")]), *self._body(name, {})],
                                         [], None, False)])
        loop.set_environment(self.env).set_lineno(1)
        return precompiled.on_runtime(self.env.compile(loop, raw=True))

    def write_compiled(self) -> list[str]:
        """Write the code of every built-in template's loop for speed/precompiled.py (scripts/compile-templates)."""
        sources = builtin_sources()
        loops = [n for n in sources if not n.startswith("_")]
        for name in loops:
            given = variables(name)
            precompiled.write(loop_module(name), name + " loop", self.loop_code(name, given), loop_key(sources, given))
        return [n + " loop" for n in loops]

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
