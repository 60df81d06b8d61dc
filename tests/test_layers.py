"""Imports run one way: errors/metrics/effort <- bitstream <- codec <- models <- catalog <- api,
restoration <- ratecontrol, cluster <- cli, pil_plugin <- train/benchmarks <- main.

Walks every module of the package (imports inside functions too) and fails on an import of a
higher layer, or on a cycle between packages. Stdlib-only: runs anywhere.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    "errors": 0,
    "metrics": 0,
    "tasks": 0,
    "effort": 0,
    "bitstream": 1,
    "codec": 2,
    "models": 3,
    "catalog": 4,
    "api": 5,
    "restoration": 5,
    "ratecontrol": 6,
    "cluster": 6,
    "cli": 7,
    "pil_plugin": 7,
    "train": 8,
    "benchmarks": 8,
    "main": 9,
    "tools": 9,
    "__main__": 9,
    "__init__": 9,  # the package's facade: lazy re-exports of the API
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", "runs", "build") or rel.parts[0].startswith("."):
            continue
        found[".".join(rel.with_suffix("").parts)] = path
    return found


def _unit(module: str) -> str:
    """The layer unit of a dotted module inside the package: its package or top-level module."""
    return module.split(".")[0]


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Units this file imports from the package (sparsepix.X...)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != "sparsepix" or len(parts) < 2:
                continue
            inner = ".".join(parts[1:])
            # `from sparsepix import errors` names a module; `from sparsepix import __version__` does not.
            if any(m == inner or m.startswith(inner + ".") for m in modules):
                out.add(_unit(inner))
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        unit = _unit(name)
        graph.setdefault(unit, set()).update(_imports(path, modules) - {unit})
    return graph


def test_every_unit_has_a_layer():
    assert set(_graph()) <= set(LAYERS), set(_graph()) - set(LAYERS)


def test_imports_never_go_up_a_layer():
    upward = sorted(
        f"{unit} -> {dep}" for unit, deps in _graph().items() for dep in deps if LAYERS[dep] > LAYERS[unit]
    )
    assert not upward, upward


def test_no_cycle_between_packages():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for dep in sorted(graph.get(unit, ())):
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join(path + [unit, dep]))
            if dep not in state:
                visit(dep, path + [unit])
        state[unit] = 2

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [])
