"""The long fuzz run, outside the test suite: `python fuzz/run.py [--examples 100000] [--seed 0]`.

Feeds seeded mutations of the fixtures to conngen's entry points in-process (fuzz/harness.py)
and records every finding (an exception other than UserError, a leaked canary, an object that
fails kubernetes-validate, a cache hit that differs) with the index that replays it:
`python fuzz/run.py --seed S --only INDEX`. `--workers N` splits the indexes over N processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz.harness import new_harness  # noqa: E402


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError("an input took too long (a hang?)")


def work(seed: int, indexes: range, timeout: float, progress: int, queue: "multiprocessing.Queue | None") -> dict:
    """Run `indexes`; findings keyed by their first line, each with its first few indexes."""
    signal.signal(signal.SIGALRM, _alarm)
    harness, workdir = new_harness(seed)
    findings: dict[str, dict] = {}
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for done, index in enumerate(indexes, 1):
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            target = harness.run(index)
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding, Ctrl-C aside
            if isinstance(exc, KeyboardInterrupt):
                raise
            target = "?"
            where = traceback.extract_tb(exc.__traceback__)[-1]
            key = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''} " \
                  f"[{Path(where.filename).name}:{where.lineno}]"
            entry = findings.setdefault(key, {"count": 0, "indexes": []})
            if not entry["count"]:
                print(f"finding at index {index}: {key}", flush=True)
            entry["count"] += 1
            if len(entry["indexes"]) < 5:
                entry["indexes"].append(index)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        counts[target] = counts.get(target, 0) + 1
        if progress and done % progress == 0:
            line = f"[{indexes.start}..] {done} inputs after {time.perf_counter() - start:.0f} s, {len(findings)} findings"
            print(line, flush=True)
    workdir.cleanup()
    return {"findings": findings, "counts": counts, "seconds": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000, help="inputs in total")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first index")
    parser.add_argument("--only", type=int, help="replay one index and show its traceback")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one input may take")
    parser.add_argument("--progress", type=int, default=1000, help="print a line every N inputs per worker")
    parser.add_argument("--report", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    if args.only is not None:
        harness, workdir = new_harness(args.seed)
        target, case, config, more = harness.input(args.only)
        print(f"target {target}, case {case.name}\nconfig: {json.dumps(config, default=str)[:2000]}")
        harness.run(args.only)
        print("no finding")
        return 0
    start = time.perf_counter()
    step = -(-args.examples // args.workers)
    ranges = [range(args.start + i * step, args.start + min(args.examples, (i + 1) * step)) for i in range(args.workers)]
    if args.workers == 1:
        results = [work(args.seed, ranges[0], args.timeout, args.progress, None)]
    else:
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            results = pool.starmap(work, [(args.seed, r, args.timeout, args.progress, None) for r in ranges])
    elapsed = time.perf_counter() - start
    findings: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for result in results:
        for key, entry in result["findings"].items():
            merged = findings.setdefault(key, {"count": 0, "indexes": []})
            merged["count"] += entry["count"]
            merged["indexes"] = sorted(merged["indexes"] + entry["indexes"])[:5]
        for target, n in result["counts"].items():
            counts[target] = counts.get(target, 0) + n
    total = sum(counts.values())
    summary = {"inputs": total, "seed": args.seed, "start": args.start, "workers": args.workers,
               "seconds": round(elapsed, 1), "per_second": round(total / elapsed, 1), "targets": counts,
               "findings": findings}
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
