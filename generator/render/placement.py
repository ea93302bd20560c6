"""Where each `| yaml` stands, read off a template's own layout: the rewrite every template's source gets.

`key: {{ v | yaml }}` or `- {{ v | yaml }}` alone on a line: the filter is told the column and
which of the two it follows, and prints the separator itself (a block value starts on a new
line). Anywhere else the filter gets no column and refuses (renderer.py, builtin.py).
"""

from __future__ import annotations

import re

_PLACED = r"^( *)((?:- )*)([^\s{:#'\"][^{:]*: )?\{\{(.*?)\|\s*yaml\s*\}\}$"  # compiled by `re` where Jinja rewrites sources


def _place(m: re.Match) -> str:
    spaces, dashes, key, expr = m.groups()
    if key:
        return f"{spaces}{dashes}{key[:-1]}{{{{{expr}| yaml({len(spaces) + len(dashes)}, {len(key) - 2}) }}}}"
    if dashes:
        return f"{spaces}{dashes[:-1]}{{{{{expr}| yaml({len(spaces) + len(dashes) - 2}) }}}}"
    return m.group(0)


# what the `yaml` filter says when it was not told where it stands
NOT_PLACED = "`{{ value | yaml }}` stands alone at the end of a line, after `key: ` or `- `; elsewhere write `| json`"


def placed(source: str) -> str:
    """`source` with each placed `| yaml` told its column (and key length)."""
    return re.sub(_PLACED, _place, source, flags=re.M)


# what `placed` does to a source, in the keys of compiled code (a change to it recompiles them)
REWRITE = (_PLACED + repr(_place.__code__.co_consts)).encode() + _place.__code__.co_code
