from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.research.basket import BasketError, combine, resolve_runs


def _run(folder: Path, dates: list[str], pnl: list[float], margin: list[float]) -> Path:
    folder.mkdir(parents=True)
    equity = np.cumsum(pnl)
    pd.DataFrame(
        {
            "date": dates,
            "pnl": pnl,
            "fees": [1.0] * len(dates),
            "equity": equity,
            "margin": margin,
            "open_legs": 0,
        }
    ).to_csv(folder / "daily.csv", index=False)
    pd.DataFrame(
        {
            "ts": pd.to_datetime([f"{d} 10:00" for d in dates]),
            "qty": [1] * len(dates),
            "cash": [10.0] * len(dates),
            "fees": [1.0] * len(dates),
        }
    ).to_parquet(folder / "tradebook.parquet")
    (folder / "manifest.json").write_text(json.dumps({"run_id": folder.name}))
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    a = _run(
        tmp_path / "a",
        ["2024-01-01", "2024-01-02", "2024-01-03"],
        [10.0, -5.0, 20.0],
        [100, 100, 100],
    )
    b = _run(
        tmp_path / "b", ["2024-01-02", "2024-01-03", "2024-01-04"], [-4.0, 6.0, 2.0], [50, 60, 70]
    )
    return [a, b]


def test_combined_path_is_the_weighted_sum(runs: list[Path]) -> None:
    basket = combine(runs, weights={"a": 2.0, "b": 0.5})
    daily = basket.daily.set_index("date")
    # by hand: day1 2*10, day2 2*-5 + .5*-4, day3 2*20 + .5*6, day4 .5*2
    assert daily["pnl"].tolist() == [20.0, -12.0, 43.0, 1.0]
    assert daily["equity"].tolist() == [20.0, 8.0, 51.0, 52.0]
    # margin: a carries 100 forward after its last day; b is 0 before its first
    assert daily["margin"].tolist() == [200.0, 225.0, 230.0, 235.0]
    assert basket.metrics["total_pnl"] == 52.0
    assert basket.metrics["max_drawdown"] == -12.0
    contribution = basket.contribution
    assert contribution.loc["a", "pnl"] == 50.0 and contribution.loc["b", "pnl"] == 2.0
    assert contribution["share"].sum() == pytest.approx(1.0)
    # tradebook scaled by weight, tagged by sleeve, in time order
    assert basket.tradebook["cash"].sum() == pytest.approx(3 * 20.0 + 3 * 5.0)
    assert list(basket.tradebook["sleeve"][:2]) == ["a", "a"]


def test_correlation_matrix(runs: list[Path]) -> None:
    basket = combine(runs)
    corr = basket.correlation
    expected = np.corrcoef([10.0, -5.0, 20.0, 0.0], [0.0, -4.0, 6.0, 2.0])[0, 1]
    assert corr.loc["a", "b"] == pytest.approx(expected)
    assert corr.loc["a", "a"] == pytest.approx(1.0)


def test_glob_and_errors(runs: list[Path], tmp_path: Path) -> None:
    assert resolve_runs(str(tmp_path / "*")) == runs
    with pytest.raises(BasketError, match="unknown sleeves"):
        combine(runs, weights={"zzz": 1.0})
    with pytest.raises(BasketError, match="2 sleeves"):
        combine(runs, weights=[1.0])
    with pytest.raises(BasketError, match="no run folders match"):
        resolve_runs(str(tmp_path / "nothing*"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{}")
    with pytest.raises(BasketError, match=r"missing tradebook\.parquet"):
        combine([tmp_path / "broken"])


def test_a_named_folder_that_is_not_a_run_is_an_error(runs: list[Path], tmp_path: Path) -> None:
    """A folder named outright must be a run: it used to be dropped silently, so the basket
    left out a sleeve the user asked for (a glob still skips the non-run folders it matches)."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "catalog.json").write_text("{}")
    with pytest.raises(BasketError, match=r"dataset: not a saved run folder \(no manifest\.json\)"):
        combine([runs[0], dataset])
    with pytest.raises(BasketError, match=r"nowhere: no such run folder"):
        resolve_runs([runs[0], tmp_path / "nowhere"])
    assert resolve_runs(str(tmp_path / "*")) == runs


def test_combined_margin_counts_intraday_sleeves(tmp_path: Path) -> None:
    # a positional sleeve holds 100 at each close; an intraday sleeve is flat at the close
    # (margin 0) but needed 40 and 70 during its two days. The basket's peak is
    # 100 + 70 = 170 (summing each sleeve's largest margin of the day), not the 100 seen at
    # the closes.
    days = ["2024-01-01", "2024-01-02"]
    positional = _run(tmp_path / "pos", days, [1.0, 2.0], [100, 100])
    intraday = _run(tmp_path / "intra", days, [3.0, -1.0], [0, 0])
    daily = pd.read_csv(intraday / "daily.csv")
    daily["peak_margin"] = [40.0, 70.0]
    daily.to_csv(intraday / "daily.csv", index=False)
    basket = combine([positional, intraday])
    combined = basket.daily.set_index("date")
    assert combined["margin"].tolist() == [100.0, 100.0]
    assert combined["peak_margin"].tolist() == [140.0, 170.0]
    assert basket.metrics["max_margin"] == 170.0
    # the page's margin panel shows both: at the close and the largest during the day
    from workbench.research.basket_report import equity_figure

    panel = equity_figure(basket, "INR").axes[2]
    lines = {line.get_label(): list(line.get_ydata()) for line in panel.get_lines()}
    assert lines == {"at the close": [100.0, 100.0], "largest during the day": [140.0, 170.0]}
