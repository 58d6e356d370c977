"""Book Greeks as columns (issue 13): the same numbers as computing each leg on its own."""

from __future__ import annotations

import math
from datetime import date, datetime, time

import numpy as np
import pytest

from workbench.engine.greeks import implied_greeks, implied_greeks_columns, years_to_settlement
from workbench.model.contracts import OptionContract
from workbench.pricing import bs_greeks, bs_price, implied_vol

WHEN = datetime(2024, 3, 1, 16, 0)
CLOSE = time(16, 0)


def _reference(
    contract: OptionContract, price: float, spot: float, rate: float = 0.0
) -> dict[str, float]:
    """One leg through the pricing layer's array functions (arrays of one)."""
    t = years_to_settlement(WHEN, contract.expiry, CLOSE)
    if t <= 0:
        m = spot - contract.strike if contract.is_call else contract.strike - spot
        d = 1.0 if m > 0 else (0.0 if m < 0 else 0.5)
        return {
            "iv": math.nan,
            "delta": d if contract.is_call else -d,
            "gamma": 0.0,
            "vega": 0.0,
            "theta": 0.0,
        }
    one = np.ones(1)
    call = np.array([contract.is_call])
    vol = float(
        implied_vol(one * price, one * spot, one * contract.strike, one * t, one * rate, call)[0]
    )
    if not (vol == vol and vol > 0):
        return dict.fromkeys(("iv", "delta", "gamma", "vega", "theta"), math.nan)
    g = bs_greeks(one * spot, one * contract.strike, one * t, one * rate, one * vol, call)
    return {
        "iv": vol,
        **{k: float(np.asarray(g[k])[0]) for k in ("delta", "gamma", "vega", "theta")},
    }


@pytest.mark.parametrize("rate", [0.0, 0.043])
@pytest.mark.parametrize("n", [3, 8, 9, 40])
def test_columns_equal_each_leg_on_its_own(n: int, rate: float) -> None:
    """Expired legs (payoff delta), legs whose price no volatility reproduces (NaN), and live
    legs; few enough for the scalar kernels and enough for the array ones; with and without a
    rate."""
    rng = np.random.default_rng(n)
    spot = 5000.0
    expiries = [date(2024, 3, 1), date(2024, 2, 28), date(2024, 3, 8), date(2024, 4, 19)]
    contracts, prices = [], []
    for j in range(n):
        e = expiries[j % len(expiries)]
        k = float(4500 + 50 * rng.integers(0, 20))
        right = "C" if rng.random() < 0.5 else "P"
        c = OptionContract("SPX", e, k, right)
        t = max(years_to_settlement(WHEN, e, CLOSE), 1e-6)
        fair = float(bs_price(spot, k, t, rate, 0.18 + 0.1 * rng.random(), c.is_call))
        # every fifth leg below intrinsic: no volatility reproduces it
        prices.append(max(fair, 0.01) if j % 5 else 0.5 * max(fair - 1.0, 0.0))
        contracts.append(c)
    got = implied_greeks_columns(contracts, prices, spot, WHEN, CLOSE, rate)
    per_leg = implied_greeks(contracts, prices, spot, WHEN, CLOSE, rate)
    for j, (c, p) in enumerate(zip(contracts, prices, strict=True)):
        want = _reference(c, p, spot, rate)
        for name, value in want.items():
            assert got[name][j] == value or (value != value and got[name][j] != got[name][j]), (
                j,
                name,
            )
            assert per_leg[j][name] == got[name][j] or value != value
    assert any(v != v for v in got["iv"]) and any(v == v for v in got["iv"])


