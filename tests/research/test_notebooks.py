"""The notebooks in notebooks/ executed by papermill with tiny parameters.

(``make test`` also runs ``pytest --nbval-lax notebooks`` on the stored notebooks with their
default parameters.)"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from workbench.research.versions import TemplateVersions

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _execute(name: str, executed: Path, **parameters: object) -> nbformat.NotebookNode:
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=600,  # a hung cell fails the test instead of blocking the suite
    )
    return nbformat.read(executed, as_version=4)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_stored_notebooks_are_thin_and_clean(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert all(not c.outputs and c.execution_count is None for c in code), "stored without outputs"
    assert sum(len(c.source.splitlines()) for c in code) < 80, "notebooks stay thin"


@pytest.mark.slow
def test_backtest_basket_and_explore_notebooks(nifty_tiny: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    runs = []
    for stop in (0.25, 0.5):
        out = reports / "day" / f"run-{stop}"
        _execute(
            "backtest.ipynb",
            tmp_path / f"backtest-{stop}.ipynb",
            strategy="short-straddle",
            overrides={"stop_loss_pct": stop},
            data=str(nifty_tiny),
            fees="india",
            out=str(out),
            refs_dir=str(reports),
            executor="serial",
        )
        runs.append(out)
        metrics = json.loads((out / "metrics.json").read_text())
        book = pd.read_parquet(out / "tradebook.parquet")
        # independent check: total PnL of an intraday run is the sum of its cash flows
        assert metrics["total_pnl"] == pytest.approx(book["cash"].sum(), abs=0.01)
        assert (out / "tearsheet.html").stat().st_size > 10_000
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["template"]["name"] == "short-straddle"
        assert manifest["template"]["overrides"] == {"stop_loss_pct": stop}
    # the template version is recorded in the reports folder's version store
    stored = TemplateVersions(reports).get("short-straddle", 1)
    assert stored is not None and stored.referenced

    basket_out = tmp_path / "basket"
    nb = _execute(
        "basket.ipynb",
        tmp_path / "basket.ipynb",
        runs=[str(r) for r in runs],
        weights=[1, 2],
        out=str(basket_out),
    )
    assert (basket_out / "basket.html").exists() and (basket_out / "tearsheet.html").exists()
    daily = pd.read_csv(basket_out / "daily.csv")
    sleeves = [pd.read_csv(r / "daily.csv")["pnl"].sum() for r in runs]
    assert daily["pnl"].sum() == pytest.approx(sleeves[0] + 2 * sleeves[1], abs=0.01)
    assert any(
        o.get("output_type") == "execute_result" for c in nb.cells for o in c.get("outputs", [])
    )

    day = pd.read_parquet(runs[0] / "tradebook.parquet")["day"].iloc[0]
    nb = _execute(
        "explore.ipynb",
        tmp_path / "explore.ipynb",
        data=str(nifty_tiny),
        day=str(day),
        at="11:00",
        run=str(runs[0]),
    )
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "chain smile, payoff and replay figures are shown"
