"""The package's imports follow the pipeline: no loop between files, no import from a lower stage of a higher one.

Read with the standard `ast` module from the source (nothing is imported), so lazy imports
inside functions count like any other. `STAGES` is the layering of docs/architecture.md: a
module may import its own stage and the stages below it, never one above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "semiology"

STAGES: tuple[tuple[str, ...], ...] = (
    ("semiology", "semiology.errors", "semiology.records", "semiology.camera", "semiology.engines", "semiology.pseudonyms"),
    ("semiology.layouts", "semiology.config"),
    ("semiology.io",),
    ("semiology.store",),
    ("semiology.synthetic",),
    ("semiology.streams",),
    ("semiology.experiment",),
    ("semiology.preprocess",),
    ("semiology.detect",),
    ("semiology.lift",),
    ("semiology.models",),
    ("semiology.train",),
    ("semiology.extract",),
    ("semiology.evaluate",),
    ("semiology.bundle",),
    ("semiology.explain", "semiology.screen"),
    ("semiology.live",),
    ("semiology.review",),
    ("semiology.cli",),
)
"""From the bottom (contracts every stage shares) to the top (command-line entry points)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> int:
    """The stage of a module: that of the longest listed prefix."""
    best, rank = -1, None
    for index, members in enumerate(STAGES):
        for prefix in members:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    if rank is None:
        raise AssertionError(f"module {module} belongs to no stage: add its package to STAGES and docs/architecture.md")
    return rank


def package_imports(modules: set[str]) -> dict[str, list[tuple[str, list[str], int]]]:
    """Per module: (imported module, imported names, line) for every import of the package."""
    found: dict[str, list[tuple[str, list[str], int]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        is_package = path.name == "__init__.py"
        entries = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                entries += [(alias.name, [], node.lineno) for alias in node.names if alias.name.split(".")[0] == "semiology"]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                if base.split(".")[0] != "semiology":
                    continue
                names = [alias.name for alias in node.names]
                submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
                plain = [n for n in names if f"{base}.{n}" not in modules]
                entries += [(sub, [], node.lineno) for sub in submodules]
                if plain:
                    entries.append((base, plain, node.lineno))
        found[name] = entries
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, list[str], int]]]:
    modules = {module_name(path) for path in PACKAGE.rglob("*.py")}
    return package_imports(modules)


def test_every_module_has_a_stage(graph) -> None:
    for module in graph:
        stage_of(module)


def upward_imports(graph: dict[str, list[tuple[str, list[str], int]]]) -> list[str]:
    return [
        f"{module}:{line} imports {target} (stage {stage_of(target)} above its own {stage_of(module)})"
        for module, entries in graph.items()
        for target, _, line in entries
        if stage_of(target) > stage_of(module)
    ]


def test_no_import_runs_up_the_pipeline(graph) -> None:
    upward = upward_imports(graph)
    assert not upward, "imports against the pipeline:\n" + "\n".join(upward)


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_private_name_of_another_package(graph) -> None:
    private = [
        f"{module}:{line} imports {name} from {target}"
        for module, entries in graph.items()
        for target, names, line in entries
        for name in names
        if name.startswith("_") and not name.startswith("__") and _package(target) != _package(module)
    ]
    assert not private, "private names used across packages:\n" + "\n".join(private)


def find_loops(edges: dict[str, list[str]]) -> list[list[str]]:
    """Every loop a depth-first walk meets (a package's `__init__` importing its own modules is not one)."""
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in edges.get(module, []):
            if target.startswith(module + "."):
                continue
            if state.get(target) == 1:
                loops.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return loops


def test_no_loop_between_files(graph) -> None:
    edges = {module: sorted({target for target, _, _ in entries if target in graph and target != module}) for module, entries in graph.items()}
    loops = find_loops(edges)
    assert not loops, "import loops:\n" + "\n".join(" -> ".join(loop) for loop in loops)


def test_the_checks_catch_a_loop_and_an_upward_import() -> None:
    """The checks themselves, on a made-up graph: the loop a -> b -> c -> a, and io importing evaluate."""
    assert find_loops({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c", "a"]]
    assert find_loops({"p": ["p.x"], "p.x": ["q"], "q": []}) == []
    made_up = {"semiology.io.cache": [("semiology.evaluate.study", ["run_study"], 3)], "semiology.evaluate.study": [("semiology.io.cache", ["load_record"], 1)]}
    assert upward_imports(made_up) == ["semiology.io.cache:3 imports semiology.evaluate.study (stage 13 above its own 2)"]
