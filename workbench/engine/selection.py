"""Contract discovery: turn a rule ("the 16-delta put of the 30-45 DTE expiry") into a contract.

Pure functions over a per-tick :class:`ChainSnapshot` (one underlying, one expiry, one tick)
and over a list of listed expiries. The engine builds the snapshot from data at or before the
current tick only, so nothing here can look ahead; strategies hold :class:`Selection` rules in
their ``Config`` and the engine's ``BarContext.select`` delegates to :func:`resolve_strike`.

Conventions
-----------
- Prices are per unit of underlying, in the underlying's currency; ``NaN`` means "none".
- ``lag`` is the number of clock ticks since the row's last bar (``0`` = a bar at this tick);
  ``-1`` stands for the engine's ``lag is None`` ("nothing yet today") and makes a row ineligible.
- Delta is per unit of underlying, signed by right (calls in ``[0, 1]``, puts in ``[-1, 0]``);
  rules compare the absolute delta, so ``value=0.16`` means the 16-delta call or put.
- Time to expiry ``tte`` is in years, ACT/365 calendar time from the tick to the contract's
  settlement instant, never negative (see :func:`years_to_expiry`).
- DTE is calendar days from the selection date to the expiry date.

Strike methods (``Selection.method``) and their targets
-------------------------------------------------------
``atm``          target = spot rounded to the strike grid (half-way rounds up); without a grid,
                 the spot itself.
``otm_steps``    target = ATM target + ``value`` grid steps out of the money (up for calls, down
                 for puts); negative ``value`` goes in the money. Needs a strike grid.
``pct_spot``     target = ``value`` x spot (``0.95`` = 95 % of spot).
``strike``       target = ``value`` itself, a strike price (a wing at short strike + width).
``premium``      the option whose price (``Selection.price`` basis) is nearest ``value``, or the
                 cheapest at or above it / dearest at or below it (``bound``).
``delta``        the option whose |delta| is nearest ``value``, or the smallest at or above /
                 largest at or below it (``bound``).
``min_straddle`` the strike where call price + put price is lowest (both rights must be eligible).

Every method then picks the eligible row nearest its target.

Tie-breaks (deterministic, tested)
----------------------------------
- ``atm``: between two strikes equally near the target, the **higher** strike, for calls and puts
  alike, so both legs of a straddle land on the same strike.
- ``min_straddle``: equal straddle prices go to the strike nearest spot, then the higher strike.
- every other method: the **more conservative** strike, which depends on the side:

  ======  ==========================  ====================================================
  side    call                        put
  ======  ==========================  ====================================================
  SELL    higher strike (further OTM)  lower strike (further OTM): less risk for a writer
  BUY     lower strike (more ITM)      higher strike (more ITM): more protection for a hedger
  None    as BUY (seed 002: "prefer the higher strike for puts")
  ======  ==========================  ====================================================

- expiries: nearest to the DTE target, ties to the **earlier** expiry.

Eligibility and liquidity
-------------------------
A row is eligible when it has the requested right, a price on the chosen basis that is finite and
positive, and a bar today (``lag >= 0``); then :class:`LiquidityFilter` may demand a two-sided
quote, a bid/ask width (absolute, or as a fraction of mid), a minimum volume and open interest,
and a maximum lag. A rule that finds nothing returns ``None`` with a reason saying which step
removed the last candidate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.model.enums import ExpiryKind, Right, Side
from workbench.pricing import bs_greeks, implied_vol, years_between

__all__ = [
    "ChainSnapshot",
    "ExpiryChoice",
    "ExpiryRule",
    "LiquidityFilter",
    "Selection",
    "StrikeChoice",
    "abs_delta",
    "eligible_mask",
    "resolve_expiry",
    "resolve_strike",
    "select_contract",
    "select_expiry",
    "years_to_expiry",
]

Method = Literal["atm", "otm_steps", "pct_spot", "strike", "premium", "delta", "min_straddle"]
Bound = Literal["nearest", "at_or_above", "at_or_below"]
PriceBasis = Literal["mid", "close", "bid", "ask"]
DteBound = Literal["nearest", "at_least", "at_most"]

_TIE_ATOL = 1e-9  # absolute tolerance (price / strike / delta units) under which two targets tie


# --------------------------------------------------------------------------------------------
# time to expiry


def years_to_expiry(ts: datetime, expiry: date, settlement_clock: time) -> float:
    """Years (ACT/365) from ``ts`` to ``expiry`` at ``settlement_clock``, never negative.

    ``ts`` and the settlement clock are both exchange-local (naive); on expiry day after the
    settlement time the result is ``0.0`` and the option is worth its intrinsic value. The day
    count is :func:`workbench.pricing.year_fraction`'s, through its pure-Python scalar path
    :func:`workbench.pricing.years_between`.
    """
    return years_between(ts, datetime.combine(expiry, settlement_clock))


# --------------------------------------------------------------------------------------------
# the chain at one tick


def _float_array(name: str, values: Any, n: int | None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ChainSnapshot.{name}: not numeric ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"ChainSnapshot.{name}: expected a 1-D array, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"ChainSnapshot.{name}: length {arr.shape[0]} != {n} strikes")
    return arr


def _no_duplicates_sorted(strike: np.ndarray, is_call: np.ndarray) -> bool:
    """True when ``strike`` ascends and no (strike, right) pair repeats (a repeated pair is
    then adjacent, or one row apart); ``False`` means "not shown": check the slow way."""
    if strike.size < 2:
        return True
    same = strike[1:] == strike[:-1]
    if not bool((same | (strike[1:] > strike[:-1])).all()):
        return False
    if bool((same & (is_call[1:] == is_call[:-1])).any()):
        return False
    # three or more rows on one strike hold a repeated right
    return strike.size < 3 or not bool((same[1:] & same[:-1]).any())


def _as_is_call(values: Any, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"ChainSnapshot.right: expected {n} values, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.copy()
    out = np.empty(n, dtype=np.bool_)
    for i, value in enumerate(arr.tolist()):
        try:
            out[i] = Right.parse(value) is Right.CALL
        except ValueError as exc:
            raise ValueError(f"ChainSnapshot.right[{i}]: {exc}") from None
    return out


@dataclass(frozen=True, eq=False)
class ChainSnapshot:
    """All strikes of one expiry of one underlying as seen at one tick.

    Arrays are parallel, one entry per (strike, right) row. ``is_call`` is the right as a boolean
    mask (``right`` gives it back as ``"C"``/``"P"``). Missing values are ``NaN`` in the float
    arrays; ``lag`` is ``-1`` where the row has no bar yet today. ``volume``/``oi`` are contracts
    as reported for the row (float so that ``NaN`` can mean "not reported"). ``iv`` is annualised
    (0.20 = 20 %); ``delta`` is signed per right. ``tte`` is years to settlement (ACT/365),
    ``rate``/``div_yield`` are continuously compounded annual rates used when delta has to be
    computed. ``strike_step`` is the venue's strike grid on this day, if known.

    Use :meth:`build` (coerces and validates, fills optional columns) rather than the raw
    constructor, which expects arrays already in canonical dtypes.
    """

    underlying: str
    ts: datetime
    spot: float
    expiry: date
    tte: float
    strike: np.ndarray
    is_call: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    oi: np.ndarray
    iv: np.ndarray
    delta: np.ndarray
    lag: np.ndarray
    rate: float = 0.0
    div_yield: float = 0.0
    strike_step: float | None = None

    def __post_init__(self) -> None:
        self._check_scalars()
        self._check_rows()

    @classmethod
    def from_checked_rows(cls, **values: Any) -> ChainSnapshot:
        """A snapshot whose row arrays the caller has already checked as :meth:`__post_init__`
        would (the end-of-day path checks a day's rows once, not once per expiry); the scalar
        fields are checked as usual. Every field must be given."""
        names = _field_names(cls)
        if values.keys() != names:
            raise TypeError(f"from_checked_rows: expected the fields {sorted(names)}")
        snap = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(snap, name, value)
        snap._check_scalars()
        return snap

    def preset_quotes(self, two_sided: np.ndarray, mid_price: np.ndarray) -> None:
        """Give the snapshot its two-sided mask and mid-price column, computed by the caller
        for a larger chain (the day) exactly as :attr:`_two_sided` / :attr:`_mid_price` would
        be: read-only, one entry per row."""
        n = len(self)
        if two_sided.shape != (n,) or mid_price.shape != (n,):
            raise ValueError(f"preset_quotes: expected {n} rows, got {two_sided.shape}")
        self.__dict__["_two_sided"] = two_sided
        self.__dict__["_mid_price"] = mid_price

    @staticmethod
    def rows_ok(strike: np.ndarray, is_call: np.ndarray, delta: np.ndarray) -> bool:
        """True when rows pass :meth:`__post_init__`'s strike and delta checks (the caller
        checks that no (strike, right) repeats); ``False``: build the checked way, which says
        what is wrong."""
        if strike.size == 0:
            return True
        with np.errstate(invalid="ignore"):
            if not bool((np.isfinite(strike) & (strike > 0)).all()):
                return False
            wrong = np.isfinite(delta) & np.where(is_call, delta < -1e-9, delta > 1e-9) | (
                np.abs(delta) > 1.0 + 1e-9
            )
        return not bool(wrong.any())

    def _check_scalars(self) -> None:
        if not isinstance(self.underlying, str) or not self.underlying:
            raise ValueError(f"ChainSnapshot.underlying: expected a name, got {self.underlying!r}")
        if not (isinstance(self.spot, int | float) and math.isfinite(self.spot) and self.spot > 0):
            raise ValueError(f"ChainSnapshot.spot: expected a positive price, got {self.spot!r}")
        if not (math.isfinite(self.tte) and self.tte >= 0):
            raise ValueError(f"ChainSnapshot.tte: expected years >= 0, got {self.tte!r}")
        if self.strike_step is not None and not (
            math.isfinite(self.strike_step) and self.strike_step > 0
        ):
            raise ValueError(f"ChainSnapshot.strike_step: expected > 0, got {self.strike_step!r}")

    def _check_rows(self) -> None:
        n = self.strike.shape[0]
        for name in ("is_call", "bid", "ask", "close", "volume", "oi", "iv", "delta", "lag"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.shape != (n,):
                raise ValueError(f"ChainSnapshot.{name}: expected an array of {n} values")
        bad = np.flatnonzero(~(np.isfinite(self.strike) & (self.strike > 0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"ChainSnapshot.strike[{i}]: expected a positive strike, got {float(self.strike[i])!r}"
            )
        if not _no_duplicates_sorted(self.strike, self.is_call):
            keys = self.strike * 2.0 + self.is_call
            _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        else:  # rows ordered by strike (a canonical file's order) without a repeated pair
            counts = first = np.zeros(0, dtype=np.int64)
        if (counts > 1).any():
            i = int(first[np.argmax(counts > 1)])
            right = "C" if self.is_call[i] else "P"
            raise ValueError(
                f"ChainSnapshot: duplicate row for strike {self.strike[i]:g} {right} "
                f"({self.underlying} {self.expiry})"
            )
        wrong_sign = np.flatnonzero(
            np.isfinite(self.delta) & np.where(self.is_call, self.delta < -1e-9, self.delta > 1e-9)
            | (np.abs(self.delta) > 1.0 + 1e-9)
        )
        if wrong_sign.size:
            i = int(wrong_sign[0])
            right = "C" if self.is_call[i] else "P"
            raise ValueError(
                f"ChainSnapshot.delta[{i}]: {float(self.delta[i])!r} for strike {self.strike[i]:g} {right}; "
                "deltas must be signed per right (calls 0..1, puts -1..0)"
            )

    @classmethod
    def build(
        cls,
        *,
        underlying: str,
        ts: datetime,
        spot: float,
        expiry: date,
        tte: float,
        strike: Any,
        right: Any,
        bid: Any = None,
        ask: Any = None,
        close: Any = None,
        volume: Any = None,
        oi: Any = None,
        iv: Any = None,
        delta: Any = None,
        lag: Any = None,
        rate: float = 0.0,
        div_yield: float = 0.0,
        strike_step: float | None = None,
    ) -> ChainSnapshot:
        """Coerce array-likes, default missing columns to ``NaN`` (``lag`` to ``0``), validate.

        ``right`` is ``"C"``/``"P"`` (or anything :meth:`Right.parse` accepts) or a boolean
        is-call mask.
        """
        strikes = _float_array("strike", strike, None)
        n = strikes.shape[0]

        def opt(name: str, values: Any) -> np.ndarray:
            if values is None:
                return np.full(n, np.nan)
            return _float_array(name, values, n)

        if lag is None:
            lags = np.zeros(n, dtype=np.int64)
        else:
            raw = np.asarray([(-1 if v is None else v) for v in np.asarray(lag, dtype=object)])
            lag_f = _float_array("lag", raw, n)
            lag_f = np.where(np.isnan(lag_f), -1.0, lag_f)
            if (lag_f != np.round(lag_f)).any() or (lag_f < -1).any():
                raise ValueError(
                    "ChainSnapshot.lag: expected whole numbers of ticks (>= 0, or -1/None)"
                )
            lags = lag_f.astype(np.int64)
        return cls(
            underlying=underlying,
            ts=ts,
            spot=float(spot),
            expiry=expiry,
            tte=float(tte),
            strike=strikes,
            is_call=_as_is_call(right, n),
            bid=opt("bid", bid),
            ask=opt("ask", ask),
            close=opt("close", close),
            volume=opt("volume", volume),
            oi=opt("oi", oi),
            iv=opt("iv", iv),
            delta=opt("delta", delta),
            lag=lags,
            rate=float(rate),
            div_yield=float(div_yield),
            strike_step=None if strike_step is None else float(strike_step),
        )

    @classmethod
    def from_frame(cls, frame: Any, **scalars: Any) -> ChainSnapshot:
        """Build from a pandas DataFrame (or a mapping of columns) with ``strike``, ``right`` and
        any of ``bid, ask, close, volume, oi, iv, delta, lag``; scalars as in :meth:`build`."""
        columns: Mapping[str, Any] = frame
        names = set(getattr(frame, "columns", columns.keys()))
        for required in ("strike", "right"):
            if required not in names:
                raise ValueError(f"ChainSnapshot.from_frame: missing column {required!r}")
        arrays: dict[str, Any] = {
            name: np.asarray(columns[name])
            for name in (
                "strike",
                "right",
                "bid",
                "ask",
                "close",
                "volume",
                "oi",
                "iv",
                "delta",
                "lag",
            )
            if name in names
        }
        return cls.build(**scalars, **arrays)

    def __len__(self) -> int:
        return int(self.strike.shape[0])

    @property
    def right(self) -> np.ndarray:
        """The right of each row as ``"C"``/``"P"``."""
        return np.where(self.is_call, "C", "P")

    @cached_property
    def _two_sided(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (
                np.isfinite(self.bid)
                & np.isfinite(self.ask)
                & (self.bid >= 0)
                & (self.ask > 0)
                & (self.ask >= self.bid)
            )

    @cached_property
    def _mid_price(self) -> np.ndarray:
        return np.where(self._two_sided, 0.5 * (self.bid + self.ask), self.close)

    @property
    def _memo(self) -> dict[Any, Any]:
        """Per-snapshot results of the selection helpers (a snapshot's arrays are never changed
        after it is built; every selection call of a day shares the snapshot)."""
        memo: dict[Any, Any] | None = self.__dict__.get("_memo_d")
        if memo is None:
            memo = self.__dict__["_memo_d"] = {}
        return memo

    @property
    def two_sided(self) -> np.ndarray:
        """Rows with a usable quote: finite bid >= 0, finite ask > 0, ask >= bid."""
        return self._two_sided.copy()

    @property
    def mid(self) -> np.ndarray:
        """(bid + ask) / 2 where the quote is two-sided, else ``NaN``."""
        return np.where(self._two_sided, 0.5 * (self.bid + self.ask), np.nan)

    def price(self, basis: PriceBasis = "mid") -> np.ndarray:
        """Price per unit on a basis: ``mid`` (two-sided mid, falling back to the bar close where
        there is no quote), ``close``, ``bid`` or ``ask``. ``NaN`` where there is none."""
        if basis == "mid":
            return self._mid_price.copy()
        if basis == "close":
            return self.close.copy()
        if basis == "bid":
            return self.bid.copy()
        if basis == "ask":
            return self.ask.copy()
        raise ValueError(f"price basis {basis!r} is not one of mid, close, bid, ask")

    def row(self, strike: float, right: Right | str) -> int | None:
        """Index of the (strike, right) row, or ``None`` when the chain does not list it."""
        is_call = Right.parse(right) is Right.CALL
        hits = np.flatnonzero(
            (self.is_call == is_call) & np.isclose(self.strike, strike, rtol=0, atol=1e-9)
        )
        return int(hits[0]) if hits.size else None


# --------------------------------------------------------------------------------------------
# rules


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LiquidityFilter(_Frozen):
    """Rows a rule may choose from. ``None`` disables a check.

    ``max_spread``      ask - bid, in price units per unit of underlying.
    ``max_spread_pct``  (ask - bid) / mid as a fraction (0.08 = 8 % of mid).
    ``min_volume``      contracts, as reported on the row.
    ``min_oi``          open interest, contracts.
    ``max_lag``         ticks since the row's last bar (0 = only rows with a bar at this tick).
    ``require_quote``   demand a two-sided bid/ask (implied by either spread check).
    """

    max_spread: float | None = Field(default=None, gt=0)
    max_spread_pct: float | None = Field(default=None, gt=0)
    min_volume: float | None = Field(default=None, ge=0)
    min_oi: float | None = Field(default=None, ge=0)
    max_lag: int | None = Field(default=None, ge=0)
    require_quote: bool = False


class ExpiryRule(_Frozen):
    """Which listed expiry: filters first (``kind``, ``dte_window``), then one pick.

    ``index``       n-th remaining expiry, 0 = nearest (the default when ``dte`` is not given).
    ``kind``        ``weekly`` or ``monthly`` (:class:`~workbench.model.enums.ExpiryKind`; the
                    venue's monthly contract is ``monthly``, every other expiry ``weekly``).
    ``dte``         target calendar days to expiry; ``dte_bound`` picks the nearest (ties to the
                    earlier), the first at or beyond (``at_least``) or the last at or before
                    (``at_most``) the target.
    ``dte_window``  inclusive (min, max) calendar days to expiry.
    """

    index: int | None = Field(default=None, ge=0)
    kind: ExpiryKind | None = None
    dte: int | None = Field(default=None, ge=0)
    dte_bound: DteBound = "nearest"
    dte_window: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _check(self) -> ExpiryRule:
        if self.index is not None and self.dte is not None:
            raise ValueError("index and dte: give one of them, not both")
        if self.dte_window is not None:
            lo, hi = self.dte_window
            if lo < 0 or hi < lo:
                raise ValueError(f"dte_window: expected 0 <= min <= max, got {self.dte_window}")
        if self.dte is None and self.dte_bound != "nearest":
            raise ValueError("dte_bound: only meaningful with dte")
        return self


_VALUE_NEEDED: dict[str, str] = {
    "otm_steps": "a whole number of strike steps",
    "pct_spot": "a fraction of spot > 0 (0.95 = 95 %)",
    "strike": "a strike price > 0",
    "premium": "a price > 0",
    "delta": "an absolute delta in (0, 1)",
}


class Selection(_Frozen):
    """A contract rule a strategy can hold in its ``Config``: expiry rule + strike rule + filters.

    See the module docstring for the methods, targets and tie-breaks. ``side`` (``BUY``/``SELL``)
    only affects tie-breaks; ``bound`` applies to ``premium`` and ``delta``; ``price`` is the
    price basis used by ``premium``, ``min_straddle``, eligibility and implied-vol backing;
    ``strike_step`` overrides the snapshot's grid.
    """

    method: Method = "atm"
    value: float | None = None
    bound: Bound = "nearest"
    side: Side | None = None
    price: PriceBasis = "mid"
    strike_step: float | None = Field(default=None, gt=0)
    filters: LiquidityFilter = LiquidityFilter()
    expiry: ExpiryRule = ExpiryRule()

    @model_validator(mode="after")
    def _check(self) -> Selection:
        m, v = self.method, self.value
        if m in ("atm", "min_straddle"):
            if v is not None:
                raise ValueError(f"value: method {m!r} takes no value, got {v!r}")
        else:
            if v is None or not math.isfinite(v):
                raise ValueError(f"value: method {m!r} needs {_VALUE_NEEDED[m]}, got {v!r}")
            if m == "otm_steps" and v != round(v):
                raise ValueError(f"value: method 'otm_steps' needs {_VALUE_NEEDED[m]}, got {v!r}")
            if m in ("pct_spot", "strike", "premium") and v <= 0:
                raise ValueError(f"value: method {m!r} needs {_VALUE_NEEDED[m]}, got {v!r}")
            if m == "delta" and not 0 < v < 1:
                raise ValueError(f"value: method 'delta' needs {_VALUE_NEEDED[m]}, got {v!r}")
        if self.bound != "nearest" and m not in ("premium", "delta"):
            raise ValueError(f"bound: {self.bound!r} applies to premium and delta only, not {m!r}")
        return self


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class StrikeChoice:
    """Outcome of a strike rule: the strike (``None`` if nothing qualified) and why.

    ``row`` indexes the snapshot; ``price`` is on the rule's basis; ``delta`` is signed (``NaN``
    unless the method needed it); ``candidates`` counts eligible rows after filters.
    """

    strike: float | None
    reason: str
    row: int | None = None
    price: float = math.nan
    delta: float = math.nan
    candidates: int = 0

    @property
    def found(self) -> bool:
        return self.strike is not None


@dataclass(frozen=True, slots=True)
class ExpiryChoice:
    """Outcome of an expiry rule: the expiry (``None`` if nothing qualified), its DTE and why."""

    expiry: date | None
    reason: str
    dte: int | None = None

    @property
    def found(self) -> bool:
        return self.expiry is not None


# --------------------------------------------------------------------------------------------
# eligibility


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    """A dataclass's field names, found once per class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(cls))
    return names


