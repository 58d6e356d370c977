"""Quotes, liquidity and volume of the synthetic option market.

Conventions:

* prices are in the underlying's price units per unit of underlying, on the venue's tick grid;
* a traded price (``open high low close``) is never below one tick;
* ``bid``/``ask`` are the quote at the bar's close around the model mid ``m``:
  ``bid = floor_tick(m - s/2)``, ``ask = ceil_tick(m + s/2)`` with the spread
  ``s = max(tick, tick * base_ticks * (1 + wing * |x|) * (1 + near_expiry / (1 + days)) + rel * m)``
  times a log-normal noise, where ``x`` is the standardised moneyness and ``days`` the calendar
  days to expiry: spreads widen away from the money and towards expiry;
* a bid below one tick is stored as NaN: **NaN means no quote on that side** (a worthless
  far out-of-the-money option has an ask and no bid);
* liquidity (the probability that a minute has a trade and therefore a row) is 1 near the money
  and decays with ``|x|`` to ``min_trade_prob``; volume (contracts) is at least 1 on every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class QuoteParams:
    """Spread, liquidity and volume parameters (spread terms in ticks or fractions of mid)."""

    base_ticks: float = 1.0
    wing: float = 1.0  # spread growth per unit of |x|
    near_expiry: float = 1.0  # spread growth factor 1 + near_expiry / (1 + days to expiry)
    rel: float = 0.0008  # proportional spread component, fraction of mid
    noise_sd: float = 0.25  # log-normal spread noise
    liquid_x: float = 0.75  # |x| below which every minute trades
    liquidity_width: float = 1.25  # decay width of the trade probability beyond liquid_x
    min_trade_prob: float = 0.03
    volume_atm: float = 300.0  # mean contracts per minute at the money
    volume_dispersion: float = 1.5  # gamma shape of the volume mixing (lower = burstier)


def tick_decimals(tick: float) -> int:
    """Decimal places of ``tick`` (0.05 -> 2, 0.5 -> 1, 1 -> 0)."""
    text = f"{tick:.10f}".rstrip("0")
    return len(text.split(".")[1])


def _on_grid(units: np.ndarray, tick: float) -> np.ndarray:
    """``units * tick`` as the double nearest to the decimal price (123.45, not 123.45000000000002)."""
    return np.round(units * tick, tick_decimals(tick))


def round_tick(price: np.ndarray, tick: float) -> np.ndarray:
    """Nearest multiple of ``tick``."""
    return _on_grid(np.round(np.asarray(price) / tick), tick)


def traded_price(price: np.ndarray, tick: float) -> np.ndarray:
    """Price on the tick grid, at least one tick (the lowest price a trade can print)."""
    return np.maximum(round_tick(price, tick), tick)


def bid_ask(
    params: QuoteParams,
    mid: np.ndarray,
    x: np.ndarray,
    days_to_expiry: np.ndarray,
    tick: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask around ``mid``; bid NaN where it would be below one tick."""
    spread = (
        tick
        * params.base_ticks
        * (1.0 + params.wing * np.abs(x))
        * (1.0 + params.near_expiry / (1.0 + np.maximum(days_to_expiry, 0.0)))
        + params.rel * mid
    )
    spread = np.maximum(spread * np.exp(params.noise_sd * rng.standard_normal(mid.shape)), tick)
    eps = 1e-9
    bid_units = np.floor((mid - 0.5 * spread) / tick + eps)
    ask_units = np.maximum(np.ceil((mid + 0.5 * spread) / tick - eps), 1.0)
    bid = np.where(bid_units >= 1.0, _on_grid(bid_units, tick), np.nan)
    return bid, _on_grid(ask_units, tick)


def trade_probability(params: QuoteParams, x: np.ndarray) -> np.ndarray:
    """Probability that a minute has a trade, from the standardised moneyness ``x``."""
    excess = np.maximum(np.abs(x) - params.liquid_x, 0.0) / params.liquidity_width
    return np.maximum(np.exp(-0.5 * excess * excess), params.min_trade_prob)


def volumes(
    params: QuoteParams, intensity: np.ndarray, rng: np.random.Generator, minimum: int = 1
) -> np.ndarray:
    """Contracts traded per row: ``minimum + Poisson(Gamma-mixed mean)``.

    ``intensity`` scales the mean ``volume_atm``; ``minimum`` is 1 for bars that exist because
    something traded, 0 for end-of-day chains that list every strike.
    """
    shape = params.volume_dispersion
    lam = rng.gamma(shape, 1.0 / shape, size=intensity.shape) * params.volume_atm * intensity
    return minimum + rng.poisson(lam).astype(np.int64)