@pytest.mark.parametrize("n", [9, 40, 200])
def test_a_book_of_live_legs_with_ivs_equals_each_leg(n: int) -> None:
    """Every leg before its settlement and at a price some volatility reproduces (a book's
    usual day, the array kernels): the same bits as each leg on its own."""
    rng = np.random.default_rng(100 + n)
    spot = 5000.0
    expiries = [date(2024, 3, 8), date(2024, 3, 15), date(2024, 4, 19)]
    contracts, prices = [], []
    for j in range(n):
        e = expiries[j % len(expiries)]
        k = float(4700 + 25 * rng.integers(0, 24))
        c = OptionContract("SPX", e, k, "C" if rng.random() < 0.5 else "P")
        t = years_to_settlement(WHEN, e, CLOSE)
        prices.append(
            max(float(bs_price(spot, k, t, 0.0, 0.12 + 0.2 * rng.random(), c.is_call)), 0.05)
        )
        contracts.append(c)
    got = implied_greeks_columns(contracts, prices, spot, WHEN, CLOSE)
    assert all(v == v and v > 0 for v in got["iv"])
    for j, (c, p) in enumerate(zip(contracts, prices, strict=True)):
        for name, value in _reference(c, p, spot).items():
            assert got[name][j] == value, (j, name)
        assert all(type(got[name][j]) is float for name in got)


def _book_reference(
    contracts: list[OptionContract],
    prices: list[float],
    units: list[float],
    spots: dict[str, float],
    rate: float,
    start: float,
) -> dict[str, float]:
    """What the engine summed before the compiled pass: each underlying's legs through
    :func:`implied_greeks_columns`, then each total adds ``units x value`` in book order."""
    columns: dict[str, list[float]] = {
        n: [math.nan] * len(contracts) for n in ("delta", "gamma", "vega", "theta")
    }
    for name, spot in spots.items():
        where = [j for j, c in enumerate(contracts) if c.underlying == name]
        part = implied_greeks_columns(
            [contracts[j] for j in where], [prices[j] for j in where], spot, WHEN, CLOSE, rate
        )
        for greek in columns:
            for j, v in zip(where, part[greek], strict=True):
                columns[greek][j] = v
    out = {"delta": start, "gamma": 0.0, "vega": 0.0, "theta": 0.0}
    for greek in out:
        total = out[greek]
        for u, v in zip(units, columns[greek], strict=True):
            if v == v:
                total += u * v
        out[greek] = total
    return out


@pytest.mark.parametrize("rate", [0.0, 0.043])
@pytest.mark.parametrize("n", [1, 5, 9, 60, 400])
def test_book_greeks_equal_the_legs_columns_summed_in_book_order(n: int, rate: float) -> None:
    """The day-end book Greeks in one compiled pass: the same bits as the columns summed leg by
    leg, over two underlyings interleaved (and a third without a usable spot), expired legs at
    and around the money, prices no volatility reproduces, long and short legs."""
    from workbench.engine.greeks import book_greeks

    rng = np.random.default_rng(7 * n + int(rate * 1000))
    spots = {"SPX": 5000.0, "NDX": 18000.0, "RUT": math.nan}
    expiries = [date(2024, 3, 1), date(2024, 2, 28), date(2024, 3, 8), date(2024, 4, 19)]
    contracts, prices, units = [], [], []
    for j in range(n):
        name = ("SPX", "NDX", "SPX", "RUT")[j % 4] if n > 1 else "SPX"
        spot = spots[name] if spots[name] == spots[name] else 2000.0
        e = expiries[int(rng.integers(0, len(expiries)))]
        k = float(round(spot * (0.9 + 0.2 * rng.random()) / 5) * 5)
        if j % 11 == 3:
            k = spot  # at the money: an expired one has delta 0.5
        c = OptionContract(name, e, k, "C" if rng.random() < 0.5 else "P")
        t = max(years_to_settlement(WHEN, e, CLOSE), 1e-6)
        fair = float(bs_price(spot, k, t, rate, 0.15 + 0.2 * rng.random(), c.is_call))
        prices.append(max(fair, 0.01) if j % 7 else 0.5 * max(fair - 1.0, 0.0))
        units.append(float(rng.choice([-300.0, -100.0, 100.0, 50.0, 200.0])))
        contracts.append(c)
    held = {c.underlying: spots[c.underlying] for c in contracts}
    want = _book_reference(contracts, prices, units, held, rate, 12.5)
    got = book_greeks(
        contracts,
        prices,
        units,
        held,
        WHEN,
        dict.fromkeys(held, CLOSE),
        rate,
        (12.5, 0.0, 0.0, 0.0),
    )
    assert got == want  # exact: every total, bit for bit
    assert all(type(v) is float for v in got.values())
