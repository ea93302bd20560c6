"""`-v/--verbose` (or CONNGEN_VERBOSE=1, for the kustomize plugin) and `-q/--quiet`.

Verbose notes go to stderr: which files are read, where each credential comes from, which
sops runs, the render cache's decision and why, and timings. A note names files, variables
and decisions, never a value. Hand-written rather than `logging`, whose import alone (~8 ms
here) costs more than a cached plugin build.
"""

from __future__ import annotations

import os
import sys
import time

_START = time.perf_counter()
QUIET, NORMAL, VERBOSE = -1, 0, 1
level = VERBOSE if os.environ.get("CONNGEN_VERBOSE", "").lower() in ("1", "true", "yes", "on") else NORMAL


def set_level(value: int) -> None:
    global level
    level = value


def note(message: str) -> None:
    """One verbose line, stamped with the seconds since conngen started."""
    if level >= VERBOSE:
        sys.stderr.write(f"conngen: [{time.perf_counter() - _START:6.3f}s] {message}\n")
