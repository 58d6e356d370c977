"""Display symbols: known examples, round trips over every underlying, malformed symbols."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.model import (
    OptionContract,
    Right,
    SymbolError,
    expiries_between,
    format_symbol,
    get_instrument,
    instruments,
    parse_symbol,
)


@pytest.mark.parametrize(
    ("text", "contract"),
    [
        ("NIFTY24JAN21500CE", OptionContract("NIFTY", date(2024, 1, 25), 21500, Right.CALL)),
        ("NIFTY2411821500CE", OptionContract("NIFTY", date(2024, 1, 18), 21500, Right.CALL)),
        ("NIFTY24O0325000PE", OptionContract("NIFTY", date(2024, 10, 3), 25000, Right.PUT)),
        ("NIFTY24D1924000PE", OptionContract("NIFTY", date(2024, 12, 19), 24000, Right.PUT)),
        ("BANKNIFTY24MAR47000PE", OptionContract("BANKNIFTY", date(2024, 3, 27), 47000, Right.PUT)),
        (
            "MIDCPNIFTY2411510525CE",
            OptionContract("MIDCPNIFTY", date(2024, 1, 15), 10525, Right.CALL),
        ),
        ("SPXW  240119C04800000", OptionContract("SPXW", date(2024, 1, 19), 4800, Right.CALL)),
        ("SPX   190419P02900000", OptionContract("SPX", date(2019, 4, 19), 2900, Right.PUT)),
        ("SPY   240119C00450500", OptionContract("SPY", date(2024, 1, 19), 450.5, Right.CALL)),
    ],
)
def test_known_symbols(text: str, contract: OptionContract) -> None:
    assert parse_symbol(text) == contract
    assert format_symbol(contract) == text
    assert contract.symbol == text


@pytest.mark.parametrize(
    "text",
    [
        "SPXW240119C04800000",  # unpadded, as in the CBOE files
        "SPXW190503C00800000",  # first row of the real 2019-05-03 CBOE chain
        "  spxw  240119c04800000 ",  # blanks and lower case
    ],
)
def test_unpadded_and_loose_occ(text: str) -> None:
    parsed = parse_symbol(text)
    assert parsed.underlying == "SPXW"
    assert format_symbol(parsed) == f"SPXW  {text.strip()[-15:].upper()}"


def test_weekly_form_of_a_monthly_date_parses_to_the_same_contract() -> None:
    assert parse_symbol("NIFTY2412521500CE") == parse_symbol("NIFTY24JAN21500CE")


def test_goldm_monthly_symbol_carries_the_contract_month() -> None:
    contract = parse_symbol("GOLDM24FEB62000CE")
    assert contract.expiry == date(2024, 1, 24)
    assert format_symbol(contract) == "GOLDM24FEB62000CE"


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("NIFTY24JAX21500CE", "bad month code"),
        ("NIFTY24A1821500CE", "bad month code"),
        ("NIFTY24JAN21500", "missing right"),
        ("NIFTY24JAN21500XE", "missing right"),
        ("NIFTY24JANABCCE", "strike is not a number"),
        ("NIFTY24JAN21.5.0CE", "strike is not a number"),
        ("FOO24JAN21500CE", "unknown root 'FOO'"),
        ("NIFTYJAN21500CE", "2-digit year"),
        ("NIFTY2413221500CE", "no such date"),
        ("NIFTY24JAN0CE", "strike must be positive"),
        ("ABCDEF240119C04800000", "unknown root 'ABCDEF'"),
        ("SPXW  241319C04800000", "no such date"),
        ("SPXW  24011XC04800000", "YYMMDD"),
        ("SPXW240119X04800000", "missing right"),
        ("SPXW  240119C0480000", "not 8 digits"),
        ("SPXW  240119C0480000A", "not 8 digits"),
        ("SPXW  240119C00000000", "strike must be positive"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_malformed_symbols(text: str, fault: str) -> None:
    with pytest.raises(SymbolError) as info:
        parse_symbol(text)
    message = str(info.value)
    assert repr(text) in message
    assert fault in message
    assert isinstance(info.value, ValueError)


def test_non_string_symbol() -> None:
    with pytest.raises(SymbolError, match="must be a string"):
        parse_symbol(123)  # type: ignore[arg-type]


def test_nse_root_in_occ_form_is_refused() -> None:
    with pytest.raises(SymbolError, match="NIFTY"):
        parse_symbol("NIFTY 240119C02150000")


def test_format_errors() -> None:
    with pytest.raises(SymbolError, match="'NOSUCH'"):
        format_symbol(OptionContract("NOSUCH", date(2024, 1, 19), 100, Right.CALL))
    with pytest.raises(SymbolError, match=r"multiple of 0\.001"):
        format_symbol(OptionContract("SPY", date(2024, 1, 19), 450.0005, Right.CALL))
    with pytest.raises(SymbolError, match=r"2000\.\.2099"):
        format_symbol(OptionContract("NIFTY", date(1999, 12, 30), 1000, Right.CALL))
    with pytest.raises(SymbolError, match="8-digit"):
        format_symbol(OptionContract("SPX", date(2024, 1, 19), 100_000, Right.CALL))


_NSE_RE = re.compile(r"^[A-Z]+\d{2}([A-Z]{3}|[1-9OND]\d{2})\d+(\.\d+)?(CE|PE)$")
_OCC_RE = re.compile(r"^[A-Z ]{6}\d{6}[CP]\d{8}$")


@st.composite
def contracts(draw: st.DrawFn) -> OptionContract:
    spec = draw(st.sampled_from(instruments()))
    year = draw(st.integers(2010, 2026))
    real = expiries_between(spec.name, date(year, 1, 1), date(year, 12, 31))
    expiry = draw(
        st.one_of(
            st.sampled_from(real),
            st.dates(min_value=date(2006, 1, 1), max_value=date(2035, 12, 31)),
        )
    )
    steps = draw(st.integers(1, 4000 if spec.strike_step < 10 else 2000))
    strike = steps * spec.strike_step
    if spec.symbol_style == "occ" and draw(st.booleans()):
        strike += draw(st.sampled_from([0.5, 0.25, 0.125]))  # off-grid but representable
    right = draw(st.sampled_from(list(Right)))
    return OptionContract(spec.name, expiry, strike, right)


@settings(max_examples=400, deadline=None)
@given(contract=contracts())
def test_format_then_parse_is_identity(contract: OptionContract) -> None:
    text = format_symbol(contract)
    style = get_instrument(contract.underlying).symbol_style
    assert (_NSE_RE if style == "nse" else _OCC_RE).match(text), text
    assert parse_symbol(text) == contract
    if style == "occ":
        assert parse_symbol(text.replace(" ", "")) == contract
