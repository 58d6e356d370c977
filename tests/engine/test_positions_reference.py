"""``positions()`` against the straightforward pandas formulation it replaced.

Every run's headline metrics go through :func:`workbench.engine.positions.positions` (a sweep
assembles one run per combination, in the parent), so it numbers the positions once and reduces
with NumPy. The reference below is the previous implementation, one pandas group-by per column,
kept as an independent statement of the rules; the two must agree exactly, dtypes included, on
any tradebook: several cycles and days, rolls inside a position, legs still open, settlements,
positional keys naming overlapping positions, zoned timestamps, and several runs in one book (a basket).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine.positions import POSITION_COLUMNS, position_ids, positions

_END = ("close", "settle")


def reference_positions(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> pd.DataFrame:
    cols = list(POSITION_COLUMNS)
    if tradebook.empty:
        return pd.DataFrame(columns=cols)
    tb = tradebook.reset_index(drop=True)
    pid = position_ids(tb, mode)
    ts = tb["ts"]
    by_position = ts.groupby(pid)
    first_ts, last_ts = by_position.transform("min"), by_position.transform("max")
    net = tb.groupby("trade_id")["signed_units"].transform("sum").to_numpy(dtype=float)
    leg_open = pd.Series(~np.isclose(net, 0.0, atol=1e-9), index=tb.index)
    position_open = leg_open.groupby(pid).transform("any").to_numpy(dtype=bool)
    opening = (tb["action"] == "open").to_numpy()
    entry = opening & (ts == first_ts).to_numpy()
    ending = tb["action"].isin(_END).to_numpy() & (ts == last_ts).to_numpy() & ~position_open
    work = pd.DataFrame(
        {
            "position": pid.to_numpy(),
            "ts": ts.to_numpy(),
            "reason": tb["reason"].astype(str).to_numpy(),
            "trade_id": tb["trade_id"].to_numpy(),
            "cash": tb["cash"].to_numpy(dtype=float),
            "fees": tb["fees"].to_numpy(dtype=float),
        }
    )
    g = work.groupby("position", sort=False)
    out = pd.DataFrame(
        {
            "cycle": tb["cycle"].groupby(pid, sort=False).first().astype("int64"),
            "entry_day": tb["day"].groupby(pid, sort=False).first(),
            "entry_ts": g["ts"].min(),
            "last_ts": g["ts"].max(),
            "open": pd.Series(position_open, index=tb.index).groupby(pid, sort=False).first(),
            "legs": work[opening].groupby("position", sort=False)["trade_id"].nunique(),
            "fills": g.size(),
            "cash": g["cash"].sum(),
            "fees": g["fees"].sum(),
        }
    )
    out.index.name = "position"
    middle = work[~(entry | ending)].drop_duplicates(["position", "ts"])
    out["adjustments"] = middle.groupby("position").size().reindex(out.index).fillna(0)
    counted = middle.groupby(["position", "reason"]).size()
    text = {
        position: ", ".join(f"{reason}:{n}" for reason, n in group.droplevel(0).items())
        for position, group in counted.groupby(level=0)
    }
    out["adjustment_reasons"] = pd.Series(text, dtype=object).reindex(out.index).fillna("")
    exits = work[ending].drop_duplicates("position").set_index("position")["reason"]
    out["exit_reason"] = exits.reindex(out.index).fillna("")
    is_open = out["open"].to_numpy(dtype=bool)
    out["status"] = np.where(is_open, "open", "closed")
    out["exit_ts"] = out["last_ts"].where(~is_open)
    out["pnl"] = out["cash"].where(~is_open)
    out["legs"] = out["legs"].fillna(0).astype("int64")
    out["adjustments"] = out["adjustments"].astype("int64")
    out = out.reset_index()[cols]
    return out.sort_values(["entry_ts", "position"], kind="stable").reset_index(drop=True)


REASONS = ("roll", "delta_adjust", "leg_stop", "hedge")
EXITS = ("stop_loss", "time_exit", "eod", "expiry")


@st.composite
def tradebooks(draw: st.DrawFn) -> tuple[pd.DataFrame, str | dict[str, str]]:
    """A tradebook the engine could write: cycles of a few legs, each leg opened (at the
    cycle's entry or later, as an adjustment) and closed or settled later, or left open."""
    positional = draw(st.booleans())
    runs = draw(st.sampled_from([["r1"], ["r1", "r2"]]))
    rows = []
    leg = 0
    for run in runs:
        for cycle in range(draw(st.integers(1, 4))):
            day = date(2024, 1, 2) + timedelta(days=draw(st.integers(0, 3)))
            t0 = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=15)
            entry = t0 + timedelta(minutes=draw(st.integers(0, 30)))
            keys = draw(st.sampled_from([["call", "put"], ["a/call", "a/put", "b/call"]]))
            for key in keys[: draw(st.integers(1, len(keys)))]:
                leg += 1
                trade = f"{run}-{leg}"
                late = draw(st.booleans())
                opened = entry + timedelta(minutes=draw(st.integers(5, 60)) if late else 0)
                units = float(draw(st.sampled_from([25, 50, 75])))
                sign = draw(st.sampled_from([-1.0, 1.0]))
                fill = dict(run_id=run, trade_id=trade, position_key=key, cycle=cycle)
                price = draw(st.floats(1, 300, allow_nan=False))
                fees = draw(st.floats(0, 40, allow_nan=False))
                rows.append(
                    {**fill, "day": opened.date(), "ts": opened, "action": "open",
                     "signed_units": sign * units, "cash": -sign * units * price - fees,
                     "fees": fees, "reason": "entry" if not late else draw(st.sampled_from(REASONS))}
                )  # fmt: skip
                how = draw(st.sampled_from(["close", "settle", "partial", "open"]))
                if how == "open":
                    continue
                closed = opened + timedelta(minutes=draw(st.integers(0, 400)))
                if how == "partial":  # half closed at an adjustment, the rest later
                    half = closed - timedelta(minutes=draw(st.integers(0, 10)))
                    rows.append(
                        {**fill, "day": half.date(), "ts": half, "action": "close",
                         "signed_units": -sign * units / 2, "cash": sign * units / 2 * price,
                         "fees": fees / 2, "reason": draw(st.sampled_from(REASONS))}
                    )  # fmt: skip
                    units /= 2
                out = price * draw(st.floats(0, 2, allow_nan=False))
                rows.append(
                    {**fill, "day": closed.date(), "ts": closed,
                     "action": "settle" if how == "settle" else "close",
                     "signed_units": -sign * units, "cash": sign * units * out - fees,
                     "fees": fees, "reason": draw(st.sampled_from(EXITS))}
                )  # fmt: skip
    book = pd.DataFrame(rows)
    book["ts"] = book["ts"].astype("datetime64[us]")
    if draw(st.booleans()):  # a tradebook read back with its exchange's zone
        book["ts"] = book["ts"].dt.tz_localize("Asia/Kolkata")
    book["cycle"] = book["cycle"].astype("int32")
    order = draw(st.permutations(range(len(book))))
    book = book.iloc[list(order)].sort_values("ts", kind="stable")
    if len(runs) == 1 and draw(st.booleans()):
        book = book.drop(columns=["run_id"])
    mode: str | dict[str, str] = "positional" if positional else "intraday"
    if "run_id" in book and draw(st.booleans()):
        mode = {"r1": mode, "r2": "intraday"}
    return book, mode


