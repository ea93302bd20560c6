#!/usr/bin/env python3
"""conngen performance harness: checks the budgets of the performance issue on this machine.

Usage: python benchmarks/run.py [--quick] [--case NAME ...]

Each comparison runs conngen and its peer alternately (ABBA order) in one invocation so that
machine noise hits both, and reports medians of whole-process wall time; peak RSS comes from
os.wait4 of separate runs launched from a small process (see peak_rss_mib). Timing never sets
the exit code: only a command that fails does, because this is a report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import gen_catalog

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
POLYAXON_VERSION = "2.18.0"
POLYAXON_VENV = CACHE_DIR / f"polyaxon-{POLYAXON_VERSION}"
CONNGEN_VENV = CACHE_DIR / "conngen"
REPO = BENCH_DIR.parent
# shared/ sits beside the repository (or beside the directory of its worktrees)
_COMPONENT = Path("shared", "reference", "polyaxon-hub", "kaniko.yaml")
KANIKO_COMPONENT = next((d / _COMPONENT for d in REPO.parents if (d / _COMPONENT).is_file()), REPO.parent / _COMPONENT)
NOT_INSTALLED = "conngen not installed"
CONNGEN_FAILED = "conngen failed"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ---- conngen: the only place that knows conngen's command line ------------------------------
CONNGEN = "conngen"


def conngen_executable() -> str | None:
    """The real conngen script: the one beside this interpreter skips pyenv's shim (~0.1 s a call)."""
    beside = Path(sys.executable).parent / CONNGEN
    return str(beside) if beside.is_file() else shutil.which(CONNGEN)


def conngen_in_clean_venv() -> str:
    """conngen as a user's `pip install .` gives it: this checkout, installed into its own venv.

    The Polyaxon peer runs from a clean venv too. A developer's interpreter can carry `.pth`
    files (editable installs, setuptools' distutils hack...) that cost tens of milliseconds per
    start, which would be timed as conngen's. The checkout is reinstalled on every run.
    """
    python = CONNGEN_VENV / "bin" / "python"
    if not (CONNGEN_VENV / ".installed").exists():
        print(f"  creating {CONNGEN_VENV} for conngen", file=sys.stderr, flush=True)
        run_setup([sys.executable, "-m", "venv", "--clear", str(CONNGEN_VENV)])
        run_setup([str(python), "-m", "pip", "install", "--quiet", str(REPO)])
        (CONNGEN_VENV / ".installed").write_text("")
    else:  # the checkout itself afresh, then whatever dependency it gained since the venv was made
        run_setup([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(REPO)])
        run_setup([str(python), "-m", "pip", "install", "--quiet", str(REPO)])
    return str(CONNGEN_VENV / "bin" / CONNGEN)


def conngen_unusable(exe: str) -> str | None:
    """Why an entry point that exists cannot run yet (e.g. the package is half written), or None."""
    proc = subprocess.run([exe, "--help"], check=False, capture_output=True, text=True)
    return (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1] if proc.returncode else None


def conngen_render(exe: str, config: Path) -> list[str]:
    """`conngen render CONFIG` prints the Secrets and Jobs as one YAML stream."""
    return [exe, "render", str(config)]


def conngen_install(exe: str) -> list[str]:
    """`conngen install` puts the exec plugin under the first kustomize plugin root."""
    return [exe, "install"]


# ----------------------------------------------------------------------------------------------


class CommandFailed(Exception):
    """A benchmarked or set-up command exited non-zero: the only reason to exit non-zero."""


@dataclass(frozen=True)
class Command:
    """One whole process to time, and the kinds its stdout must hold for the run to count."""

    label: str
    argv: list[str]
    cwd: Path
    expect: dict[str, int]
    env: dict[str, str] = field(default_factory=dict)  # set on top of the run's environment


@dataclass
class Stats:
    """Samples of one command across the measured (non-warm-up) runs."""

    command: Command
    wall: list[float] = field(default_factory=list)
    problem: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.wall)


@dataclass(frozen=True)
class Budget:
    """A limit from the performance issue; `at_most` False means the value must reach it."""

    limit: float
    at_most: bool
    unit: str

    def text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.limit:g}{self.unit}"

    def verdict(self, value: float, valid: bool = True) -> str:
        """pass/FAIL, unless a command's output showed it did not do the work being timed."""
        if not valid:
            return "invalid"
        ok = value <= self.limit if self.at_most else value >= self.limit
        return "pass" if ok else "FAIL"


