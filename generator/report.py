"""Printing issues as `file:line:column: error: message` with a hint, never a value."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, TextIO

from generator.errors import Issue, UserError, dotted
from generator.read.yamlio import locate, read_text


def position(issue: Issue, texts: dict[str, str] | None = None) -> tuple[int | None, int | None]:
    if issue.line is not None or issue.origin is None or not issue.origin.path:
        return issue.line, issue.column  # a whole file's problem (too large, say) has no place to look up
    text = (texts or {}).get(issue.origin.file)
    if text is None:
        try:
            text = read_text(Path(issue.origin.file), issue.origin.file)  # the inputs' size limit holds here too
        except UserError:
            return None, None
    found = locate(text, issue.origin.path)
    return found if found else (None, None)


def format_issue(issue: Issue, texts: dict[str, str] | None = None) -> str:
    line, column = position(issue, texts)
    where = issue.origin.file if issue.origin else "conngen"
    if line is not None:
        where += f":{line}" + (f":{column}" if column is not None else "")
    key = f" {dotted(issue.origin.path)}:" if issue.origin and issue.origin.path else ""
    text = f"{where}: {issue.severity}:{key} {issue.message}"
    if issue.hint:
        text += f"\n  hint: {issue.hint}"
    return text


def print_issues(issues: Iterable[Issue], stream: TextIO | None = None, texts: dict[str, str] | None = None) -> None:
    out = stream or sys.stderr
    for issue in issues:
        print(format_issue(issue, texts), file=out)
