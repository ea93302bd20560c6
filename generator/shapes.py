"""Template shapes: a rendered document's YAML parsed once, reused for every object of its shape.

A render of a built-in template prints a token where each `| json` value goes (see render.py).
The text with tokens depends only on the template's control flow, so it is the *shape*; this
module parses a shape once, checks that each token stands alone where a JSON value would, and
keeps it as JSON text split at the tokens. Filling that skeleton with the values' JSON and
reading it with `json.loads` gives the data a YAML parse of the full text gives.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_SHAPES = 256  # distinct shapes kept per run; a builder and its options make a handful

# A value printed as `key: {{ v | json }}`, `- {{ v | json }}` or inside `[...]`/`{...}` flow
# collections: what may stand right before a token on its line, spaces aside.
_ALONE_AFTER = frozenset(":-[,{\n")


class Skeleton:
    """A shape's JSON text, cut where the values go."""

    __slots__ = ("texts", "slots")

    def __init__(self, texts: list[str], slots: list[int]):
        self.texts = texts
        self.slots = slots

    def fill(self, values: list[str]) -> Any:
        texts = self.texts
        parts = [texts[0]]
        for i, slot in enumerate(self.slots, 1):
            parts.append(values[slot])
            parts.append(texts[i])
        return json.loads("".join(parts))


def skeleton(shape_text: str, data: Any, prefix: str, count: int) -> Skeleton | None:
    """The skeleton of a parsed shape, or None when a token is not a whole value on its own.

    `data` is `shape_text` parsed as YAML; tokens are `prefix` + index, `count` of them printed.
    """
    if not _tokens_stand_alone(shape_text, prefix):
        return None
    seen: list[int] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str) or prefix in key:
                    return None  # a token as a key, or keys JSON would turn into strings
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if prefix in node:
                index = node[len(prefix):]
                if not node.startswith(prefix) or not index.isdigit():
                    return None  # a token inside a longer string
                seen.append(int(index))
        elif node is not None and not isinstance(node, (bool, int, float)):
            return None  # a tagged value (bytes, a set...) JSON cannot carry
    if sorted(seen) != list(range(count)):
        return None  # a token lost in a comment, or repeated through an alias
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return None
    parts = re.split('"' + re.escape(prefix) + r'(\d+)"', text)
    return Skeleton(parts[0::2], [int(i) for i in parts[1::2]])


def _tokens_stand_alone(text: str, prefix: str) -> bool:
    """No tag, anchor or other text before a token on its line (`!!str TOKEN` would change it)."""
    for m in re.finditer(re.escape(prefix), text):
        i = m.start() - 1
        while i >= 0 and text[i] == " ":
            i -= 1
        if i >= 0 and text[i] not in _ALONE_AFTER:
            return False
    return True
