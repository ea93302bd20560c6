"""Long fuzz run, outside the test suite: `python fuzz/run.py [--examples 100000]`.

Feeds generated generator configs, catalogs, KRM ResourceLists and arbitrary text to the real
entry points in-process (see tests/fuzzing.py) and fails on any exception, any exit code other
than 0 or 1, any input that takes longer than --timeout seconds, or a leaked password.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import CATALOG_TEXTS, CONFIGS, exec_plugin_target, krm_target, raw_text_target  # noqa: E402


class _Clock:
    """Per-input time limit. The flag catches an alarm that fired inside code swallowing exceptions."""

    fired = False


def _alarm(signum: int, frame: object) -> None:
    _Clock.fired = True
    raise TimeoutError("an input took too long (a hang?)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000, help="inputs in total (split over 3 targets)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one input may take")
    parser.add_argument("--progress", type=int, default=5000, help="print a line every N inputs")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    per_target = max(1, -(-args.examples // 3))  # rounded up: at least --examples inputs in all
    run_settings = settings(max_examples=per_target, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    counts = {"plugin": 0, "krm": 0, "text": 0}
    start = time.perf_counter()
    workdir = tempfile.TemporaryDirectory()  # one root per target, rewritten by each input: faster than a new dir

    def guarded(name: str, fn, *fn_args: object) -> None:
        counts[name] += 1
        if sum(counts.values()) % args.progress == 0:
            print(f"{sum(counts.values())} inputs after {time.perf_counter() - start:.0f} s", flush=True)
        root = Path(workdir.name) / name
        root.mkdir(exist_ok=True)
        _Clock.fired = False
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        try:
            fn(root, *fn_args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if _Clock.fired:
            raise TimeoutError(f"an input took more than {args.timeout} s (a hang?)")

    @run_settings
    @given(CONFIGS, CATALOG_TEXTS)
    def plugin(config: dict, catalog: str) -> None:
        guarded("plugin", exec_plugin_target, config, catalog)

    @run_settings
    @given(CONFIGS, CATALOG_TEXTS)
    def krm(config: dict, catalog: str) -> None:
        guarded("krm", krm_target, config, catalog)

    @run_settings
    @given(st.text(max_size=400))
    def text(value: str) -> None:
        guarded("text", raw_text_target, value)

    failed = False
    for target in (plugin, krm, text):
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - report and go on with the other targets
            failed = True
            print(f"FAILED {target.__name__}: {type(exc).__name__}: {exc}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    workdir.cleanup()
    total = sum(counts.values())
    print(f"{total} inputs ({', '.join(f'{k} {v}' for k, v in counts.items())}) in {elapsed:.0f} s, "
          f"{total / elapsed:.0f}/s: {'FAILED' if failed else 'no crash, no hang, no leak'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