@settings(max_examples=100, deadline=None)
@given(tradebooks())
def test_positions_equal_the_reference(case: tuple[pd.DataFrame, str | dict[str, str]]) -> None:
    book, mode = case
    pd.testing.assert_frame_equal(
        positions(book, mode), reference_positions(book, mode), check_exact=True
    )


def test_positions_of_an_empty_book() -> None:
    empty = pd.DataFrame(columns=["trade_id", "cycle", "day", "ts", "action"])
    assert positions(empty, "intraday").columns.tolist() == list(POSITION_COLUMNS)
    assert positions(empty, "intraday").empty


def reference_position_ids(tradebook: pd.DataFrame, mode: str | Mapping[str, str]) -> list[str]:
    """The position id of each fill, one row at a time, from the rules in the module doc."""
    first_day: dict[str, date] = {}
    for trade, day in zip(tradebook["trade_id"], tradebook["day"], strict=True):
        first_day.setdefault(trade, day)
    runs = tradebook["run_id"].tolist() if "run_id" in tradebook else [""] * len(tradebook)
    keys = tradebook["position_key"] if "position_key" in tradebook else [""] * len(tradebook)
    several = len(set(runs)) > 1
    out = []
    for run, trade, cycle, key in zip(
        runs, tradebook["trade_id"], tradebook["cycle"], keys, strict=True
    ):
        kind = mode if isinstance(mode, str) else mode.get(run, "intraday")
        if kind == "positional":
            pid = f"#{int(cycle)}"
            if "/" in key:
                pid += "/" + key[: key.rindex("/")]
        else:
            pid = f"{first_day[trade].isoformat()}#{int(cycle)}"
        out.append(f"{run}|{pid}" if several else pid)
    return out


@settings(max_examples=100, deadline=None)
@given(tradebooks())
def test_position_ids_equal_a_row_by_row_reference(
    case: tuple[pd.DataFrame, str | dict[str, str]],
) -> None:
    book, mode = case
    got = position_ids(book, mode)
    assert got.index.equals(book.index)
    assert got.dtype == object
    assert got.tolist() == reference_position_ids(book, mode)


def test_a_study_key_names_its_position_by_everything_before_its_last_slash() -> None:
    book = pd.DataFrame(
        {
            "trade_id": ["t1", "t2", "t3"],
            "position_key": ["2019-01-02/2019-02-15/short", "2019-01-02/2019-02-15/long", "hedge"],
            "cycle": [0, 0, 0],
            "day": [date(2019, 1, 2)] * 3,
        }
    )
    assert position_ids(book, "positional").tolist() == [
        "#0/2019-01-02/2019-02-15",
        "#0/2019-01-02/2019-02-15",
        "#0",
    ]
    assert position_ids(book, "intraday").tolist() == ["2019-01-02#0"] * 3


def test_a_fill_whose_position_cannot_be_named_is_refused() -> None:
    import pytest

    book = pd.DataFrame(
        {
            "trade_id": ["t1", None, "t3"],
            "position_key": ["call", "put", "call"],
            "cycle": [0, 0, 1],
            "day": [date(2024, 1, 2), date(2024, 1, 2), None],
        }
    )
    with pytest.raises(ValueError, match="row 1: trade_id and day missing"):
        position_ids(book, "intraday")
    # positional ids need neither
    assert position_ids(book, "positional").tolist() == ["#0", "#0", "#1"]
    runs = book.assign(trade_id=["t1", "t2", "t3"], day=[date(2024, 1, 2)] * 3)
    runs["run_id"] = ["r1", None, "r2"]
    with pytest.raises(ValueError, match="row 1: run_id missing"):
        position_ids(runs, "intraday")
