"""DESIGN.md's layers: imports point one way only, from the top of the list down.

Every import of a ``workbench`` module anywhere in the package -- including the lazy imports
inside functions -- is checked against the layer order, so a lower layer reaching up (the
synthetic market once priced its options with ``workbench.pricing``) fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

# DESIGN.md, top to bottom; the REST service and `bench` (benchmark tooling) sit with the
# command line on top
LAYERS = (
    "cli",
    "research",
    "analytics",
    "strategies",
    "engine",
    "execution",
    "pricing",
    "data",
    "model",
)
TOP = ("bench", "service")
RANK = {"bench": 0, "service": 0, **{layer: i for i, layer in enumerate(LAYERS)}}
#: the engine's result schema, which "reads results only" may know: the result, the tradebook,
#: and the definitions of the numbers read from them (headline metrics, the position model)
RESULT_MODULES = (
    "workbench.engine.result",
    "workbench.engine.tradebook",
    "workbench.engine.metrics",
    "workbench.engine.positions",
)


def _rank(layer: str) -> int:
    return RANK[layer]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "workbench":  # from workbench import pricing
                found += [(node.lineno, f"workbench.{a.name}") for a in node.names]
    return [(line, name) for line, name in found if name.startswith("workbench.")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    layer = path.relative_to(PACKAGE).parts[0]
    upward = []
    for line, name in _imports(path):
        target = name.split(".")[1]
        if target not in LAYERS and target not in TOP:
            continue  # workbench.__init__ names (lazy public API)
        if _rank(target) < _rank(layer):
            upward.append(f"line {line}: {name} ({target} is above {layer})")
    assert not upward, "; ".join(upward)


def test_analytics_reads_results_only() -> None:
    reaching = [
        f"{p.relative_to(PACKAGE)} line {line}: {name}"
        for p in sorted((PACKAGE / "analytics").rglob("*.py"))
        for line, name in _imports(p)
        if name.split(".")[1] in ("engine", "strategies", "execution")
        and not name.startswith(RESULT_MODULES)
    ]
    assert not reaching, reaching


def test_the_scan_sees_lazy_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from workbench.pricing import bs_price\n    import workbench.engine\n"
    )
    assert _imports(module) == [(2, "workbench.pricing"), (3, "workbench.engine")]
