"""No-arbitrage bounds for the mark of an option whose bar has no two-sided quote.

A leg quoted 0/0 (or with no bid/ask at all) is marked at its last trade, which can be hours
or days old: on 2018-02-05 the SPXW 2615 put's last trade was 39.80 while its quoted
neighbours said it was worth about 75. The engine bounds such a mark by the nearest strikes of
the same expiry and right that do have a usable quote, using their mids ``m``:

* monotonicity: a put is worth at least the put below it and at most the put above it
  (``m(K-) <= P(K) <= m(K+)``); a call the other way round (``m(K+) <= C(K) <= m(K-)``);
* vertical spreads: two strikes of the same right differ by at most the strike distance
  (``P(K) <= m(K-) + (K - K-)``, ``P(K) >= m(K+) - (K+ - K)``; for calls
  ``C(K) <= m(K+) + (K+ - K)``, ``C(K) >= m(K-) - (K - K-)``);
* and never below zero.

The nearest quoted neighbour on each side gives the tightest of these bounds. A mark outside
``[low, high]`` is moved to the nearest bound; a mark inside is kept. With no quoted neighbour on
either side nothing is bounded (the mark stays the last trade, and the engine's warning says so).
When the neighbours' own quotes disagree (``low > high``) the midpoint of the two is used.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np

from workbench.engine.selection import ChainSnapshot

#: per snapshot and right: the strikes with a usable two-sided quote, ascending, and their mids
_QUOTED: weakref.WeakKeyDictionary[ChainSnapshot, dict[bool, tuple[np.ndarray, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _quoted(snap: ChainSnapshot, is_call: bool) -> tuple[np.ndarray, np.ndarray]:
    """The strikes of ``snap`` of one right whose quote is usable, ascending, and their mids;
    found once per snapshot (a book bounds many legs of one expiry)."""
    per = _QUOTED.get(snap)
    if per is None:
        per = _QUOTED[snap] = {}
    found = per.get(is_call)
    if found is None:
        bid, ask = snap.bid, snap.ask
        with np.errstate(invalid="ignore"):
            quoted = (
                (snap.is_call == is_call)
                & np.isfinite(bid)
                & np.isfinite(ask)
                & (bid >= 0)
                & (ask > 0)
                & (ask >= bid)
            )
        strikes = snap.strike[quoted]
        mids = (bid[quoted] + ask[quoted]) / 2.0
        order = np.argsort(strikes, kind="stable")
        found = per[is_call] = (strikes[order], mids[order])
    return found


@dataclass(frozen=True, slots=True)
class MarkBound:
    """The bounded mark and how it was found."""

    value: float
    low: float
    high: float
    note: str


def bound_mark(snap: ChainSnapshot, strike: float, is_call: bool, mark: float) -> MarkBound | None:
    """The no-arbitrage bound of ``mark`` for ``strike`` (module docstring), or ``None`` when
    no quoted neighbour exists or ``mark`` is already inside the bounds."""
    strikes, mids = _quoted(snap, is_call)
    # the nearest quoted strikes strictly below and above (a snapshot has no repeated
    # (strike, right) row, so each is one row)
    lo = int(np.searchsorted(strikes, strike, side="left")) - 1
    hi = int(np.searchsorted(strikes, strike, side="right"))
    if lo < 0 and hi >= strikes.size:
        return None  # the only quoted rows are at this strike
    lows: list[float] = [0.0]
    highs: list[float] = []
    parts: list[str] = []
    if lo >= 0:
        j = lo
        k_lo, m_lo = float(strikes[j]), float(mids[j])
        parts.append(f"{k_lo:g} mid {m_lo:g}")
        if is_call:  # C(K) <= C(K-), C(K) >= C(K-) - (K - K-)
            highs.append(m_lo)
            lows.append(m_lo - (strike - k_lo))
        else:  # P(K) >= P(K-), P(K) <= P(K-) + (K - K-)
            lows.append(m_lo)
            highs.append(m_lo + (strike - k_lo))
    if hi < strikes.size:
        j = hi
        k_hi, m_hi = float(strikes[j]), float(mids[j])
        parts.append(f"{k_hi:g} mid {m_hi:g}")
        if is_call:  # C(K) >= C(K+), C(K) <= C(K+) + (K+ - K)
            lows.append(m_hi)
            highs.append(m_hi + (k_hi - strike))
        else:  # P(K) <= P(K+), P(K) >= P(K+) - (K+ - K)
            highs.append(m_hi)
            lows.append(m_hi - (k_hi - strike))
    low = max(lows)
    high = min(highs) if highs else math.inf
    if low > high:
        value = (low + high) / 2.0
    elif mark != mark:
        value = low if math.isinf(high) else (low + high) / 2.0
    elif mark < low:
        value = low
    elif mark > high:
        value = high
    else:
        return None
    note = f"no-arbitrage bound [{low:g}, {high:g}] from quoted neighbours {', '.join(parts)}"
    return MarkBound(value=value, low=low, high=high, note=note)


def marks_inside_bounds(
    snap: ChainSnapshot, strikes: np.ndarray, is_call: bool, marks: np.ndarray
) -> np.ndarray:
    """For many legs of one chain and right: ``True`` where :func:`bound_mark` would leave the
    mark as it is because it lies strictly inside its bounds, or because no quoted neighbour
    exists; ``False`` where it may move the mark (outside, on a bound, NaN, or bounds that
    disagree): call :func:`bound_mark` for those. The bounds are the same floating-point
    operations on the same neighbours, for all the legs at once."""
    ks, mids = _quoted(snap, is_call)
    n = int(ks.size)
    if n == 0:
        return np.ones(strikes.shape, dtype=np.bool_)
    lo = np.searchsorted(ks, strikes, side="left") - 1
    hi = np.searchsorted(ks, strikes, side="right")
    has_lo = lo >= 0
    has_hi = hi < n
    k_lo, m_lo = ks[np.maximum(lo, 0)], mids[np.maximum(lo, 0)]
    k_hi, m_hi = ks[np.minimum(hi, n - 1)], mids[np.minimum(hi, n - 1)]
    return inside_neighbours(has_lo, k_lo, m_lo, has_hi, k_hi, m_hi, strikes, is_call, marks)


def inside_neighbours(
    has_lo: np.ndarray,
    k_lo: np.ndarray,
    m_lo: np.ndarray,
    has_hi: np.ndarray,
    k_hi: np.ndarray,
    m_hi: np.ndarray,
    strikes: np.ndarray,
    is_call: bool,
    marks: np.ndarray,
) -> np.ndarray:
    """:func:`marks_inside_bounds` from each leg's nearest quoted strikes below and above
    (``has_*`` whether there is one; ``k_*`` its strike, ``m_*`` its mid ``(bid + ask) / 2``),
    however the caller found them (a day's whole chain at once, on the end-of-day path)."""
    inf = math.inf
    if is_call:
        lows = (np.where(has_lo, m_lo - (strikes - k_lo), -inf), np.where(has_hi, m_hi, -inf))
        highs = (np.where(has_lo, m_lo, inf), np.where(has_hi, m_hi + (k_hi - strikes), inf))
    else:
        lows = (np.where(has_lo, m_lo, -inf), np.where(has_hi, m_hi - (k_hi - strikes), -inf))
        highs = (np.where(has_lo, m_lo + (strikes - k_lo), inf), np.where(has_hi, m_hi, inf))
    low = np.maximum(np.maximum(lows[0], lows[1]), 0.0)
    high = np.minimum(highs[0], highs[1])
    with np.errstate(invalid="ignore"):
        return (~has_lo & ~has_hi) | ((low < marks) & (marks < high))