def eligible_mask(
    snapshot: ChainSnapshot, is_call: bool, filters: LiquidityFilter, basis: PriceBasis = "mid"
) -> tuple[np.ndarray, str]:
    """Rows of one right that a rule may choose; with the step that emptied it, if any.

    Returns ``(mask, reason)``; ``reason`` is empty when at least one row is eligible.
    """
    key = ("eligible", bool(is_call), filters, basis)
    memo = snapshot._memo
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = _eligible_mask(snapshot, is_call, filters, basis)
    return hit[0].copy(), hit[1]


def _eligible_rows(
    snapshot: ChainSnapshot, is_call: bool, filters: LiquidityFilter, basis: PriceBasis
) -> tuple[np.ndarray, str]:
    """:func:`eligible_mask` as the eligible rows' indices, ascending (kept on the snapshot,
    read-only: every rule on this right, filters and basis reads the same)."""
    key = ("eligible_rows", bool(is_call), filters, basis)
    memo = snapshot._memo
    hit = memo.get(key)
    if hit is None:
        mask, why = eligible_mask(snapshot, is_call, filters, basis)
        rows = np.flatnonzero(mask)
        rows.flags.writeable = False
        hit = memo[key] = (rows, why)
    return hit  # type: ignore[no-any-return]


def _eligible_mask(
    snapshot: ChainSnapshot, is_call: bool, filters: LiquidityFilter, basis: PriceBasis
) -> tuple[np.ndarray, str]:
    right = "C" if is_call else "P"
    mask = snapshot.is_call == is_call
    steps: list[tuple[str, np.ndarray]] = []
    price = snapshot._mid_price if basis == "mid" else snapshot.price(basis)
    with np.errstate(invalid="ignore"):
        steps.append(("a bar today (lag >= 0)", snapshot.lag >= 0))
        steps.append((f"a positive {basis} price", np.isfinite(price) & (price > 0)))
        if filters.max_lag is not None:
            steps.append((f"lag <= max_lag={filters.max_lag}", snapshot.lag <= filters.max_lag))
        needs_quote = (
            filters.require_quote
            or filters.max_spread is not None
            or filters.max_spread_pct is not None
        )
        if needs_quote:
            steps.append(("a two-sided bid/ask quote", snapshot._two_sided))
        width = snapshot.ask - snapshot.bid
        if filters.max_spread is not None:
            steps.append(
                (
                    f"ask - bid <= max_spread={filters.max_spread:g}",
                    width <= filters.max_spread + _TIE_ATOL,
                )
            )
        if filters.max_spread_pct is not None:
            pct = width / snapshot.mid
            steps.append(
                (
                    f"(ask - bid)/mid <= max_spread_pct={filters.max_spread_pct:g}",
                    pct <= filters.max_spread_pct + 1e-12,
                )
            )
        if filters.min_volume is not None:
            steps.append(
                (
                    f"volume >= min_volume={filters.min_volume:g}",
                    snapshot.volume >= filters.min_volume,
                )
            )
        if filters.min_oi is not None:
            steps.append((f"oi >= min_oi={filters.min_oi:g}", snapshot.oi >= filters.min_oi))
    if not mask.any():
        return mask, f"the {snapshot.underlying} {snapshot.expiry} chain has no {right} rows"
    for label, ok in steps:
        kept = mask & ok
        if not kept.any():
            before = int(mask.sum())
            return kept, f"no {right} row has {label} ({before} {right} rows before this check)"
        mask = kept
    return mask, ""


