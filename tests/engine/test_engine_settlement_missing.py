"""Settlement never uses a price from after expiry (issue 11).

An expiry whose settlement session has no data settles on that session, at the last spot at
or before the settlement time, flagged (``days.csv`` warning, fill model
``settle/last-spot``); an expiry listed on an exchange holiday settles on the registry's
shifted session; an official settlement series, when the dataset has one, comes first.
Expected numbers are computed by hand from the bars written here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from engine_builders import D1, D2, E2, E, nifty_options, nifty_spot, spot_table, write_market
from engine_strategies import PositionalScripted

from workbench.data.writer import DatasetWriter
from workbench.engine.runner import run_backtest

D3 = E  # 2024-01-04, NIFTY weekly expiry: no data in these datasets
D4 = date(2024, 1, 5)


def leg(strike: float, right: str, side: str, expiry: object = 0) -> dict:
    return {"strike": strike, "right": right, "side": side, "expiry": expiry}


def order(day: date, at: str, legs: list[dict], keys: list[str]) -> dict:
    h, m = at.split(":")
    return {"at": time(int(h), int(m)), "day": day, "legs": legs, "keys": keys}


class ExitRecorder(PositionalScripted):
    """Records when ``on_exit`` runs and what closed."""

    exits: list[tuple] = []

    def on_exit(self, bar, trades):
        ExitRecorder.exits.append((bar.ts, tuple((t.key, t.exit_reason) for t in trades)))


def run(data: Path, orders: list[dict], cls: type = PositionalScripted, **kw):
    return run_backtest(
        cls,
        data=data,
        params={"orders": orders, "max_cycles": 5},
        fill="mid",
        fees="none",
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def nifty_gap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """D1 and D2 as in engine_builders; the expiry day D3 has no file; D4 opens far lower
    (21300) and lists only E2."""
    spot = {D1: nifty_spot()[D1], D2: nifty_spot()[D2]}
    spot[D4] = [("09:15", 21300, 21310), ("09:16", 21310, 21290)]
    options = {D1: nifty_options()[D1], D2: nifty_options()[D2]}
    options[D4] = [
        ("09:15", E2, 21500, "C", 40, 39, 41),
        ("09:16", E2, 21500, "C", 38, 37, 39),
    ]
    root = tmp_path_factory.mktemp("gap") / "nifty"
    return write_market(root, "NIFTY", spot, options)


def test_missing_expiry_day_settles_at_the_last_spot_before_it(nifty_gap: Path) -> None:
    # D2 09:16: buy 21500 C at mid 75, sell 21500 P at mid 18 (lot 50). D2's last spot close
    # is 21610: C settles at 110, P at 0 -- on D3, the expiry, not at D4's 21300 (C 0, P 200).
    both = order(D2, "09:16", [leg(21500, "C", "BUY"), leg(21500, "P", "SELL")], ["c", "p"])
    ExitRecorder.exits.clear()
    result = run(nifty_gap, [both], cls=ExitRecorder)
    tb = result.tradebook
    settle = tb[tb["action"] == "settle"]
    assert list(zip(settle["position_key"], settle["price"], settle["spot"])) == [
        ("c", 110.0, 21610.0),
        ("p", 0.0, 21610.0),
    ]
    assert set(settle["fill_model"]) == {"settle/last-spot"}
    assert list(settle["day"].astype(str)) == [str(D3), str(D3)]
    assert set(settle["ts"].astype(str)) == {"2024-01-04 15:30:00"}  # NIFTY's settlement clock
    assert result.metrics["total_pnl"] == (110 - 75) * 50 + 18 * 50
    daily = result.daily.set_index("date")
    # D2's close marks: C 110, P 10 -> equity 1750 + 400; D3 realises 1750 + 900
    assert daily.loc[str(D2), "equity"] == pytest.approx(2150)
    assert daily.loc[str(D3), "equity"] == pytest.approx(2650)
    assert daily.loc[str(D3), "pnl"] == pytest.approx(500)
    assert daily.loc[str(D3), "open_legs"] == 0 and daily.loc[str(D3), "fills"] == 2
    assert bool(daily.loc[str(D3), "skipped"])
    assert daily.loc[str(D4), "pnl"] == 0
    days = result.days.set_index("date")
    message = days.loc[str(D3), "warning_messages"]
    assert "settled at 21610, the last spot close at or before the settlement time" in message
    assert "no data for the settlement session 2024-01-04" in message
    assert days.loc[str(D3), "status"] == "skipped"
    # the cycle ended on a day without a tick: on_exit runs at the next day's first tick
    assert ExitRecorder.exits == [(datetime(2024, 1, 5, 9, 15), (("c", "expiry"), ("p", "expiry")))]


def test_a_position_held_through_a_gap_that_is_not_its_expiry(nifty_gap: Path) -> None:
    # a E2 (2024-01-11) call bought on D2 is held through D3 at D2's closing mark (170) and
    # marked again on D4 (38): no settlement, no warning about settlement
    result = run(nifty_gap, [order(D2, "09:15", [leg(21500, "C", "BUY", 1)], ["c"])])
    daily = result.daily.set_index("date")
    assert daily.loc[str(D3), "mtm"] == pytest.approx(170 * 50)
    assert daily.loc[str(D3), "pnl"] == 0 and daily.loc[str(D3), "open_legs"] == 1
    assert daily.loc[str(D4), "mtm"] == pytest.approx(38 * 50)
    assert "settle" not in set(result.tradebook["action"])


T18, T19, T22 = date(2024, 1, 18), date(2024, 1, 19), date(2024, 1, 22)


def _spx(root: Path, *, with_t19: bool, official: dict[date, float] | None = None) -> Path:
    """SPX (AM-settled monthly T19): T18 closes at 4790; T19 opens at 4800; T22 at 4900."""
    spot = {
        T18: [("09:30", 4775, 4780), ("09:31", 4780, 4785), ("09:32", 4785, 4790)],
        T22: [("09:30", 4900, 4905), ("09:31", 4905, 4910)],
    }
    feb = date(2024, 2, 16)
    options = {
        T18: [
            ("09:30", T19, 4780, "C", 20, 19, 21),
            ("09:31", T19, 4780, "C", 22, 21, 23),
            ("09:32", T19, 4780, "C", 25, 24, 26),
        ],
        T22: [("09:30", feb, 4900, "C", 60, 59, 61)],
    }
    if with_t19:
        spot[T19] = [("09:30", 4800, 4810), ("09:31", 4810, 4805)]
        options[T19] = [("09:30", feb, 4800, "C", 60, 59, 61)]
    write_market(root, "SPX", spot, options, venue="CBOE", timezone="America/New_York")
    if official:
        with DatasetWriter(
            root,
            name="tiny",
            venue="CBOE",
            timezone="America/New_York",
            bar_interval="1min",
            source="hand-made test data",
        ) as w:
            for d, value in official.items():
                w.write_spot("SPX.SETTLEMENT", d, spot_table(d, [("09:30", value, value)]))
    return root


def test_am_expiry_without_data_settles_at_the_previous_close(tmp_path: Path) -> None:
    # buy SPX 4780 C (T19) at T18 09:31, mid 22; T19 has no data: the last spot at or before
    # the 09:30 settlement is T18's close 4790 -> 10, not T22's open 4900 (120)
    data = _spx(tmp_path / "spx", with_t19=False)
    result = run(data, [order(T18, "09:31", [leg(4780, "C", "BUY")], ["c"])])
    tb = result.tradebook
    assert list(zip(tb["action"], tb["price"], tb["fill_model"], tb["day"].astype(str))) == [
        ("open", 22.0, "mid/mid", str(T18)),
        ("settle", 10.0, "settle/last-spot", str(T19)),
    ]
    assert str(tb["ts"].iloc[1]) == "2024-01-19 09:30:00"
    assert result.metrics["total_pnl"] == (10 - 22) * 100


def test_official_settlement_series_comes_first(tmp_path: Path) -> None:
    # the same position with T19's data present: the opening price 4800 would give 20; the
    # dataset's SPX.SETTLEMENT says 4801.25 -> 21.25, fill model settle/official
    data = _spx(tmp_path / "spx", with_t19=True, official={T19: 4801.25})
    result = run(data, [order(T18, "09:31", [leg(4780, "C", "BUY")], ["c"])])
    settle = result.tradebook.iloc[-1]
    assert (settle["price"], settle["fill_model"], settle["spot"]) == (
        21.25,
        "settle/official",
        4801.25,
    )
    assert result.metrics["warnings"] == 0
    # and without T19's data, the official value still settles it on T19, unflagged
    data = _spx(tmp_path / "spx-gap", with_t19=False, official={T19: 4801.25})
    result = run(data, [order(T18, "09:31", [leg(4780, "C", "BUY")], ["c"])])
    settle = result.tradebook.iloc[-1]
    assert (settle["price"], settle["fill_model"], str(settle["day"])) == (
        21.25,
        "settle/official",
        str(T19),
    )
    assert "last spot" not in " ".join(result.days["warning_messages"])
    # the settlement series is not a second tradable: the run still finds its underlying
    assert result.manifest["underlying"] == "SPX"


def test_opening_price_without_a_series(tmp_path: Path) -> None:
    data = _spx(tmp_path / "spx", with_t19=True)
    result = run(data, [order(T18, "09:31", [leg(4780, "C", "BUY")], ["c"])])
    settle = result.tradebook.iloc[-1]
    assert (settle["price"], settle["fill_model"], str(settle["day"])) == (
        20.0,
        "settle/intrinsic",
        str(T19),
    )


def test_registry_shifts_an_expiry_on_a_holiday() -> None:
    from workbench.model.calendars import settlement_day

    assert settlement_day("SPXW", date(2019, 4, 19)) == date(2019, 4, 18)  # Good Friday
    assert settlement_day("SPXW", date(2019, 5, 27)) == date(2019, 5, 28)  # Memorial Day, Mon
    assert settlement_day("SPX", date(2019, 4, 19)) == date(2019, 4, 18)
    assert settlement_day("NIFTY", date(2024, 1, 26)) == date(2024, 1, 25)  # Republic Day
    assert settlement_day("SPXW", date(2019, 4, 18)) == date(2019, 4, 18)


def test_expiry_listed_on_a_holiday_settles_on_the_shifted_session(tmp_path: Path) -> None:
    """A vendor lists SPXW expiring on Good Friday 2019-04-19 (no session): the registry moves
    it to Thursday 04-18, whose close (2905.03) settles it; before, the engine settled it at
    the next session's open (04-22, 2898.00)."""
    thu, mon = date(2019, 4, 18), date(2019, 4, 22)
    fri = date(2019, 4, 19)
    spot = {
        date(2019, 4, 17): [("16:00", 2900.0, 2900.45)],
        thu: [("16:00", 2904.0, 2905.03)],
        mon: [("16:00", 2898.0, 2907.97)],
    }
    options = {
        date(2019, 4, 17): [("16:00", fri, 2890.0, "C", 15.0, 14.5, 15.5)],
        thu: [("16:00", fri, 2890.0, "C", 15.2, 14.7, 15.7)],
        mon: [("16:00", date(2019, 4, 26), 2890.0, "C", 25.0, 24.5, 25.5)],
    }
    root = write_market(
        tmp_path / "spxw", "SPXW", spot, options, venue="CBOE", timezone="America/New_York"
    )
    result = run(root, [order(date(2019, 4, 17), "16:00", [leg(2890.0, "C", "SELL", fri)], ["c"])])
    tb = result.tradebook
    settle = tb[tb["action"] == "settle"].iloc[0]
    assert str(settle["day"]) == str(thu)
    assert settle["price"] == pytest.approx(15.03)
    assert settle["fill_model"] == "settle/intrinsic"
    assert result.metrics["total_pnl"] == pytest.approx((15.0 - 15.03) * 100)


