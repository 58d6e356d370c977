"""Row validation for option quotes: one reason per refused row, in a fixed order.

Rules, applied in this order (a row gets the first that applies):

``unparseable_<field>``  a field that is present but not a value (set by the adapter).
``missing_<field>``      a key field (date, expiry, strike, right) left empty.
``date_out_of_range``    a quote date outside the venue calendar's coverage, or an expiry
                         outside the expiry calendar's (a two-digit year such as ``04/25/19``
                         read as the year 0019 lands here; set by the adapter, which names the
                         first such line in a note).
``negative_price``       bid, ask or last below zero.
``absurd_price``         bid, ask or last above :data:`ABSURD_FACTOR` times the larger of the
                         underlying's price and the strike: no option is worth more than the
                         underlying (a call) or the strike (a put), so such a value is damage
                         (a bid of 2.6e183), not a price. Where the row has no underlying
                         price, the largest strike of its file stands in for it (chains
                         bracket the money).
``bid_gt_ask``           both sides quoted and bid > ask (a crossed quote).
``no_price``             no usable price at all: no bid > 0, no ask > 0 and no last > 0.
                         A zero bid with a positive ask is a valid quote (nobody bids for a far
                         out-of-the-money option) and is kept with bid = 0.
``expiry_before_quote_date``  the contract had expired when the quote was taken
                         (expiry == quote date is a valid 0DTE quote).
``strike_off_grid``      strike not a multiple of the venue's strike step on that day
                         (``InstrumentSpec.strike_step_on``).

Duplicate keys are found per day, after all files are read (see :mod:`daybuffer`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

NO_REASON = ""

#: Relative tolerance of the strike-grid test (strikes arrive as decimal text).
GRID_TOLERANCE = 1e-6
#: A price above this multiple of max(underlying, strike) is refused as ``absurd_price``.
ABSURD_FACTOR = 1.5


def first_reason(checks: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """Object array of length ``n``: the first reason whose mask is True, else ``""``."""
    reasons = np.full(n, NO_REASON, dtype=object)
    free = np.ones(n, dtype=bool)
    for reason, mask in checks:
        hit = free & mask
        if hit.any():
            reasons[hit] = reason
            free &= ~hit
    return reasons


def quote_checks(
    *,
    bid: np.ndarray,
    ask: np.ndarray,
    last: np.ndarray,
    expiry: np.ndarray,
    quote_date: np.ndarray,
    strike: np.ndarray,
    strike_step: np.ndarray | float,
    spot: np.ndarray | None = None,
) -> list[tuple[str, np.ndarray]]:
    """The value rules above as ``(reason, mask)`` pairs (NaN means "not quoted").

    ``spot``: the underlying's price per row where the input gives one (NaN or absent: the
    file's largest strike stands in).
    """
    with np.errstate(invalid="ignore"):
        negative = (bid < 0) | (ask < 0) | (last < 0)
        absurd = absurd_prices(bid, ask, last, strike=strike, spot=spot)
        crossed = np.isfinite(bid) & np.isfinite(ask) & (bid > ask)
        priced = (bid > 0) | (ask > 0) | (last > 0)
        expired = expiry < quote_date
        ratio = strike / strike_step
        off_grid = np.abs(ratio - np.round(ratio)) > GRID_TOLERANCE * np.maximum(1.0, ratio)
    return [
        ("negative_price", negative),
        ("absurd_price", absurd),
        ("bid_gt_ask", crossed),
        ("no_price", ~priced),
        ("expiry_before_quote_date", expired),
        ("strike_off_grid", off_grid & np.isfinite(strike)),
    ]


def absurd_prices(
    *prices: np.ndarray, strike: np.ndarray, spot: np.ndarray | None = None
) -> np.ndarray:
    """Rows where any of ``prices`` exceeds :data:`ABSURD_FACTOR` x max(underlying, strike)."""
    n = len(strike)
    finite_strikes = strike[np.isfinite(strike)]
    stand_in = float(finite_strikes.max()) if finite_strikes.size else np.nan
    if spot is None:
        reference = np.full(n, stand_in)
    else:
        usable = np.isfinite(spot) & (spot > 0)
        reference = np.where(usable, spot, stand_in)
    with np.errstate(invalid="ignore"):
        bound = ABSURD_FACTOR * np.fmax(reference, strike)
        out = np.zeros(n, dtype=bool)
        for price in prices:
            out |= np.isfinite(bound) & (price > bound)
    return out


def field_checks(
    parsed: Mapping[str, tuple[np.ndarray, np.ndarray]], required: set[str]
) -> list[tuple[str, np.ndarray]]:
    """``(reason, mask)`` pairs for unparseable fields and empty required fields.

    ``parsed`` maps a field name to ``(missing, bad)`` masks as :mod:`fields` returns them.
    """
    checks: list[tuple[str, np.ndarray]] = []
    for name, (missing, bad) in parsed.items():
        checks.append((f"unparseable_{name}", bad))
        if name in required:
            checks.append((f"missing_{name}", missing))
    return checks
