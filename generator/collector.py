"""Python's cycle collector, paused where conngen allocates much and frees nothing by cycles.

Loading and rendering allocate hundreds of thousands of small objects and almost no reference
cycles, and so do the imports at start-up (click, Jinja, PyYAML): the collector's repeated
passes found nothing to free and cost a tenth of a large render and about 12 ms of a 0.3 s one.
Memory is still freed by reference counting. Stdlib only and cheap, for the plugin's hot path.
"""

from __future__ import annotations

import functools
import gc
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def paused(fn: F) -> F:
    """Run `fn` with the cycle collector paused; it is left as it was found (library callers)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return run  # type: ignore[return-value]
