"""Instrument registry: coverage of the seeds' underlyings, dated histories, bad names."""

from __future__ import annotations

import dataclasses
from datetime import date, time

import pytest

from workbench.model import (
    ExpiryRule,
    InstrumentSpec,
    Settlement,
    SettlementTime,
    UnknownInstrumentError,
    get_instrument,
    instruments,
)
from workbench.model.instruments import MONDAY, THURSDAY, TUESDAY, WEDNESDAY, ExerciseStyle

SEED_VENUES = {
    "NSE": {"NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY"},
    "BSE": {"SENSEX", "BANKEX"},
    "CBOE": {"SPX", "SPXW"},
    "NASDAQ": {"NDXP"},
    "MCX": {"GOLDM"},
}


def test_registry_covers_every_seed_underlying_on_its_venue() -> None:
    by_venue: dict[str, set[str]] = {}
    for spec in instruments():
        by_venue.setdefault(spec.venue, set()).add(spec.name)
    for venue, names in SEED_VENUES.items():
        assert names <= by_venue[venue], venue
    assert {"SPY", "QQQ", "IWM"} <= {s.name for s in instruments()}


@pytest.mark.parametrize(
    ("name", "step"),
    [
        # the seed's strike_diff_dict (GOLDM: the MCX spec's Rs 100, not the seed's 1000)
        ("NIFTY", 50),
        ("BANKNIFTY", 100),
        ("FINNIFTY", 50),
        ("MIDCPNIFTY", 25),
        ("SENSEX", 100),
        ("BANKEX", 100),
        ("SPXW", 5),
        ("NDXP", 10),
        ("GOLDM", 100),
        ("SPY", 1),
    ],
)
def test_strike_steps(name: str, step: float) -> None:
    spec = get_instrument(name)
    assert spec.strike_step == step
    assert spec.strike_step_on(date(2024, 6, 3)) == step


def test_static_facts_of_nifty_and_spx() -> None:
    nifty = get_instrument("NIFTY")
    assert (nifty.calendar, nifty.timezone, nifty.currency) == ("XBOM", "Asia/Kolkata", "INR")
    assert (nifty.session_open, nifty.session_close) == (time(9, 15), time(15, 30))
    assert nifty.tick_size == 0.05
    assert nifty.settlement is Settlement.CASH
    assert nifty.settlement_clock == time(15, 30)
    assert nifty.symbol_style == "nse" and nifty.occ_root is None

    spx = get_instrument("SPX")
    assert (spx.calendar, spx.timezone, spx.currency) == ("XNYS", "America/New_York", "USD")
    assert spx.settlement_time is SettlementTime.AM
    assert spx.settlement_clock == time(9, 30)  # special opening quotation
    assert spx.options_close == time(16, 15)
    spxw = get_instrument("SPXW")
    assert spxw.settlement_time is SettlementTime.PM and spxw.settlement_clock == time(16, 0)
    assert spxw.symbol_style == "occ" and spxw.occ_root == "SPXW"
    spy = get_instrument("SPY")
    assert spy.settlement is Settlement.PHYSICAL
    assert spy.exercise_style is ExerciseStyle.AMERICAN


@pytest.mark.parametrize(
    ("name", "spot"),
    [("SPXW", "SPX"), ("SPX", "SPX"), ("NDXP", "NDX"), ("NIFTY", "NIFTY"), ("SPY", "SPY")],
)
def test_spot_underlying(name: str, spot: str) -> None:
    spec = get_instrument(name)
    assert spec.spot_underlying == spot
    assert spec.underlying == spot


