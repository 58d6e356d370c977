"""Spot from put-call parity near the money, for chains that do not carry the underlying.

For one snapshot of one expiry, European put-call parity gives the forward ``F`` from every
strike quoted on both sides::

    C - P = e^{-rT} (F - K)    =>    F_K = K + (C_mid - P_mid) e^{rT}

:func:`parity_spot` takes the strikes nearest the money (where ``C - P`` changes sign, the
``k`` strikes with the smallest ``|C - P|``), and returns the median of their ``F_K``. For the
nearest expiry (days away) the forward and the spot differ by ``S (e^{(r-q)T} - 1)``, a few
index points at most; the value is recorded as a derived spot, not an exchange print.

``T`` is in years (calendar seconds / 365 days) to the expiry's settlement time; ``r`` is a
continuously compounded annual rate (decimal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Strikes used around the money.
PARITY_STRIKES = 4


@dataclass(frozen=True)
class ParitySpot:
    """The derived spot, the strikes it used and each strike's implied forward."""

    spot: float
    strikes: np.ndarray
    forwards: np.ndarray


def parity_spot(
    strike: np.ndarray,
    call_mid: np.ndarray,
    put_mid: np.ndarray,
    t_years: float,
    rate: float,
    k: int = PARITY_STRIKES,
) -> ParitySpot | None:
    """Median implied forward over the ``k`` strikes nearest the money (see the module doc).

    Strikes without a finite, positive mid on both sides are ignored. Returns ``None`` when
    ``C - P`` does not change sign over the usable strikes (the money is not bracketed, so the
    chain cannot say where it is).
    """
    strike = np.asarray(strike, float)
    diff = np.asarray(call_mid, float) - np.asarray(put_mid, float)
    usable = np.isfinite(strike) & np.isfinite(diff) & (call_mid > 0) & (put_mid > 0)
    if usable.sum() < 2:
        return None
    order = np.argsort(strike[usable], kind="mergesort")
    ks, ds = strike[usable][order], diff[usable][order]
    if not ((ds >= 0).any() and (ds <= 0).any()):
        return None
    near = np.sort(np.argsort(np.abs(ds), kind="mergesort")[:k])
    forwards = ks[near] + ds[near] * np.exp(rate * max(t_years, 0.0))
    return ParitySpot(float(np.median(forwards)), ks[near], forwards)
