"""House rules for the code as a whole: no import cycles, and mypy clean with the project's own
settings (setup.cfg). (The exec plugin staying off click and ruamel is tests/test_startup.py's.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

PACKAGE = "generator"


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules `node` imports, at any depth (an import inside a function counts too), and
    those it loads by name (`importlib.import_module("generator.commands.doctor")`, "generator.commands.helm:command")."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.partition(":")[0] in known:
            names = [sub.value.partition(":")[0]]
        elif isinstance(sub, ast.Import):
            names = [alias.name for alias in sub.names]
        elif isinstance(sub, ast.ImportFrom):
            if sub.level:  # relative: from the module's package, one level up per extra dot
                base = module.split(".")[: len(module.split(".")) - sub.level + is_package]
                parent = ".".join(base + ([sub.module] if sub.module else []))
            else:
                parent = sub.module or ""
            # `from generator import cache` imports the module generator.cache; `from generator.x import f` imports x
            names = [f"{parent}.{alias.name}" if f"{parent}.{alias.name}" in known else parent for alias in sub.names]
        else:
            continue
        for name in names:
            while name and name not in known:  # `import generator.x.y` names the innermost known module
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph(root: Path = REPO, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, over every .py file of the package and its sub-packages.

    A module's own packages are left out as its targets (`from generator import __version__` in
    generator/commands/cli.py): Python runs them first anyway, and they would close a cycle with
    everything their `__init__` imports.
    """
    files = sorted((root / package).rglob("*.py"))
    known = {module_name(f, root) for f in files}
    graph = {}
    for file in files:
        module = module_name(file, root)
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        graph[module] = _imported(tree, module, file.name == "__init__.py", known)
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}  # a module's own packages
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_generator_has_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (imports inside functions count): " + "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_check_sees_function_level_imports_and_sub_packages(tmp_path: Path) -> None:
    """So the check above can fail: a cycle through a function's import, across sub-packages."""
    pkg = tmp_path / PACKAGE
    (pkg / "commands").mkdir(parents=True)
    (pkg / "kustomize").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "commands" / "__init__.py").write_text("")
    (pkg / "kustomize" / "__init__.py").write_text("from generator.kustomize.krm import run\n")
    (pkg / "commands" / "render.py").write_text("import os\nfrom generator.kustomize import krm\n")
    (pkg / "kustomize" / "krm.py").write_text("def run():\n    from ..commands.render import go\n")
    (pkg / "cli.py").write_text('LAZY = {"init": "generator.scaffold:init"}\n')
    (pkg / "scaffold.py").write_text("from . import errors\nfrom generator.cli import LAZY\n")
    (pkg / "errors.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["generator.commands.render"] == {"generator.kustomize.krm"}
    assert graph["generator.scaffold"] == {"generator.errors", "generator.cli"}
    assert cycles(graph) == [["generator.cli", "generator.scaffold"],
                             ["generator.commands.render", "generator.kustomize.krm"]]


#: The stages in the order they build on each other (README "Design"); the front ends come last.
#: Outside the order: the top-level helpers (errors, exits, limits, report, verbose) and speed/.
STAGES = ("model", "read", "plan", "render", "pipeline", "commands", "kustomize")


def backward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a stage imports a later stage."""
    def stage(module: str) -> str | None:
        part = module.split(".")[1] if "." in module else ""
        return part if part in STAGES else None

    found = []
    for module, imported in graph.items():
        for target in imported:
            here, there = stage(module), stage(target)
            if here and there and STAGES.index(there) > STAGES.index(here):
                found.append((module, target))
    return sorted(found)


def test_each_stage_imports_only_its_own_and_earlier_stages() -> None:
    assert backward_imports(import_graph()) == []


def test_the_stage_check_sees_a_backward_import() -> None:
    graph = {"generator.model.records": {"generator.plan.planner"}, "generator.plan.planner": {"generator.errors"},
             "generator.render.renderer": {"generator.speed.cache", "generator.read.yamlio"}}
    assert backward_imports(graph) == [("generator.model.records", "generator.plan.planner")]


def test_mypy_is_clean_with_the_projects_settings() -> None:
    """setup.cfg's [mypy] section, over the whole package (CI runs this as part of the suite)."""
    done = subprocess.run([sys.executable, "-m", "mypy", PACKAGE], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
