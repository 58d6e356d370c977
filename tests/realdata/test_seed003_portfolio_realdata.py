"""The ``seed-003-portfolio-spx`` template on the real SPX 2019 set (SPX and SPXW in one book).

Checked against the raw CBOE files, not the engine's books: every ORATS fill's price from its
raw row's bid/ask (66 % of the spread for a 2-leg order); the book's cash and PnL reconcile;
both roots trade; the template's constraints hold on every day as read from the tradebook (at
most 5 open positions, never two open positions on one expiry); and the first position's exit
is re-derived from the raw quotes (its cost to close at the mids against its opening credit:
seed 003's 50 % target, 125 % stop, 21-DTE exit, first rule to fire).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from backtest_checks import check_cash, check_pnl_sums, orats_price

from workbench import BacktestResult, run_backtest
from workbench.research.templates import TemplateRepository

pytestmark = pytest.mark.realdata

CAPITAL = 100_000.0


@pytest.fixture(scope="module")
def book(set1: Path) -> tuple[object, BacktestResult]:
    template = TemplateRepository().get("seed-003-portfolio-spx")
    result = run_backtest(
        template.strategy, data=set1, params=dict(template.params), fill="orats",
        fees="per-contract:0.65", capital=CAPITAL, constraints=template.constraints,
        progress=False, executor="serial",
    )  # fmt: skip
    return template, result


def raw_day(real: Path, day: date, cache: dict[date, pd.DataFrame]) -> pd.DataFrame:
    if day not in cache:
        path = real / "us_spx_eod_chains_2019" / f"SPX_{day:%Y%m%d}.csv.gz"
        raw = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig")
        raw.columns = [c.strip() for c in raw.columns]
        raw["expiration"] = pd.to_datetime(raw["expiration"], format="%m/%d/%Y").dt.date
        raw["root"] = raw["optionroot"].str.strip().str.extract(r"^([A-Z]+)")[0]
        cache[day] = raw
    return cache[day]


def raw_quote(
    raw: pd.DataFrame, root: str, expiry: date, strike: float, right: str
) -> tuple[float, float]:
    row = raw[
        (raw["root"] == root) & (raw["expiration"] == expiry) & (raw["strike"] == strike)
        & (raw["type"] == ("put" if right == "P" else "call"))
    ]  # fmt: skip
    assert len(row) == 1, f"{root} {expiry} {strike} {right}: {len(row)} raw rows"
    return float(row["bid"].iloc[0]), float(row["ask"].iloc[0])


def test_both_roots_trade_and_the_book_reconciles(book: tuple[object, BacktestResult]) -> None:
    _, result = book
    tb = result.tradebook
    check_cash(tb)
    check_pnl_sums(tb, result.daily, result.metrics)
    assert set(tb.loc[tb["reason"] == "entry", "underlying"].astype(str)) == {"SPX", "SPXW"}
    assert result.metrics["days_failed"] == 0
    # the one-per-expiry rule refused something (SPX and SPXW list the same Fridays)
    assert result.metrics["refused_by_constraint"].get("one_position_per_expiry", 0) > 0


def test_every_orats_fill_from_the_raw_chain(
    book: tuple[object, BacktestResult], real: Path
) -> None:
    _, result = book
    tb = result.tradebook
    cache: dict[date, pd.DataFrame] = {}
    fills = tb[tb["fill_model"] == "orats/spread:0.66"]
    assert len(fills) == (tb["action"] != "settle").sum() > 20
    for _, f in fills.iterrows():
        bid, ask = raw_quote(
            raw_day(real, f["day"], cache), str(f["underlying"]), f["expiry"], f["strike"],
            f["right"],
        )  # fmt: skip
        assert f["price"] == pytest.approx(orats_price(f["side"], bid, ask, 0.66), abs=1e-9)


def test_constraints_hold_every_day(book: tuple[object, BacktestResult]) -> None:
    template, result = book
    tb = result.tradebook
    ends = tb[tb["action"].isin(["close", "settle"])].set_index("trade_id")["day"]
    opens = tb[tb["action"] == "open"]
    opens = opens.assign(end=[ends.get(t, date.max) for t in opens["trade_id"]])
    limit = template.constraints["max_open_positions"]  # type: ignore[attr-defined]
    for text in result.daily["date"]:
        day = date.fromisoformat(text)
        held = opens[(opens["day"] <= day) & (opens["end"] > day)]
        positions = held["position_key"].str.rsplit("/", n=1).str[0]
        assert positions.nunique() <= limit, day
        # one position per expiry: each open expiry belongs to one position
        assert (held.groupby("expiry")["position_key"].apply(
            lambda k: k.str.rsplit("/", n=1).str[0].nunique()) <= 1).all(), day  # fmt: skip


def test_first_position_exit_from_the_raw_quotes(
    book: tuple[object, BacktestResult], real: Path
) -> None:
    template, result = book
    params = template.params  # type: ignore[attr-defined]
    tb = result.tradebook
    first = tb.iloc[:2]
    assert set(first["reason"]) == {"entry"}
    root, expiry, right = (
        str(first["underlying"].iloc[0]),
        first["expiry"].iloc[0],
        first["right"].iloc[0],
    )
    units = first["signed_units"].to_numpy()
    credit = -float((units * first["price"].to_numpy()).sum())
    assert credit > 0
    cache: dict[date, pd.DataFrame] = {}
    expected: tuple[date, str] | None = None
    for text in result.daily["date"]:
        day = date.fromisoformat(text)
        if day <= first["day"].iloc[0] or result.daily.set_index("date").loc[text, "skipped"]:
            continue
        raw = raw_day(real, day, cache)
        cost = 0.0
        for strike, u in zip(first["strike"], units):
            bid, ask = raw_quote(raw, root, expiry, strike, right)
            cost -= u * (bid + ask) / 2 if ask >= bid >= 0 and ask > 0 else math.nan
        if cost <= credit * (1 - params["profit_target_pct"]) + 1e-9:
            expected = (day, "profit_target")
        elif cost >= credit * (1 + params["stop_loss_pct"]) - 1e-9:
            expected = (day, "stop_loss")
        elif (expiry - day).days <= params["dte_exit"]:
            expected = (day, "dte_exit")
        if expected is not None:
            break
    assert expected is not None
    closes = tb[tb["trade_id"].isin(first["trade_id"]) & (tb["action"] != "open")]
    assert len(closes) == 2 and set(zip(closes["day"], closes["reason"])) == {expected}
