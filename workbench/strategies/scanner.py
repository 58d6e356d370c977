"""Credit-spread scanner (seed 003, "Strategy Layer"): find, filter, score and rank vertical spreads.

Given one or more :class:`~workbench.engine.selection.ChainSnapshot` (one per expiry already in
the DTE window), :func:`scan_credit_spreads`

1. keeps short legs whose |delta| is inside ``short_delta`` (inclusive) -- or, with
   ``short_offset``, whose distance out of the money in fractions of spot (calls ``K / S - 1``,
   puts ``1 - K / S``) is inside that range instead -- and that pass the liquidity filter;
2. pairs each with every eligible long leg of the same right further out of the money at a width
   inside ``[width_min, width_max]`` (bull put: long strike below; bear call: long strike above);
3. keeps spreads whose credit is at least ``min_credit_pct`` of the width;
4. scores and ranks them.

Conventions: prices and widths per unit of underlying; ``credit = short price - long price``
(``mid``: both at mid, the default; ``natural``: short at the bid, long at the ask);
``max_loss = width - credit``; ``p_itm = |short delta|`` (the usual delta approximation of the
probability that the short strike finishes in the money).

Score (higher is better), with the :class:`ScoreWeights`::

    ev_per_width   = (credit x (1 - p_itm) - max_loss x p_itm) / width   (= credit/width - p_itm)
    credit_ratio   = credit / width
    delta_distance = 1 - p_itm                                           (further OTM, higher)
    iv_term        = iv_percentile / 100     (the underlying's IV percentile today, 0..1; 0 if none)
    score          = w_ev x ev_per_width + w_credit x credit_ratio + w_distance x delta_distance
                     + w_iv_percentile x iv_term

Ranking is deterministic: score descending, then credit ratio descending, then |short delta|
ascending, then the earlier expiry, then the narrower width, then the short strike further out of
the money. The IV-percentile term (seed 003: "higher IV = more premium") is one number per
underlying and day, given by the caller (``iv_percentile=``, computed from past days only:
:mod:`workbench.engine.ivstats`); it moves every spread of one scan alike, so it never reorders
one underlying's candidates, but it ranks candidates of several underlyings (or days) against
each other, which is how seed 003 uses it. Without it (``None``) the term is 0 and
``SpreadCandidate.iv_percentile`` is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.engine.selection import ChainSnapshot, LiquidityFilter, abs_delta, eligible_mask
from workbench.model.enums import Right

__all__ = ["ScoreWeights", "SpreadCandidate", "SpreadScan", "rank_key", "scan_credit_spreads"]


class ScoreWeights(BaseModel):
    """Weights of the four score terms (see the module docstring); each >= 0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ev: float = Field(default=1.0, ge=0)
    credit: float = Field(default=1.0, ge=0)
    distance: float = Field(default=1.0, ge=0)
    iv_percentile: float = Field(default=1.0, ge=0)


