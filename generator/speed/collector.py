"""Python's cycle collector, paused where conngen allocates much and frees nothing by cycles.

Loading and rendering allocate hundreds of thousands of small objects and almost no reference
cycles, and so do the imports at start-up (click, Jinja, PyYAML): the collector's repeated
passes found nothing to free and cost a tenth of a large render and about 12 ms of a 0.3 s one.
Memory is still freed by reference counting. Stdlib only and cheap, for the plugin's hot path.

The interpreter also collects as it shuts down, disabled or not: over what click, Jinja and
a render leave alive, ~30 ms of a 0.3 s `conngen render`. A process entry point freezes
everything at exit so those passes skip it. Objects still in reference cycles then are not
finalized; conngen leaves none that need it (every file and subprocess is closed explicitly).
"""

from __future__ import annotations

import atexit
import gc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which a cached build does not need
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


def paused(fn: F) -> F:
    """Run `fn` with the cycle collector paused; it is left as it was found (library callers)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return _named_as(run, fn)


def process_entry(fn: F) -> F:
    """`paused`, for a function that is its process's whole life (the console and plugin entry points).

    At exit, `gc.freeze` (an atexit handler: atexit handlers run before the shutdown
    collections) moves every object to the permanent generation those collections skip. A
    test calling the function in-process only gets the freeze when the test process ends.
    """
    paused_fn = paused(fn)

    def run(*args: Any, **kwargs: Any) -> Any:
        atexit.unregister(gc.freeze)  # once per process, however often it is called
        atexit.register(gc.freeze)
        return paused_fn(*args, **kwargs)

    return _named_as(run, fn)


def _named_as(wrapper: Callable[..., Any], fn: F) -> F:
    """functools.wraps, without importing functools (with collections, ~3 ms of a cached build)."""
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(wrapper, name, getattr(fn, name))
    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