# --------------------------------------------------------------------------------------------
# delta


def abs_delta(snapshot: ChainSnapshot, rows: np.ndarray, basis: PriceBasis = "mid") -> np.ndarray:
    """|delta| for ``rows`` (integer indices): the chain's delta where present, else Black-Scholes
    delta from the chain's iv, else from the iv implied by the row's price on ``basis``
    (:func:`workbench.pricing.implied_vol`). ``NaN`` where no volatility reproduces the price.
    At ``tte == 0`` the delta is the payoff's: 1 in the money, 0 out, 0.5 at the money."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.abs(snapshot.delta[rows])
    todo = np.flatnonzero(~np.isfinite(out))
    if todo.size == 0:
        return out
    idx = rows[todo]
    strikes = snapshot.strike[idx]
    calls = snapshot.is_call[idx]
    spot = snapshot.spot
    if snapshot.tte <= 0.0:
        moneyness = np.where(calls, spot - strikes, strikes - spot)
        out[todo] = np.where(moneyness > 0, 1.0, np.where(moneyness < 0, 0.0, 0.5))
        return out
    sigma = snapshot.iv[idx].copy()
    need_iv = ~(np.isfinite(sigma) & (sigma > 0))
    if need_iv.any():
        prices = snapshot.price(basis)[idx[need_iv]]
        sigma[need_iv] = implied_vol(
            prices,
            np.full(prices.shape, spot),
            strikes[need_iv],
            np.full(prices.shape, snapshot.tte),
            np.full(prices.shape, snapshot.rate),
            calls[need_iv],
            q=np.full(prices.shape, snapshot.div_yield),
        )
    ok = np.isfinite(sigma) & (sigma > 0)
    if ok.any():
        greeks = bs_greeks(
            np.full(int(ok.sum()), spot),
            strikes[ok],
            np.full(int(ok.sum()), snapshot.tte),
            np.full(int(ok.sum()), snapshot.rate),
            sigma[ok],
            calls[ok],
            q=np.full(int(ok.sum()), snapshot.div_yield),
        )
        filled = np.full(todo.shape, np.nan)
        filled[ok] = np.abs(np.asarray(greeks["delta"], dtype=np.float64))
        out[todo] = filled
    return out


# --------------------------------------------------------------------------------------------
# strike rules


def _conservative_pick(
    candidates: np.ndarray, strikes: np.ndarray, is_call: bool, side: Side | None
) -> int:
    """Among tied rows, the conservative one (see the module docstring's table)."""
    writer = side is Side.SELL
    prefer_higher = (is_call and writer) or (not is_call and not writer)
    values = strikes[candidates]
    return int(candidates[np.argmax(values) if prefer_higher else np.argmin(values)])


def _nearest(
    rows: np.ndarray, metric: np.ndarray, target: float, pick: Callable[[np.ndarray], int]
) -> int:
    distance = np.abs(metric - target)
    best = distance.min()
    tied = rows[distance <= best + _TIE_ATOL]
    return pick(tied)


def _grid(snapshot: ChainSnapshot, rule: Selection) -> float | None:
    return rule.strike_step if rule.strike_step is not None else snapshot.strike_step


def atm_target(spot: float, strike_step: float | None) -> float:
    """Spot rounded to the strike grid, half-way rounding up; the spot itself without a grid."""
    if strike_step is None:
        return float(spot)
    return float(math.floor(spot / strike_step + 0.5) * strike_step)


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def resolve_strike(snapshot: ChainSnapshot, right: Right | str, rule: Selection) -> StrikeChoice:
    """Apply ``rule``'s strike method to ``snapshot`` for ``right``; see the module docstring.

    Never raises for an empty result: a rule that finds nothing returns a choice with
    ``strike=None`` and the reason. Raises ``ValueError`` naming the parameter when the rule
    needs a strike grid (``otm_steps``) and neither the rule nor the snapshot has one.
    """
    is_call = Right.parse(right) is Right.CALL
    rname = "C" if is_call else "P"
    side = rule.side
    strikes = snapshot.strike
    basis = rule.price

    if rule.method == "min_straddle":
        return _min_straddle(snapshot, rule, is_call)

    rows, why = _eligible_rows(snapshot, is_call, rule.filters, basis)
    if why:
        return StrikeChoice(None, why)
    price = snapshot._mid_price if basis == "mid" else snapshot.price(basis)
    n = int(rows.size)

    def conservative(tied: np.ndarray) -> int:
        return _conservative_pick(tied, strikes, is_call, side)

    def done(i: int, reason: str, delta: float = math.nan) -> StrikeChoice:
        return StrikeChoice(float(strikes[i]), reason, i, float(price[i]), delta, n)

    method = rule.method
    if method == "atm":
        target = atm_target(snapshot.spot, _grid(snapshot, rule))
        i = _nearest(rows, strikes[rows], target, lambda t: int(t[np.argmax(strikes[t])]))
        return done(
            i,
            f"atm: nearest eligible {rname} strike to {_fmt(target)} (spot {_fmt(snapshot.spot)})",
        )

    assert rule.value is not None  # the validator guarantees it for the remaining methods
    value = float(rule.value)
    if method == "otm_steps":
        step = _grid(snapshot, rule)
        if step is None:
            raise ValueError(
                "strike_step: method 'otm_steps' needs a strike grid; set Selection.strike_step "
                "or ChainSnapshot.strike_step"
            )
        direction = 1.0 if is_call else -1.0
        target = atm_target(snapshot.spot, step) + direction * value * step
        i = _nearest(rows, strikes[rows], target, conservative)
        return done(i, f"otm_steps={value:g}: nearest eligible {rname} strike to {_fmt(target)}")

    if method == "pct_spot":
        target = value * snapshot.spot
        i = _nearest(rows, strikes[rows], target, conservative)
        return done(i, f"pct_spot={value:g}: nearest eligible {rname} strike to {_fmt(target)}")

    if method == "strike":
        i = _nearest(rows, strikes[rows], value, conservative)
        return done(i, f"strike={value:g}: nearest eligible {rname} strike")

    if method == "premium":
        return _by_metric(
            rule, rows, price[rows], value, f"{basis} price", conservative, done, rname, None
        )

    # delta (the same for every rule with this right, filters and basis: kept on the snapshot,
    # with the rows that have one)
    key = ("abs_delta", is_call, rule.filters, basis)
    memo = snapshot._memo
    known = memo.get(key)
    if known is None:
        deltas = abs_delta(snapshot, rows, basis)
        finite = np.isfinite(deltas)
        known = memo[key] = (rows[finite], deltas[finite])
    if not known[0].size:
        return StrikeChoice(
            None, f"delta: no eligible {rname} row has a delta or an implied vol", candidates=n
        )
    sign = 1.0 if is_call else -1.0
    return _by_metric(rule, known[0], known[1], value, "|delta|", conservative, done, rname, sign)


def _by_metric(
    rule: Selection,
    rows: np.ndarray,
    metric: np.ndarray,
    value: float,
    label: str,
    conservative: Callable[[np.ndarray], int],
    done: Callable[..., StrikeChoice],
    rname: str,
    delta_sign: float | None,
) -> StrikeChoice:
    """Nearest / at-or-above / at-or-below a target on ``metric`` (premium or |delta|)."""
    bound = rule.bound
    if bound == "nearest":
        distance = np.abs(metric - value)
        # within the tolerance of the nearest row's own distance, |best - value|
        tied = rows[distance <= distance[int(np.argmin(distance))] + _TIE_ATOL]
    else:
        if bound == "at_or_above":
            keep = metric >= value - _TIE_ATOL
            if not keep.any():
                return StrikeChoice(
                    None,
                    f"{rule.method}: no eligible {rname} row has {label} at or above {value:g} "
                    f"(highest {metric.max():.6g})",
                    candidates=int(rows.size),
                )
            sub_rows, sub = rows[keep], metric[keep]
            best = sub.min()
        else:  # at_or_below
            keep = metric <= value + _TIE_ATOL
            if not keep.any():
                return StrikeChoice(
                    None,
                    f"{rule.method}: no eligible {rname} row has {label} at or below {value:g} "
                    f"(lowest {metric.min():.6g})",
                    candidates=int(rows.size),
                )
            sub_rows, sub = rows[keep], metric[keep]
            best = sub.max()
        tied = sub_rows[np.abs(sub - best) <= _TIE_ATOL]
    i = conservative(tied)
    # rows ascend (eligible rows in chain order): the chosen row's metric by a search
    chosen = float(metric[int(np.searchsorted(rows, i))])
    reason = f"{rule.method}={value:g} ({bound}): {rname} row with {label} {chosen:.6g}"
    if delta_sign is not None:
        return done(i, reason, delta_sign * chosen)
    return done(i, reason)


def _min_straddle(snapshot: ChainSnapshot, rule: Selection, is_call: bool) -> StrikeChoice:
    calls, why_c = eligible_mask(snapshot, True, rule.filters, rule.price)
    if why_c:
        return StrikeChoice(None, f"min_straddle: {why_c}")
    puts, why_p = eligible_mask(snapshot, False, rule.filters, rule.price)
    if why_p:
        return StrikeChoice(None, f"min_straddle: {why_p}")
    price = snapshot.price(rule.price)
    strikes = snapshot.strike
    call_by_strike = {float(strikes[i]): int(i) for i in np.flatnonzero(calls)}
    put_by_strike = {float(strikes[i]): int(i) for i in np.flatnonzero(puts)}
    common = sorted(set(call_by_strike) & set(put_by_strike))
    if not common:
        return StrikeChoice(
            None, "min_straddle: no strike has both an eligible call and an eligible put"
        )
    totals = np.array([price[call_by_strike[k]] + price[put_by_strike[k]] for k in common])
    ks = np.array(common)
    best = totals.min()
    tied = np.flatnonzero(totals <= best + _TIE_ATOL)
    dist = np.abs(ks[tied] - snapshot.spot)
    tied = tied[dist <= dist.min() + _TIE_ATOL]
    k = float(ks[tied].max())
    i = call_by_strike[k] if is_call else put_by_strike[k]
    return StrikeChoice(
        k,
        f"min_straddle: strike {_fmt(k)} has the lowest call + put {rule.price} price {best:.6g}",
        i,
        float(price[i]),
        math.nan,
        len(common),
    )


def select_contract(
    snapshot: ChainSnapshot, *, right: Right | str, rule: Selection | None = None, **params: Any
) -> float | None:
    """The strike a rule selects, or ``None``; the engine's single entry point.

    Pass either a ready ``rule`` or the :class:`Selection` fields as keyword arguments
    (``method, value, bound, side, price, strike_step, filters``), e.g.
    ``select_contract(snap, right="P", method="delta", value=0.16, side="SELL")``. Use
    :func:`resolve_strike` to also get the reason, price and delta.
    """
    if rule is not None and params:
        raise ValueError(
            f"select_contract: give a rule or rule fields, not both (got {sorted(params)})"
        )
    chosen = rule if rule is not None else Selection(**params)
    return resolve_strike(snapshot, right, chosen).strike


# --------------------------------------------------------------------------------------------
# expiries


def resolve_expiry(
    expiries: Iterable[date],
    on: date,
    rule: ExpiryRule,
    *,
    underlying: str | None = None,
    kind_of: Callable[[str, date], ExpiryKind] | None = None,
) -> ExpiryChoice:
    """Apply an expiry rule to the expiries listed on ``on`` (expiries before ``on`` are dropped;
    ``on`` itself counts, DTE 0). ``kind`` needs ``underlying``; ``kind_of`` defaults to
    :func:`workbench.model.calendars.expiry_kind`."""
    listed: list[date] = []
    for i, e in enumerate(expiries):
        if isinstance(e, datetime) or not isinstance(e, date):
            raise ValueError(f"expiries[{i}]: expected a date, got {e!r}")
        listed.append(e)
    live = sorted({e for e in listed if e >= on})
    if not live:
        return ExpiryChoice(None, f"no expiry listed on or after {on} ({len(listed)} listed)")
    if rule.kind is not None:
        if underlying is None:
            raise ValueError("underlying: needed to classify expiries when kind is given")
        if kind_of is None:
            from workbench.model.calendars import expiry_kind

            kind_of = expiry_kind
        live = [e for e in live if kind_of(underlying, e) == rule.kind]
        if not live:
            return ExpiryChoice(None, f"no {rule.kind.value} expiry listed on or after {on}")
    dtes = [(e - on).days for e in live]
    if rule.dte_window is not None:
        lo, hi = rule.dte_window
        pairs = [(e, d) for e, d in zip(live, dtes) if lo <= d <= hi]
        if not pairs:
            return ExpiryChoice(
                None, f"no expiry with {lo} <= DTE <= {hi} on {on} (DTEs {dtes[:8]})"
            )
        live, dtes = [e for e, _ in pairs], [d for _, d in pairs]
    if rule.dte is not None:
        target = rule.dte
        if rule.dte_bound == "at_least":
            pick = next((k for k, d in enumerate(dtes) if d >= target), None)
        elif rule.dte_bound == "at_most":
            below = [k for k, d in enumerate(dtes) if d <= target]
            pick = below[-1] if below else None
        else:
            pick = min(range(len(dtes)), key=lambda k: (abs(dtes[k] - target), dtes[k]))
        if pick is None:
            return ExpiryChoice(
                None, f"no expiry with DTE {rule.dte_bound} {target} on {on} (DTEs {dtes[:8]})"
            )
        return ExpiryChoice(
            live[pick], f"dte {rule.dte_bound} {target}: DTE {dtes[pick]}", dtes[pick]
        )
    index = rule.index or 0
    if index >= len(live):
        return ExpiryChoice(
            None, f"expiry index {index} out of range: {len(live)} qualifying expiries on {on}"
        )
    return ExpiryChoice(live[index], f"expiry index {index}: DTE {dtes[index]}", dtes[index])


def select_expiry(
    expiries: Sequence[date],
    on: date,
    *,
    index: int | None = None,
    kind: ExpiryKind | str | None = None,
    dte: int | None = None,
    dte_window: tuple[int, int] | None = None,
    dte_bound: DteBound = "nearest",
    underlying: str | None = None,
    kind_of: Callable[[str, date], ExpiryKind] | None = None,
) -> date | None:
    """The expiry an :class:`ExpiryRule` built from the keywords selects, or ``None``.

    Use :func:`resolve_expiry` to also get the reason.
    """
    rule = ExpiryRule(
        index=index,
        kind=None if kind is None else ExpiryKind(kind),
        dte=dte,
        dte_window=dte_window,
        dte_bound=dte_bound,
    )
    return resolve_expiry(expiries, on, rule, underlying=underlying, kind_of=kind_of).expiry
