"""The shipped ``seed-003-portfolio`` template on one year of synthetic SPY/QQQ/IWM chains.

``workbench data synth --profile us-etf-eod --years 1`` (seed 42, 2019), the template's own
parameters and ``[constraints]`` table, a capital of 100,000, ORATS fills and $0.65 per
contract. Checked from the tradebook and days table, not from the strategy's own state: trades
on more than one underlying; one entry a day at most; never two positions open at once on one
underlying, expiry and right; never more open positions than ``max_open_positions``; each
position's max loss within ``max_risk_per_trade`` of the capital plus the PnL realised so far
(a lower bound of the equity it was checked against is not needed: the bound is loose by the
open positions' marks only); sizes by risk from equity; refusals by constraint counted in the days table and in the
metrics alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from workbench.data.synth import generate
from workbench.engine.runner import run_backtest
from workbench.research.templates import TemplateRepository

CAPITAL = 100_000.0


@pytest.fixture(scope="module")
def etf_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("etf1y") / "etf"
    generate("us-etf-eod", out, seed=42, start="2019-01-01", years=1, progress=False, workers=1)
    return out


@pytest.fixture(scope="module")
def book(etf_year: Path) -> Any:
    template = TemplateRepository().get("seed-003-portfolio")
    return template, run_backtest(
        template.strategy, data=etf_year, params=dict(template.params), fill="orats",
        fees="per-contract:0.65", capital=CAPITAL, constraints=template.constraints,
        progress=False,
    )  # fmt: skip


def positions(tb: pd.DataFrame) -> pd.DataFrame:
    """One row per position: key, underlying, open day, close day, units, max loss. A key
    (underlying/expiry/right) closed and opened again later is a new position: the tradebook's
    rows of one key split at each new entry day."""
    key_of = tb["position_key"].str.rsplit("/", n=1).str[0]
    episode: list[int] = []
    last: dict[str, tuple[int, Any]] = {}
    for key, reason, day in zip(key_of, tb["reason"], tb["day"]):
        n, entered = last.get(key, (0, None))
        if reason == "entry" and day != entered:
            n, entered = n + 1, day
            last[key] = (n, entered)
        episode.append(n)
    tb = tb.assign(position=key_of, episode=episode)
    out = []
    for (key, _), rows in tb.groupby(["position", "episode"], sort=False):
        entry = rows[rows["reason"] == "entry"]
        exits = rows[rows["reason"] != "entry"]
        strikes = sorted(entry["strike"].tolist())
        units = abs(float(entry["signed_units"].iloc[0]))
        credit = -(entry["signed_units"] * entry["price"]).sum()  # money received
        out.append(
            {
                "key": key,
                "underlying": entry["underlying"].astype(str).iloc[0],
                "opened": entry["day"].iloc[0],
                "closed": exits["day"].max() if len(exits) else None,
                "units": units,
                "max_loss": (strikes[1] - strikes[0]) * units - credit,
            }
        )
    return pd.DataFrame(out)


def test_trades_on_several_underlyings_one_a_day(book: Any) -> None:
    _, result = book
    tb = result.tradebook
    entries = tb[tb["reason"] == "entry"]
    assert entries["underlying"].astype(str).nunique() >= 2
    # one position (two legs) a day at most: max_entries_per_day = 1
    assert entries.groupby("day").size().max() == 2
    assert set(tb["reason"]) - {"entry"} <= {
        "profit_target", "stop_loss", "dte_exit", "expiry", "settlement", "assignment",
    }  # fmt: skip


def test_one_position_per_triple_and_the_position_limit(book: Any) -> None:
    template, result = book
    table = positions(result.tradebook)
    days = sorted(result.daily["date"].map(pd.Timestamp).dt.date)
    limit = template.constraints["max_open_positions"]
    for day in days:
        open_now = table[
            (table["opened"] <= day) & (table["closed"].isna() | (table["closed"] > day))
        ]
        assert len(open_now) <= limit, day
        assert open_now["key"].is_unique, day  # key = underlying/expiry/right


def test_risk_per_trade_and_refusals_counted(book: Any) -> None:
    template, result = book
    table = positions(result.tradebook)
    # equity is at most capital + realised PnL + what the open book could be worth; the max
    # loss of every opened position is within the limit of the equity it was checked against,
    # and that equity is never above capital + the run's best equity gain
    best = CAPITAL + max(0.0, float(result.daily["equity"].max()))
    assert (table["max_loss"] <= template.constraints["max_risk_per_trade"] * best + 1e-6).all()
    counted: dict[str, int] = {}
    for cell in result.days["constraint_refusals"]:
        for part in filter(None, str(cell).split("; ")):
            name, n = part.split(": ")
            counted[name] = counted.get(name, 0) + int(n)
    assert counted, "the constraints never refused anything in a year: the test proves nothing"
    assert counted == result.metrics["refused_by_constraint"]
    assert set(counted) <= set(template.constraints)


def test_sized_by_risk_from_equity(book: Any) -> None:
    """``sizing`` risk 2 %: the most spreads whose max loss is within 2 % of the equity at
    entry, which lies between capital + the run's lowest and highest equity (daily equity is
    the PnL so far): units x loss per spread <= 2 % of the highest, (units + 1) x loss per
    spread > 2 % of the lowest."""
    template, result = book
    pct = template.params["sizing"]["risk_pct"]
    table = positions(result.tradebook)
    equity = result.daily["equity"]
    high, low = CAPITAL + max(0.0, float(equity.max())), CAPITAL + min(0.0, float(equity.min()))
    spreads = table["units"] / 100.0  # SPY/QQQ/IWM: 100 per contract
    per_spread = table["max_loss"] / spreads
    assert (spreads >= 1).all()
    assert (table["max_loss"] <= pct * high + 1e-6).all()
    assert ((spreads + 1) * per_spread > pct * low).all()
    assert spreads.max() > 1  # sizing did something: one spread risks far less than 2 %


def test_trade_log_has_one_row_per_position(book: Any) -> None:
    """A spread closed and later opened again on the same underlying, expiry and right (the
    book does this) is a position of its own in ``trades.parquet``, not an adjustment."""
    from workbench.engine.position_log import position_log

    _, result = book
    table = positions(result.tradebook)
    log = position_log(result.tradebook, "positional").to_pandas()
    reused = table.groupby(table["key"].str.split("/", n=1).str[1]).size()
    assert (reused > 1).any()  # the case is exercised
    assert len(log) == len(table)
    assert (log["legs"] == 2).all()
    assert sorted(log["max_risk"]) == pytest.approx(sorted(table["max_loss"]))
    assert set(log["exit_reason"].dropna()) <= {"profit_target", "stop_loss", "dte_exit", "expiry"}
