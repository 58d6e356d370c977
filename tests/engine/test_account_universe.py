"""Constraints and sizing on a book of several underlyings (issue 14: account x universe).

The market is 70 days of the synthetic SPY/QQQ/IWM end-of-day chains (correlated underlyings);
``PutCreditSpreadEach`` runs the put credit spread on each underlying, in one book.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.engine.runner import run_backtest

UNIVERSE = ["SPY", "QQQ", "IWM"]
SCAN = {"right": "P", "min_credit_pct": 0.10}
EACH = "workbench.strategies.universe:PutCreditSpreadEach"


@pytest.fixture(scope="module")
def etf_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("etf") / "etf"
    generate("us-etf-eod", out, seed=5, start="2019-01-01", days=70, progress=False, workers=1)
    return out


def _run(data: Path, constraints=None, **params):  # type: ignore[no-untyped-def]
    return run_backtest(
        EACH, data=str(data), params={"underlyings": UNIVERSE, "scan": SCAN, **params},
        progress=False, executor="serial", fees="per-contract:0.65", capital=100_000,
        constraints=constraints,
    )  # fmt: skip


def _most_open(tb: pd.DataFrame) -> tuple[int, int]:
    """(most positions open at once, most on one underlying) rebuilt from the tradebook; a
    position is an underlying's spread (keys ``<U>.short`` / ``<U>.long``)."""
    held: dict[str, int] = {}
    worst = worst_one = 0
    for _, day in tb.groupby("ts", sort=True):
        for _, row in day.iterrows():
            u = row["position_key"].split(".")[0]
            held[u] = held.get(u, 0) + (1 if row["action"] == "open" else -1)
        positions = {u: n / 2 for u, n in held.items() if n}
        worst = max(worst, len(positions))
        worst_one = max(worst_one, max(positions.values(), default=0))
    return worst, int(worst_one)


def test_max_open_positions_across_underlyings(etf_data: Path) -> None:
    free = _run(etf_data)
    assert _most_open(free.tradebook)[0] == 3  # all three spreads open together at times
    held = _run(etf_data, {"max_open_positions": 2})
    assert _most_open(held.tradebook)[0] == 2
    refused = held.metrics["refused_by_constraint"]["max_open_positions"]
    messages = " | ".join(held.days["refusal_messages"])
    assert messages.count("max_open_positions: 2 open, at most 2 allowed") == refused > 0


def test_max_correlation_uses_past_closes_of_each_underlying(etf_data: Path) -> None:
    """Every refusal's correlation equals one computed here from the dataset's spot closes of
    the 20 sessions' returns before the refusal day."""
    from workbench.data.store import MarketStore

    result = _run(etf_data, {"max_correlation": 0.3, "correlation_window": 20})
    assert result.metrics["refused_by_constraint"].get("max_correlation", 0) > 0
    store = MarketStore(etf_data)
    closes = {
        u: {d: float(store.read_spot(u, d).column("close").to_numpy()[-1]) for d in store.days(u)}
        for u in UNIVERSE
    }
    found = 0
    for day, text in zip(result.days["date"], result.days["refusal_messages"]):
        for a, b, rho in re.findall(
            r"correlation of (\w+) with open (\w+) is (-?[\d.]+) over 20", text
        ):
            past = sorted(d for d in closes[a] if d < date.fromisoformat(day))[-21:]
            ra = np.diff([closes[a][d] for d in past]) / [closes[a][d] for d in past[:-1]]
            rb = np.diff([closes[b][d] for d in past]) / [closes[b][d] for d in past[:-1]]
            assert float(rho) == pytest.approx(np.corrcoef(ra, rb)[0, 1], abs=1e-4)
            assert float(rho) > 0.3
            found += 1
    assert found > 0


def test_sizing_per_underlying_rules_from_the_one_account(etf_data: Path) -> None:
    """Each underlying's spread sized at 2 % of the book's equity: every entry's contracts
    are floor(2 % of equity / the spread's max loss per unit), equity at most 100,000 plus the
    run's gains so far (checked against the capital bounds)."""
    result = _run(etf_data, sizing={"rule": "risk", "risk_pct": 0.02})
    tb = result.tradebook
    opens = tb[tb["action"] == "open"]
    assert len(opens) > 0 and (opens["qty"] >= 1).all()
    peak = 100_000 + max(result.daily["equity"].max(), 0.0)
    for _, entry in opens.groupby(["ts", "underlying"]):
        short = entry[entry["side"] == "SELL"].iloc[0]
        long = entry[entry["side"] == "BUY"].iloc[0]
        width = short["strike"] - long["strike"]
        loss = (width - (short["price"] - long["price"])) * 100
        assert short["qty"] <= 0.02 * peak / loss
        assert short["qty"] == long["qty"]
