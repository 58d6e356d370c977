"""One strike rule on many expiries of a day's chain in one vectorised pass (issue 13).

An "every entry" study selects, every day, a leg for each of five to ten listed expiries. Done one
expiry at a time, each call builds that expiry's :class:`~workbench.engine.selection.ChainSnapshot`,
its eligible rows and deltas, then a dozen small NumPy operations; most of the time goes to the
calls themselves, not the arithmetic. :func:`resolve_strikes` takes the day's whole chain as one
snapshot (rows in file order: expiry, strike, right) and the row span of each wanted expiry, and
applies the rule to every span at once with segment reductions.

It gives what :func:`~workbench.engine.selection.resolve_strike` gives on the span's own snapshot
-- the same :class:`~workbench.engine.selection.StrikeChoice`, reason included -- and says so by
construction: every quantity is the same element-wise expression, minima and maxima are exact, and
a span it cannot decide that way is left ``None`` for the caller to resolve on its own snapshot:

- methods other than ``delta``, ``premium`` and ``strike``;
- a span with no eligible row (its reason names the filter step that emptied it);
- a ``delta`` span where an eligible row has no chain delta (it is computed from the expiry's
  time to settlement, which only the span's snapshot has);
- an ``at_or_above`` / ``at_or_below`` span with no row on the right side of the target.

The eligibility filters are element-wise (:func:`~workbench.engine.selection.eligible_mask`), so
the day's eligible rows within a span are the span's eligible rows whenever the span has any.
``tests/engine/test_selection_batch.py`` checks equality against the one-expiry path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from workbench.engine.selection import (
    _TIE_ATOL,
    ChainSnapshot,
    Selection,
    StrikeChoice,
    _eligible_rows,
)
from workbench.model.enums import Right, Side

__all__ = ["BATCH_METHODS", "resolve_strikes"]

#: Strike methods :func:`resolve_strikes` decides itself (others are left to the caller).
BATCH_METHODS = frozenset({"delta", "premium", "strike"})


def resolve_strikes(
    day: ChainSnapshot,
    right: Right | str,
    rule: Selection,
    spans: Sequence[tuple[int, int]],
    values: Sequence[float] | None = None,
) -> list[StrikeChoice | None]:
    """``rule`` applied to each row span ``[a, b)`` of ``day`` (one expiry's rows each, every row
    visible), as :func:`~workbench.engine.selection.resolve_strike` would on that span's own
    snapshot; ``None`` for a span to resolve that way instead (see the module doc).

    ``values``: the rule's target for each span (a wing's strike depends on the span's short
    strike), instead of ``rule.value``. A choice's ``row`` counts from its span's start.
    """
    n_spans = len(spans)
    out: list[StrikeChoice | None] = [None] * n_spans
    method = rule.method
    if method not in BATCH_METHODS or n_spans == 0:
        return out
    if values is not None and len(values) != n_spans:
        raise ValueError(f"resolve_strikes: {len(values)} values for {n_spans} spans")
    if values is None and rule.value is None:
        return out
    is_call = Right.parse(right) is Right.CALL
    basis = rule.price
    rows_all, why = _eligible_rows(day, is_call, rule.filters, basis)
    if why:
        return out  # nothing eligible all day: each span says which step emptied it
    bounds = np.asarray(spans, dtype=np.int64).reshape(n_spans, 2)
    lo = np.searchsorted(rows_all, bounds[:, 0])
    hi = np.searchsorted(rows_all, bounds[:, 1])
    counts = hi - lo
    live = np.flatnonzero(counts > 0)
    if not live.size:
        return out
    rows = np.concatenate([rows_all[lo[k] : hi[k]] for k in live.tolist()])
    seg = np.repeat(np.arange(live.size), counts[live])  # each row's position in `live`
    strikes = day.strike
    price = day._mid_price if basis == "mid" else day.price(basis)
    if method == "delta":
        metric = np.abs(day.delta[rows])
        finite = np.isfinite(metric)
        if not finite.all():  # a delta to compute from the expiry's own tte: left to the caller
            bad = np.zeros(live.size, dtype=bool)
            bad[seg[~finite]] = True
            keep = ~bad[seg]
            rows, seg, metric = rows[keep], seg[keep], metric[keep]
            live, counts_live = live[~bad], counts[live][~bad]
            if not live.size:
                return out
            seg = np.repeat(np.arange(live.size), counts_live)
    elif method == "premium":
        metric = price[rows]
    else:
        metric = strikes[rows]
    if values is None:
        target: float | np.ndarray = float(rule.value)  # type: ignore[arg-type]
        targets = [float(target)] * live.size
    else:
        targets = [float(values[k]) for k in live.tolist()]
        target = np.asarray(targets, dtype=np.float64)[seg]
    starts = np.zeros(live.size, dtype=np.int64)  # each live span's first row in `rows`
    np.cumsum(counts[live][:-1], out=starts[1:])
    bound = "nearest" if method == "strike" else rule.bound
    if bound == "nearest":
        distance = np.abs(metric - target)
        tied = distance <= np.minimum.reduceat(distance, starts)[seg] + _TIE_ATOL
    else:
        if bound == "at_or_above":
            keep = metric >= target - _TIE_ATOL
            best = np.minimum.reduceat(np.where(keep, metric, np.inf), starts)
        else:  # at_or_below
            keep = metric <= target + _TIE_ATOL
            best = np.maximum.reduceat(np.where(keep, metric, -np.inf), starts)
        tied = keep & (np.abs(metric - best[seg]) <= _TIE_ATOL)
    # the conservative strike among the tied rows (selection's tie-break table)
    writer = rule.side is Side.SELL
    higher = (is_call and writer) or (not is_call and not writer)
    tied_strikes = strikes[rows]
    if higher:
        pick = np.maximum.reduceat(np.where(tied, tied_strikes, -np.inf), starts)
    else:
        pick = np.minimum.reduceat(np.where(tied, tied_strikes, np.inf), starts)
    hit = np.flatnonzero(tied & (tied_strikes == pick[seg]))
    if not hit.size:
        return out
    spans_hit = seg[hit]
    if spans_hit.size > 1 and not (spans_hit[1:] != spans_hit[:-1]).all():
        once = np.ones(spans_hit.size, dtype=bool)  # two rows on one strike: the first
        once[1:] = spans_hit[1:] != spans_hit[:-1]
        hit, spans_hit = hit[once], spans_hit[once]
    rname = "C" if is_call else "P"
    label = "|delta|" if method == "delta" else f"{basis} price"
    sign = 1.0 if is_call else -1.0
    # a span with no tied row (no row at or above / below the target) is left to the caller
    for j, at in zip(spans_hit.tolist(), hit.tolist(), strict=True):
        k = int(live[j])
        i = int(rows[at])
        value = targets[j]
        if method == "strike":
            reason = f"strike={value:g}: nearest eligible {rname} strike"
            delta = math.nan
        else:
            chosen = float(metric[at])
            reason = f"{method}={value:g} ({bound}): {rname} row with {label} {chosen:.6g}"
            delta = sign * chosen if method == "delta" else math.nan
        out[k] = StrikeChoice(
            float(strikes[i]), reason, i - int(bounds[k, 0]), float(price[i]), delta, int(counts[k])
        )
    return out