def test_bad_settlement_series_name_is_refused(tmp_path: Path) -> None:
    from workbench.data.ingest.errors import HeaderError
    from workbench.data.ingest.ohlc import check_series

    assert check_series("spx.settlement", "--underlying") == "SPX.SETTLEMENT"
    with pytest.raises(HeaderError, match=r"unknown underlying 'FOO\.SETTLEMENT'"):
        check_series("FOO.SETTLEMENT", "--underlying")


def test_tearsheet_flags_a_settlement_at_the_last_spot(nifty_gap: Path, tmp_path: Path) -> None:
    from workbench.analytics.analysis import analyse
    from workbench.analytics.tearsheet import render_tearsheet

    both = order(D2, "09:16", [leg(21500, "C", "BUY"), leg(21500, "P", "SELL")], ["c", "p"])
    result = run(nifty_gap, [both])
    notes = analyse(result, capital=100_000).notes
    flagged = [n for n in notes if "no data on the settlement session" in n]
    assert flagged == [
        "2 settlement(s) with no data on the settlement session, valued at the last spot close "
        "at or before the settlement time (see days.csv): 2024-01-04 on 2024-01-04 at 21610 "
        "(2 legs)"
    ]
    page = render_tearsheet(result, tmp_path / "t.html", capital=100_000)
    assert "valued at the last spot close at or before the settlement time" in Path(page).read_text(
        encoding="utf-8"
    )