class SpreadScan(BaseModel):
    """Scanner parameters (seed 003 ``[entry]``). ``right="P"`` scans bull put spreads, ``"C"``
    bear call spreads. ``short_delta`` is an inclusive |delta| range; widths are in price units;
    ``min_credit_pct`` is credit as a fraction of width; ``filters`` apply to both legs.
    ``short_offset`` (an inclusive range of fractions of spot out of the money, e.g.
    ``(0.03, 0.05)``) picks the short leg by its distance from the spot instead of by delta."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    right: Right = Right.PUT
    short_delta: tuple[float, float] = (0.10, 0.15)
    short_offset: tuple[float, float] | None = None
    width_min: float = Field(default=2.0, gt=0)
    width_max: float = Field(default=10.0, gt=0)
    min_credit_pct: float = Field(default=0.25, ge=0, lt=1)
    credit_basis: Literal["mid", "natural"] = "mid"
    filters: LiquidityFilter = LiquidityFilter()
    weights: ScoreWeights = ScoreWeights()

    @model_validator(mode="after")
    def _check(self) -> SpreadScan:
        lo, hi = self.short_delta
        if not 0 < lo <= hi < 1:
            raise ValueError(f"short_delta: expected 0 < min <= max < 1, got {self.short_delta}")
        if self.short_offset is not None:
            olo, ohi = self.short_offset
            if not (math.isfinite(olo) and math.isfinite(ohi) and 0 <= olo <= ohi < 1):
                raise ValueError(
                    f"short_offset: expected 0 <= min <= max < 1 (fractions of spot out of the "
                    f"money), got {self.short_offset}"
                )
        if self.width_max < self.width_min:
            raise ValueError(f"width_max: {self.width_max} is below width_min {self.width_min}")
        return self


@dataclass(frozen=True, slots=True)
class SpreadCandidate:
    """One vertical credit spread found in a chain (prices per unit of underlying)."""

    expiry: date
    right: Right
    short_strike: float
    long_strike: float
    width: float
    short_price: float
    long_price: float
    credit: float
    max_loss: float
    short_delta: float
    long_delta: float
    p_itm: float
    ev_per_width: float
    credit_ratio: float
    score: float
    #: the underlying's IV percentile (0..100) the score used; ``None`` when none was given
    iv_percentile: float | None = None

    @property
    def rationale(self) -> str:
        return (
            f"{self.right.value} {self.short_strike:g}/{self.long_strike:g} {self.expiry}: credit "
            f"{self.credit:.4g} = {self.credit_ratio:.1%} of width {self.width:g}, short |delta| "
            f"{abs(self.short_delta):.3f}, EV/width {self.ev_per_width:+.4f}, score {self.score:.4f}"
        )


def _short_rows(
    snap: ChainSnapshot, rows: np.ndarray, deltas: np.ndarray, scan: SpreadScan, is_call: bool
) -> np.ndarray:
    """Positions in ``rows`` of the short legs the scan accepts: by |delta|, or by distance
    out of the money (``short_offset``); a short leg needs a delta either way (p_itm)."""
    ok = np.isfinite(deltas)
    if scan.short_offset is None:
        lo, hi = scan.short_delta
        ok &= (deltas >= lo - 1e-12) & (deltas <= hi + 1e-12)
    else:
        k = snap.strike[rows]
        otm = (k / snap.spot - 1.0) if is_call else (1.0 - k / snap.spot)
        olo, ohi = scan.short_offset
        ok &= (otm >= olo - 1e-12) & (otm <= ohi + 1e-12)
    return np.flatnonzero(ok)


def _one_chain(
    snap: ChainSnapshot, scan: SpreadScan, iv_percentile: float | None = None
) -> list[SpreadCandidate]:
    is_call = scan.right is Right.CALL
    mask, why = eligible_mask(snap, is_call, scan.filters, "mid")
    if why:
        return []
    rows = np.flatnonzero(mask)
    if scan.credit_basis == "natural":
        ok = snap.two_sided[rows]
        rows = rows[ok]
    deltas = abs_delta(snap, rows, "mid")
    mid = snap.price("mid")
    sell_px = snap.bid if scan.credit_basis == "natural" else mid
    buy_px = snap.ask if scan.credit_basis == "natural" else mid
    sign = 1.0 if is_call else -1.0
    w = scan.weights
    iv_term = 0.0 if iv_percentile is None else w.iv_percentile * iv_percentile / 100.0
    out: list[SpreadCandidate] = []
    for a in _short_rows(snap, rows, deltas, scan, is_call):
        short_row = rows[a]
        d_short = deltas[a]
        k_short = float(snap.strike[short_row])
        for b, long_row in enumerate(rows):
            k_long = float(snap.strike[long_row])
            width = (k_long - k_short) if is_call else (k_short - k_long)
            if not (scan.width_min - 1e-9 <= width <= scan.width_max + 1e-9):
                continue
            credit = float(sell_px[short_row] - buy_px[long_row])
            if not math.isfinite(credit) or credit < scan.min_credit_pct * width - 1e-12:
                continue
            p = float(d_short)
            max_loss = width - credit
            ev = (credit * (1.0 - p) - max_loss * p) / width
            ratio = credit / width
            score = w.ev * ev + w.credit * ratio + w.distance * (1.0 - p) + iv_term
            out.append(
                SpreadCandidate(
                    expiry=snap.expiry,
                    right=scan.right,
                    short_strike=k_short,
                    long_strike=k_long,
                    width=width,
                    short_price=float(sell_px[short_row]),
                    long_price=float(buy_px[long_row]),
                    credit=credit,
                    max_loss=max_loss,
                    short_delta=sign * p,
                    long_delta=sign * float(deltas[b]),
                    p_itm=p,
                    ev_per_width=ev,
                    credit_ratio=ratio,
                    score=score,
                    iv_percentile=iv_percentile,
                )
            )
    return out


def _rank_key(c: SpreadCandidate) -> tuple[float, float, float, date, float, float]:
    further_out = c.short_strike if c.right is Right.PUT else -c.short_strike
    return (
        -round(c.score, 12),
        -round(c.credit_ratio, 12),
        round(c.p_itm, 12),
        c.expiry,
        c.width,
        further_out,
    )


def rank_key(c: SpreadCandidate) -> tuple[float, float, float, date, float, float]:
    """The scanner's ranking key (ascending = better first; see the module docstring): ranks
    candidates of several scans (underlyings, rights) against each other the same way."""
    return _rank_key(c)


def scan_credit_spreads(
    chains: ChainSnapshot | Iterable[ChainSnapshot],
    scan: SpreadScan,
    *,
    iv_percentile: float | None = None,
) -> list[SpreadCandidate]:
    """All qualifying spreads across ``chains``, best first (see the module docstring).

    ``iv_percentile``: the underlying's IV percentile today (0..100, from past days only, e.g.
    :func:`workbench.engine.ivstats.iv_percentile`) for the score's IV term; ``None``: no term.
    """
    if iv_percentile is not None and not (
        math.isfinite(iv_percentile) and 0.0 <= iv_percentile <= 100.0
    ):
        raise ValueError(f"iv_percentile: expected 0..100 or None, got {iv_percentile!r}")
    snaps = [chains] if isinstance(chains, ChainSnapshot) else list(chains)
    found: list[SpreadCandidate] = []
    for snap in snaps:
        found.extend(_one_chain(snap, scan, iv_percentile))
    return sorted(found, key=_rank_key)