@pytest.mark.parametrize(
    ("name", "day", "lot"),
    [
        ("NIFTY", date(2019, 6, 3), 75),
        ("NIFTY", date(2024, 4, 25), 50),
        ("NIFTY", date(2024, 4, 26), 25),
        ("NIFTY", date(2024, 11, 19), 25),
        ("NIFTY", date(2024, 11, 20), 75),
        ("NIFTY", date(2025, 8, 29), 75),
        ("BANKNIFTY", date(2023, 6, 30), 25),
        ("BANKNIFTY", date(2023, 7, 1), 15),
        ("BANKNIFTY", date(2024, 11, 19), 15),
        ("BANKNIFTY", date(2024, 11, 20), 30),
        ("BANKNIFTY", date(2025, 8, 29), 35),
        ("SPX", date(2019, 5, 3), 100),
        ("SPXW", date(2024, 1, 19), 100),
        ("QQQ", date(2024, 1, 19), 100),
        ("GOLDM", date(2024, 1, 19), 10),
    ],
)
def test_lot_size_history_at_boundaries(name: str, day: date, lot: int) -> None:
    assert get_instrument(name).lot_size(day) == lot


def test_expiry_rule_history() -> None:
    nifty = get_instrument("NIFTY")
    assert nifty.expiry_rule(date(2025, 8, 31)).weekly_weekdays == (THURSDAY,)
    assert nifty.expiry_rule(date(2025, 9, 1)).weekly_weekdays == (TUESDAY,)
    assert nifty.expiry_rule(date(2025, 9, 1)).monthly_weekday == TUESDAY
    bank = get_instrument("BANKNIFTY")
    assert bank.expiry_rule(date(2023, 9, 1)).weekly_weekdays == (THURSDAY,)
    assert bank.expiry_rule(date(2023, 9, 4)).weekly_weekdays == (WEDNESDAY,)
    assert bank.expiry_rule(date(2024, 11, 14)).weekly_weekdays == ()
    assert get_instrument("MIDCPNIFTY").expiry_rule(date(2024, 6, 3)).weekly_weekdays == (MONDAY,)
    assert "weekly Thu" in nifty.expiry_rule(date(2024, 1, 1)).describe()


def test_lookup_is_case_insensitive() -> None:
    assert get_instrument(" nifty ") is get_instrument("NIFTY")


@pytest.mark.parametrize("bad", ["FOO", "NIFTY50", "", "SPXX"])
def test_unknown_underlying_names_it_and_the_known_ones(bad: str) -> None:
    with pytest.raises(UnknownInstrumentError) as info:
        get_instrument(bad)
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert repr(bad) in message
    assert "NIFTY" in message and "SPXW" in message


def test_unknown_underlying_of_wrong_type() -> None:
    with pytest.raises(UnknownInstrumentError):
        get_instrument(42)  # type: ignore[arg-type]


def test_specs_are_frozen_and_hashable() -> None:
    spec = get_instrument("NIFTY")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.strike_step = 100  # type: ignore[misc]
    assert len({s: s.name for s in instruments()}) == len(instruments())


def test_lot_size_rejects_non_dates() -> None:
    with pytest.raises(TypeError, match="lot_size"):
        get_instrument("NIFTY").lot_size("2024-01-01")  # type: ignore[arg-type]


def test_spec_validation() -> None:
    good = get_instrument("NIFTY")
    with pytest.raises(ValueError, match="symbol_style"):
        dataclasses.replace(good, symbol_style="cme")
    with pytest.raises(ValueError, match="ascending"):
        dataclasses.replace(good, lot_sizes=((date(2024, 1, 1), 25), (date(2020, 1, 1), 50)))
    with pytest.raises(ValueError, match="positive"):
        dataclasses.replace(good, lot_sizes=((date(2000, 1, 1), 0),))
    with pytest.raises(ValueError, match="occ_root"):
        dataclasses.replace(good, symbol_style="occ")
    assert isinstance(good, InstrumentSpec)


def test_expiry_rule_validation() -> None:
    with pytest.raises(ValueError, match="weekday"):
        ExpiryRule(weekly_weekdays=(5,))
    with pytest.raises(ValueError, match="listed_weeklies"):
        ExpiryRule(listed_weeklies=-1)