SCALE_RATIO = Budget(2.5, True, "×")  # budget 2: 10,000 registries + 10,000 Jobs vs reading their input
SCALE_CUTOFF = 60.0  # seconds: a first 10k run slower than this is measured once (see Context.measure)


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    case: str
    conngen: str
    other: str
    ratio: str
    budget: str
    verdict: str


def run_setup(argv: list[str], env: dict[str, str] | None = None) -> str:
    """Run an untimed preparation step and return its stdout."""
    proc = subprocess.run(argv, check=False, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise CommandFailed(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return proc.stdout


def run_once(cmd: Command, env: dict[str, str], out: Path, err: Path) -> float:
    """Time one whole process."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd.argv, cwd=cmd.cwd, env={**env, **cmd.env}, stdout=stdout, stderr=stderr)
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        tail = err.read_text(errors="replace")[-4000:]
        raise CommandFailed(f"{cmd.label}: {' '.join(cmd.argv)} exited {proc.returncode}:\n{tail}")
    return wall


# A child forked from this harness (which holds parsed outputs) starts with the harness's peak in
# its ru_maxrss, so peak RSS is taken from a grandchild, forked from a small launcher.
_PEAK_RSS = "import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); print(os.wait4(p.pid, 0)[2].ru_maxrss)"


def peak_rss_mib(cmd: Command, env: dict[str, str], runs: int = 3) -> float:
    """The largest peak RSS of `runs` runs of the command (output discarded), in MiB."""
    peaks = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-S", "-c", _PEAK_RSS, *cmd.argv], cwd=cmd.cwd,
                              env={**env, **cmd.env}, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise CommandFailed(f"{cmd.label}: peak RSS run exited {proc.returncode}:\n{proc.stderr[-4000:]}")
        peaks.append(int(proc.stdout.strip().splitlines()[-1]) / 1024)
    return max(peaks)


def check_output(cmd: Command, out: Path) -> str | None:
    """Say what is wrong if the output lacks the objects the command was meant to produce."""
    kinds = Counter(doc.get("kind") for doc in yaml.load_all(out.read_text(), Loader=_LOADER) if doc)
    if any(kinds[kind] != n for kind, n in cmd.expect.items()):
        return f"{cmd.label}: expected {cmd.expect}, got {dict(kinds)}"
    return None


def seconds(value: float) -> str:
    return f"{value:.3f} s"


@dataclass
class Context:
    """What every case shares: the scratch dir, run counts, environment and tools."""

    tmp: Path
    warmups: int
    runs: int
    env: dict[str, str]
    kubectl: str
    conngen: str | None
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _catalogs: dict[int, Path] = field(default_factory=dict)

    def catalog(self, n: int) -> Path:
        """An n-registry conngen config, written once and shared by the cases that need it."""
        if n not in self._catalogs:
            self._catalogs[n] = gen_catalog.write_catalog(self.tmp / f"catalog-{n}", n)
        return self._catalogs[n]

    def measure(self, *commands: Command, cutoff: float | None = None) -> list[Stats]:
        """Warm up, then time the commands alternately (ABBA) and check their last output.

        If a first run already takes longer than `cutoff` seconds, that run is the only sample:
        the budget is missed by far and repeating it would only make the harness unusable.
        """
        stats = [Stats(cmd) for cmd in commands]
        total = self.warmups + self.runs
        print(
            f"  {' vs '.join(c.label for c in commands)}: {self.warmups} warm-up + {self.runs} runs",
            file=sys.stderr,
            flush=True,
        )
        slots = list(enumerate(stats))
        for i in range(total):
            for index, s in slots if i % 2 == 0 else slots[::-1]:
                slot = self.tmp / f"out-{index}"
                s.wall.append(run_once(s.command, self.env, slot.with_suffix(".yaml"), slot.with_suffix(".err")))
            if i == 0 and cutoff is not None:
                slowest = max(stats, key=lambda st: st.wall[0])
                if slowest.wall[0] > cutoff:
                    note = f"{slowest.command.label} took {slowest.wall[0]:.1f} s > {cutoff:g} s: measured once"
                    self.notes.append(note)
                    break
            if i < self.warmups:
                for st in stats:
                    st.wall.clear()
        for index, s in enumerate(stats):
            s.problem = check_output(s.command, self.tmp / f"out-{index}.yaml")
            if s.problem:
                self.notes.append(f"invalid output: {s.problem}")
        return stats

    def versus(self, case: str, mine: Callable[[str], Command], other: Command, budget: Budget) -> Row:
        """conngen against a peer; the ratio is a slowdown for a ≤ budget, a speedup for ≥.

        A failing conngen is recorded and the peer still measured alone, so its numbers are
        never lost to a half-written conngen; a failing peer aborts the run.
        """
        if self.conngen:
            try:
                m, o = self.measure(mine(self.conngen), other)
            except CommandFailed as failure:
                self.failures.append(str(failure))
            else:
                ratio = m.median / o.median if budget.at_most else o.median / m.median
                verdict = budget.verdict(ratio, valid=not (m.problem or o.problem))
                return Row(case, seconds(m.median), seconds(o.median), f"{ratio:.2f}×", budget.text(), verdict)
        (o,) = self.measure(other)
        label = CONNGEN_FAILED if self.conngen else NOT_INSTALLED
        return Row(case, label, seconds(o.median), "—", budget.text(), "invalid" if o.problem else "—")


def case_kustomize_small(ctx: Context) -> list[Row]:
    """Budget 1: kustomize with the conngen plugin vs the built-in secretGenerator, 10 + 10 objects.

    A third row measures the floor under the cache-off budget: the same build with a plugin that
    only starts the installed plugin's Python, imports what any render needs (PyYAML and msgspec;
    built-in templates run without Jinja) and prints conngen's stream, reading and rendering nothing.
    """
    n = 10
    expect = {"Secret": n, "Job": n}
    builtin = gen_catalog.write_builtin_base(ctx.tmp / "kustomize-builtin", n)

    def plugin(_exe: str, cache: dict[str, str] | None = None) -> Command:
        base = gen_catalog.write_conngen_base(ctx.tmp / "kustomize-conngen", n)
        argv = [ctx.kubectl, "kustomize", "--enable-alpha-plugins", str(base)]
        return Command("kustomize+conngen" + (" (cache off)" if cache else ""), argv, base, expect, cache or {})

    def floor(_exe: str) -> Command:
        base = gen_catalog.write_conngen_base(ctx.tmp / "kustomize-conngen", n)
        home = imports_only_plugin(ctx, base)
        argv = [ctx.kubectl, "kustomize", "--enable-alpha-plugins", str(base)]
        return Command("kustomize+imports only", argv, base, expect, {"KUSTOMIZE_PLUGIN_HOME": str(home)})

    other = Command(
        "kustomize built-in", [ctx.kubectl, "kustomize", "--enable-alpha-plugins", str(builtin)], builtin, expect
    )
    # the first build, or one after an input changed, renders in full: shown, not budgeted
    cold = ctx.versus("kustomize-small (10), cache off", lambda exe: plugin(exe, {"CONNGEN_CACHE": "off"}),
                      other, Budget(2.5, True, "×"))
    rows = [ctx.versus("kustomize-small (10)", plugin, other, Budget(1.5, True, "×")), cold]
    return rows + [ctx.versus("kustomize-small (10), floor: imports only", floor, other, Budget(2.5, True, "×"))]


PLUGIN = Path("conngen.dev", "v1", "connectiongenerator", "ConnectionGenerator")


def imports_only_plugin(ctx: Context, base: Path) -> Path:
    """A plugin home whose ConnectionGenerator starts as the installed one does (its interpreter, `-S`,
    its import paths), imports PyYAML and msgspec, and prints what conngen printed for `base`."""
    home = ctx.tmp / "imports-only-plugins"
    installed = Path(ctx.env["KUSTOMIZE_PLUGIN_HOME"]) / PLUGIN
    env = {**ctx.env, "KUSTOMIZE_PLUGIN_CONFIG_ROOT": str(base), "CONNGEN_CACHE": "off"}
    proc = subprocess.run([str(installed), str(base / gen_catalog.CONFIG_FILE)], cwd=base, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise CommandFailed(f"{installed} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    stream = ctx.tmp / "imports-only-stream.yaml"
    stream.write_text(proc.stdout)
    lines = installed.read_text().splitlines()
    start = lines[: next(i for i, line in enumerate(lines) if line.startswith("sys.path")) + 1]
    body = ["import yaml, msgspec", f"sys.stdout.write(open({str(stream)!r}).read())"]
    script = home / PLUGIN
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n".join(start + body) + "\n")
    script.chmod(0o755)
    return home


def input_files(config: Path) -> list[Path]:
    """The files `conngen render CONFIG` reads as YAML: the config and its catalogs (one path or a list)."""
    catalogs = yaml.load(config.read_text(), Loader=_LOADER).get("catalog") or []
    return [config] + [config.parent / name for name in ([catalogs] if isinstance(catalogs, str) else catalogs)]


def case_scale(ctx: Context) -> list[Row]:
    """Budget 2: conngen at 10k registries against a process reading its input, peak RSS, growth from 1k.

    The yardstick (floor.py, run by conngen's own interpreter) imports PyYAML's C parser and
    pulls every libyaml event of the same config and catalog, nothing more; it runs interleaved
    with the two renders, so load on the machine hits all three.
    """
    ratio_budget, rss_budget, growth_budget = SCALE_RATIO, Budget(100, True, " MiB"), Budget(10.5, True, "×")
    names = ("scale-10k vs reading its input", "scale-10k peak RSS", "scale 10k/1k time")
    budgets = (ratio_budget, rss_budget, growth_budget)
    if not ctx.conngen:
        return [Row(name, NOT_INSTALLED, "—", "—", b.text(), "—") for name, b in zip(names, budgets)]
    commands = []
    for n in (10_000, 1_000):
        config = ctx.catalog(n)
        commands.append(
            Command(f"conngen {n}", conngen_render(ctx.conngen, config), config.parent, {"Secret": n, "Job": n})
        )
    python = str(Path(ctx.conngen).parent / "python")
    files = [str(f) for f in input_files(ctx.catalog(10_000))]
    commands.append(Command("libyaml events 10k", [python, str(BENCH_DIR / "floor.py"), *files], BENCH_DIR, {}))
    try:
        big, small, floor = ctx.measure(*commands, cutoff=SCALE_CUTOFF)
        peak = peak_rss_mib(commands[0], ctx.env)
    except CommandFailed as failure:
        ctx.failures.append(str(failure))
        return [Row(name, CONNGEN_FAILED, "—", "—", b.text(), "—") for name, b in zip(names, budgets)]
    valid = not (big.problem or small.problem)
    ratio, growth = big.median / floor.median, big.median / small.median
    rss = f"{peak:.1f} MiB"
    return [
        Row(names[0], seconds(big.median), seconds(floor.median), f"{ratio:.2f}×", ratio_budget.text(),
            ratio_budget.verdict(ratio, valid)),
        Row(names[1], rss, "—", "—", rss_budget.text(), rss_budget.verdict(peak, valid)),
        Row(names[2], seconds(big.median), seconds(small.median), f"{growth:.2f}×", growth_budget.text(),
            growth_budget.verdict(growth, valid)),
    ]


def conngen_100(ctx: Context, exe: str) -> Command:
    """conngen rendering 100 Secrets and 100 Jobs: more than either peer produces."""
    config = ctx.catalog(100)
    return Command("conngen 100", conngen_render(exe, config), config.parent, {"Secret": 100, "Job": 100})


def case_peer_kubectl(ctx: Context) -> list[Row]:
    """Budget 3a: a shell loop of `kubectl create secret docker-registry` over 100 registries."""
    tsv = gen_catalog.write_registries_tsv(ctx.tmp / "kubectl", 100)
    other = Command(
        "kubectl loop 100", ["bash", str(BENCH_DIR / "kubectl_loop.sh"), str(tsv)], tsv.parent, {"Secret": 100}
    )
    return [ctx.versus("peer kubectl loop (100)", lambda exe: conngen_100(ctx, exe), other, Budget(20, False, "×"))]


def ensure_polyaxon_venv() -> Path:
    """Install Polyaxon into its own cached venv once: its pins must not touch the project's."""
    python = POLYAXON_VENV / "bin" / "python"
    marker = POLYAXON_VENV / ".installed"
    if not marker.exists():
        print(f"  installing polyaxon=={POLYAXON_VERSION} into {POLYAXON_VENV}", file=sys.stderr, flush=True)
        run_setup([sys.executable, "-m", "venv", "--clear", str(POLYAXON_VENV)])
        run_setup([str(python), "-m", "pip", "install", "--quiet", f"polyaxon=={POLYAXON_VERSION}"])
        marker.write_text(POLYAXON_VERSION)
    return python


def case_peer_polyaxon(ctx: Context) -> list[Row]:
    """Budget 3b: Polyaxon's own converter turning 100 builds into kaniko jobs, one process."""
    if not KANIKO_COMPONENT.is_file():
        raise CommandFailed(f"kaniko component not found at {KANIKO_COMPONENT}")
    python = ensure_polyaxon_venv()
    config = ctx.catalog(100)
    argv = [str(python), str(BENCH_DIR / "polyaxon_convert.py"), str(config), str(KANIKO_COMPONENT)]
    other = Command(f"polyaxon {POLYAXON_VERSION} 100", argv, config.parent, {"Job": 100})
    return [
        ctx.versus(
            f"peer polyaxon {POLYAXON_VERSION} (100)", lambda exe: conngen_100(ctx, exe), other, Budget(20, False, "×")
        )
    ]


CASES: dict[str, Callable[[Context], list[Row]]] = {
    "kustomize-small": case_kustomize_small,
    "scale": case_scale,
    "peer-kubectl": case_peer_kubectl,
    "peer-polyaxon": case_peer_polyaxon,
}


def machine(kubectl: str, conngen: str, runs: str, load_before: float) -> list[str]:
    """The facts a reader needs to compare these numbers with another run, load included."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    tools = run_setup([kubectl, "version", "--client"]).strip().replace("\n", ", ")
    return [
        f"nproc: {len(os.sched_getaffinity(0))}   cpu: {cpu}",
        f"python: {platform.python_version()}   kubectl: {tools}",
        f"conngen: {conngen}",
        f"runs: {runs}   load average (1 min) before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f}",
    ]


def table(rows: list[Row]) -> str:
    """Rows as an aligned pipe table."""
    header = Row("case", "conngen", "other", "ratio", "budget", "pass/fail")
    cells = [list(vars(r).values()) for r in [header, *rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 warm-up + 5 runs instead of 3 + 15")
    parser.add_argument("--case", action="append", choices=list(CASES), help="run only this case (repeatable)")
    parser.add_argument("--conngen", choices=["venv", "path"], default="venv",
                        help="venv: install this checkout into benchmarks/.cache/conngen (default); "
                             "path: the conngen beside this interpreter or on PATH")
    args = parser.parse_args(argv)
    warmups, runs = (1, 5) if args.quick else (3, 15)
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl not found on PATH: every case needs it", file=sys.stderr)
        return 1
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="conngen-bench-") as scratch:
            tmp = Path(scratch)
            env = dict(os.environ, KUSTOMIZE_PLUGIN_HOME=str(tmp / "plugins"))
            (tmp / "plugins").mkdir()
            exe = conngen_in_clean_venv() if args.conngen == "venv" else conngen_executable()
            problem = conngen_unusable(exe) if exe else "not on PATH"
            conngen = None if problem else exe
            failures: list[str] = []
            if conngen:
                try:
                    run_setup(conngen_install(conngen), env)
                except CommandFailed as failure:
                    failures.append(str(failure))
                    conngen, problem = None, "`conngen install` failed"
            if problem:
                print(f"{NOT_INSTALLED}: {problem}; measuring the peers only", file=sys.stderr, flush=True)
            ctx = Context(tmp, warmups, runs, env, kubectl, conngen, failures=failures)
            rows: list[Row] = []
            for name in args.case or CASES:
                print(f"{name}:", file=sys.stderr, flush=True)
                try:
                    rows.extend(CASES[name](ctx))
                except CommandFailed as failure:  # the other cases' rows are still worth printing
                    ctx.failures.append(f"{name}: {failure}")
            runs_text = f"{warmups} warm-up + {runs} measured, medians"
            info = machine(kubectl, conngen or f"{NOT_INSTALLED} ({problem})", runs_text, load_before)
    except CommandFailed as failure:
        print(f"command failed: {failure}", file=sys.stderr)
        return 1
    print("\n".join(info))
    print(table(rows))
    for note in ctx.notes:
        print(note)
    for failed in ctx.failures:
        print(f"command failed: {failed}", file=sys.stderr)
    return 1 if ctx.failures else 0


if __name__ == "__main__":
    sys.exit(main())
