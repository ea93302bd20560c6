"""The built-in templates, rendered as the stream is printed, without Jinja at run time.

Built-in templates are written in PyYAML's block layout and print every value with the `yaml`
filter (emit.node), so what they render is the stream as printed. Each runs as one loop over
its objects (the template with its parent and partials written into a `{% for %}`), from the
code Jinja generated for it, shipped in templates/compiled/ and run on conngen's runtime
(runtime.py, speed/precompiled.py); Jinja is imported only when that code is stale, or to say
where a template failed. The first object of each template is read back and checked (pipeline);
their shapes are proven by tests, and a test renders every golden case both ways.
"""

from __future__ import annotations

import io
from itertools import islice
from types import CodeType
from typing import IO, Any, TextIO

from generator.errors import Issue, Origin, UserError
from generator.read.yamlio import parse_yaml
from generator.render import runtime
from generator.render.emit import node, yaml_stream
from generator.render.placement import NOT_PLACED
from generator.render.sources import builtin_sources, expect, loop_key, loop_module
from generator.speed import precompiled
from generator.speed.ahead import Child


class Builtin:
    """One run's built-in templates: `stream` writes runs of objects, `object` renders one and reads it back."""

    def __init__(self) -> None:
        self._memo: dict = {}  # plan records' values by identity (emit.node): nothing changes them meanwhile
        self._open_ended = False  # a `|+` block was printed: PyYAML ends a stream whose last document holds one with `...`
        self._env = runtime.Environment(self._yaml)
        self._loops: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._sources: dict[str, bytes] | None = None

    def _yaml(self, value: Any, column: int | None = None, key: int | None = None) -> str:
        if column is None:
            raise runtime.TemplateRuntimeError(NOT_PLACED)
        text, open_ended = node(value, column, key, self._memo)
        if open_ended:
            self._open_ended = True
        return text

    def stream(self, runs: list[tuple[str, tuple[str, ...], list[tuple]]], out: TextIO, rest: Ahead | None = None
               ) -> None:
        """Write the YAML documents of (template, context names, one context per object) runs, then
        `rest`, the stream's last part, written meanwhile by a child process (it ends the stream)."""
        for name, names, contexts in runs:
            for batch in self._pieces(name, names, contexts):
                out.write(batch)
        if rest is not None:
            rest.copy_to(out)
        elif self._open_ended:  # rare: PyYAML says whether its last document ends the stream with `...`
            name, names, contexts = runs[-1]
            last = self._read_back(name, dict(zip(names, contexts[-1])))
            out.write("...\n" if yaml_stream([last]).endswith("\n...\n") else "")

    def ahead(self, runs: list[tuple[str, tuple[str, ...], list[tuple]]]) -> Ahead:
        """`runs`, to end the stream, rendered from now on by a child process (`stream` copies them)."""
        return Ahead(self, runs)

    def object(self, name: str, context: dict, api_version: str, kind: str, object_name: str) -> dict:
        """One object rendered and read back as YAML 1.2, as a user's file is; it must be the object its plan describes."""
        return expect(self._read_back(name, context), name, api_version, kind, object_name)

    def _read_back(self, name: str, context: dict) -> Any:
        text = "".join(self._pieces(name, tuple(context), [tuple(context.values())]))
        return parse_yaml(text[len("---\n"):], f"output of template {name}", check=False)

    def _pieces(self, name: str, names: tuple[str, ...], contexts: list[tuple]) -> Any:
        """The text of the loop over `contexts`, in batches (a run's pieces joined at once would be millions)."""
        items = contexts if len(names) > 1 else [context[0] for context in contexts]
        try:
            pieces = self._loop(name, names)(runtime.Context({"contexts": items}))
            while batch := list(islice(pieces, 65536)):
                yield "".join(batch)
        except Exception:  # noqa: BLE001 - a bug in a built-in template or the runtime: Jinja says where
            raise _failure(name, names, contexts) from None

    def _loop(self, name: str, names: tuple[str, ...]) -> Any:
        """The loop's render function: from its shipped code when current, else from the code Jinja generates now."""
        if (name, names) not in self._loops:
            if self._sources is None:
                self._sources = builtin_sources()
            code: CodeType | None = precompiled.load(loop_module(name), loop_key(self._sources, names))
            if code is None:
                from generator.render.renderer import Renderer  # stale shipped code: Jinja generates it

                code = compile(Renderer().loop_code(name, names), "<template>", "exec")
            namespace: dict[str, Any] = {"environment": self._env}
            exec(code, namespace)  # noqa: S102 - code Jinja generated from the built-in templates
            self._loops[name, names] = namespace["root"]
        return self._loops[name, names]


class Ahead:
    """The last runs of a stream, rendered meanwhile by a child process (speed/ahead.py)."""

    def __init__(self, builtin: Builtin, runs: list[tuple[str, tuple[str, ...], list[tuple]]]) -> None:
        self._builtin = builtin
        self._runs = runs
        self._child = Child(self._write)

    def _write(self, file: IO[bytes]) -> None:
        text = io.TextIOWrapper(file, encoding="utf-8", newline="")
        self._builtin.stream(self._runs, text)
        text.flush()
        text.detach()

    def copy_to(self, out: TextIO) -> None:
        """The runs' text appended to `out`: the child's, or rendered here if the child failed."""
        file = self._child.result()
        if file is None:
            self._builtin.stream(self._runs, out)
            return
        with io.TextIOWrapper(file, encoding="utf-8", newline="") as text:
            while chunk := text.read(1 << 20):
                out.write(chunk)

    def cancel(self) -> None:
        self._child.cancel()


def _failure(name: str, names: tuple[str, ...], contexts: list[tuple]) -> UserError:
    """Where a built-in template failed, as Jinja reports it for any template (never with a value in it)."""
    from generator.render.renderer import Renderer

    renderer = Renderer()
    for context in contexts:
        try:
            renderer.render(name, dict(zip(names, context)))
        except UserError as exc:
            return exc
    return UserError([Issue(Origin(name), "built-in template failed to render on conngen's runtime",
                            "a bug in conngen: please report it with the command that failed")])
