"""Margin models: the capital a position of option legs ties up, in the option's currency.

Every model implements :class:`MarginModel` -- ``margin(legs, spot) -> float`` for a sequence of
:class:`~workbench.execution.payoff.PositionLeg` (signed units = contracts x lot size / multiplier;
``price`` = the leg's current mark per unit) -- and has ``name``, ``describe()`` and ``spec``.
:func:`parse_margin` builds one from a spec string.

* :class:`DefinedRisk` -- the worst expiry loss of the combined payoff (seed 000 payoff/margin
  grids, seed 003 "portfolio heat" = sum of max losses). For a credit vertical: width x units
  minus the credit. Positions with unbounded loss (net short calls) are refused with
  :class:`UndefinedRiskError`.
* :class:`RegTIndex` -- a Reg-T / CBOE-style strategy-based requirement for US index options.
* :class:`SpanLike` -- an approximation of NSE's SPAN plus exposure margin, by full revaluation
  of the position over a price/volatility scenario grid with Black-Scholes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from workbench.execution.payoff import LegArrays, PositionLeg, max_loss_at_expiry
from workbench.execution.spec import SpecError, parse_spec


class MarginUnavailableError(ValueError):
    """The model cannot compute a margin for this position (callers may record a warning)."""


class UndefinedRiskError(MarginUnavailableError):
    """The position's loss is unbounded, so a defined-risk margin does not exist."""


class MissingVolatilityError(MarginUnavailableError):
    """A leg with time to expiry left has no volatility to revalue it with."""


@runtime_checkable
class MarginModel(Protocol):
    name: ClassVar[str]

    def margin(self, legs: Sequence[PositionLeg], spot: float) -> float: ...

    def describe(self) -> dict[str, Any]: ...

    @property
    def spec(self) -> str: ...


def _spot(spot: float) -> float:
    try:
        s = float(spot)
    except (TypeError, ValueError):
        raise ValueError(f"spot must be a positive finite price, got {spot!r}") from None
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"spot must be a positive finite price, got {spot!r}")
    return s


def _rate(value: float, parameter: str, *, upper: float = 1.0, allow_zero: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or v > upper or (v == 0 and not allow_zero):
        low = "[0" if allow_zero else "(0"
        raise ValueError(f"{parameter} must be in {low}, {upper:g}], got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class DefinedRisk:
    """Margin = the worst loss at expiry over all underlying prices, net of premium.

    With ``legs[i].price`` the premium per unit (received for shorts), a short vertical of
    width ``w`` on ``u`` units that took in ``c`` per unit needs ``w x u - c x u``. Positions
    without short legs need nothing (premium is paid in full). ``spot`` is not used (the
    requirement does not depend on it) but checked, so every model has the same call.
    """

    name: ClassVar[str] = "defined-risk"

    def margin(self, legs: Sequence[PositionLeg], spot: float) -> float:
        _spot(spot)
        arr = LegArrays.from_legs(legs)
        if len(arr) == 0 or not (arr.units < 0).any():
            return 0.0
        loss = max_loss_at_expiry(arr)
        if math.isinf(loss):
            raise UndefinedRiskError(
                "position has unbounded loss (more calls sold than bought); "
                "DefinedRisk margin does not apply -- use RegTIndex or SpanLike"
            )
        return loss

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    @property
    def spec(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class RegTIndex:
    """Strategy-based (Reg-T / CBOE Rule 10.3, FINRA 4210(f)(2)) requirement for index options.

    Naked short option of ``u`` units with current premium ``P`` per unit, underlying ``S``,
    strike ``K``::

        req = u x (P + max(base_rate x S - OTM, min_rate x X))

    where ``OTM = max(K - S, 0)`` for a call and ``max(S - K, 0)`` for a put, and ``X = S`` for a
    call, ``K`` for a put (the "floor" rule). Broad-based index options: ``base_rate = 0.15``,
    ``min_rate = 0.10`` (equity and narrow-based index options: 0.20 / 0.10).

    A position:

    * no short legs: 0 (long options are paid for in full);
    * short legs with bounded loss and long legs (verticals, iron condors, butterflies): the
      lesser of the worst expiry loss net of premium (:class:`DefinedRisk`) and the naked total;
    * otherwise (naked shorts, straddles/strangles, ratio spreads): for each side (calls, puts)
      the sum of its short legs' naked requirements; with both sides short, the larger side's
      requirement plus the premium (``P x u``) of the other side's shorts (the short
      straddle/strangle rule); with one side, that side's requirement.
    """

    base_rate: float = 0.15
    min_rate: float = 0.10
    name: ClassVar[str] = "reg-t"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_rate", _rate(self.base_rate, "base_rate", allow_zero=False))
        object.__setattr__(self, "min_rate", _rate(self.min_rate, "min_rate"))

    def naked(self, leg: PositionLeg, spot: float) -> float:
        """Naked requirement of one short leg (``leg.units < 0``); 0 for a long leg."""
        s = _spot(spot)
        if leg.units >= 0:
            return 0.0
        u = -leg.units
        if leg.is_call:
            otm, floor_base = max(leg.strike - s, 0.0), s
        else:
            otm, floor_base = max(s - leg.strike, 0.0), leg.strike
        return u * (leg.price + max(self.base_rate * s - otm, self.min_rate * floor_base))

    def margin(self, legs: Sequence[PositionLeg], spot: float) -> float:
        s = _spot(spot)
        items = list(legs)
        arr = LegArrays.from_legs(items)
        shorts = [leg for leg in items if leg.units < 0]
        if not shorts:
            return 0.0
        call_req = sum(self.naked(x, s) for x in shorts if x.is_call)
        put_req = sum(self.naked(x, s) for x in shorts if not x.is_call)
        call_prem = sum(-x.units * x.price for x in shorts if x.is_call)
        put_prem = sum(-x.units * x.price for x in shorts if not x.is_call)
        if call_req > 0 and put_req > 0:
            naked_total = max(call_req + put_prem, put_req + call_prem)
        else:
            naked_total = call_req + put_req
        if (arr.units > 0).any():
            loss = max_loss_at_expiry(arr)
            if math.isfinite(loss):
                return min(loss, naked_total)
        return naked_total

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "base_rate": self.base_rate, "min_rate": self.min_rate}

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.base_rate!r},min={self.min_rate!r}"


@dataclass(frozen=True, slots=True)
class SpanLike:
    """An approximation of NSE SPAN + exposure margin for index options.

    Scenarios (the 16 of SPAN): underlying moves of 0, +-1/3, +-2/3 and +-3/3 of ``price_scan x
    spot``, each with volatility up and down by ``vol_scan`` (absolute, e.g. 0.04 = 4 vol
    points), plus two extreme moves of +-``extreme_multiple x price_scan x spot`` at unchanged
    volatility whose loss counts at ``extreme_weight`` (35%). Each leg is revalued with
    Black-Scholes (:func:`workbench.pricing.bs_price`, rates ``r`` and ``q``) at its own
    ``years`` to expiry and ``sigma`` (legs without one use ``fallback_sigma`` when given, else
    :class:`MissingVolatilityError`); a leg at expiry is worth its intrinsic value. The scan
    risk is the largest loss ``V(base) - V(scenario)`` over the scenarios.

    Requirement for a position with short legs::

        max(scan_risk, short_option_minimum x short_units x spot) + exposure x short_units x spot

    ``exposure`` is the exposure (extreme loss) margin on the notional of short options (NSE:
    2% for index options; SEBI added 2% more on expiry day for short weekly options from
    2024-11-20 -- pass ``exposure=0.04`` for expiry-day runs). Positions without short legs
    need nothing (NSE collects the premium of long options instead of margin). Not modelled:
    calendar-spread charges, the net option value credit, the exchange's daily risk-parameter
    files (``price_scan``/``vol_scan`` are inputs; NSE's index price scan range is about
    3.5 sigma of daily moves, historically around 6-10% of spot).
    """

    price_scan: float = 0.06
    vol_scan: float = 0.04
    exposure: float = 0.02
    short_option_minimum: float = 0.0
    extreme_multiple: float = 2.0
    extreme_weight: float = 0.35
    r: float = 0.0
    q: float = 0.0
    fallback_sigma: float | None = None
    name: ClassVar[str] = "span"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "price_scan", _rate(self.price_scan, "price_scan", allow_zero=False)
        )
        object.__setattr__(self, "vol_scan", _rate(self.vol_scan, "vol_scan", upper=5.0))
        object.__setattr__(self, "exposure", _rate(self.exposure, "exposure"))
        object.__setattr__(
            self, "short_option_minimum", _rate(self.short_option_minimum, "short_option_minimum")
        )
        object.__setattr__(
            self, "extreme_multiple", _rate(self.extreme_multiple, "extreme_multiple", upper=10.0)
        )
        object.__setattr__(self, "extreme_weight", _rate(self.extreme_weight, "extreme_weight"))
        if self.fallback_sigma is not None:
            fs = float(self.fallback_sigma)
            if not math.isfinite(fs) or fs <= 0 or fs > 5:
                raise ValueError(
                    f"fallback_sigma must be in (0, 5] or None, got {self.fallback_sigma!r}"
                )
            object.__setattr__(self, "fallback_sigma", fs)
        for name in ("r", "q"):
            v = float(getattr(self, name))
            if not math.isfinite(v) or abs(v) > 1:
                raise ValueError(f"{name} must be a finite annual rate in [-1, 1], got {v!r}")
            object.__setattr__(self, name, v)

    def scenarios(self, spot: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(prices, vol_shifts, weights)`` of the 16 scenarios."""
        s = _spot(spot)
        fr = np.array([0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0])
        moves = np.concatenate([fr, fr, [self.extreme_multiple, -self.extreme_multiple]])
        vols = np.concatenate([np.full(7, self.vol_scan), np.full(7, -self.vol_scan), [0.0, 0.0]])
        weights = np.concatenate([np.ones(14), np.full(2, self.extreme_weight)])
        return s * (1.0 + moves * self.price_scan), vols, weights

    def scan_risk(self, legs: Sequence[PositionLeg], spot: float) -> float:
        """Largest weighted scenario loss of the position (>= 0)."""
        from workbench.pricing import bs_price

        s = _spot(spot)
        arr = LegArrays.from_legs(legs)
        if len(arr) == 0:
            return 0.0
        live = arr.years > 0
        sigma = arr.sigma.copy()
        bad = live & ~(np.isfinite(sigma) & (sigma > 0))
        if bad.any():
            if self.fallback_sigma is None:
                i = int(np.flatnonzero(bad)[0])
                raise MissingVolatilityError(
                    f"leg {i} (strike {arr.strike[i]:g}) has time left but no sigma "
                    "(give PositionLeg.sigma or SpanLike(fallback_sigma=...))"
                )
            sigma[bad] = self.fallback_sigma
        prices, shifts, weights = self.scenarios(s)
        all_prices = np.concatenate(([s], prices))
        all_shifts = np.concatenate(([0.0], shifts))
        vol = np.maximum(sigma[None, :] + all_shifts[:, None], 1e-4)
        diff = all_prices[:, None] - arr.strike[None, :]
        per_unit = np.where(arr.is_call[None, :], np.maximum(diff, 0.0), np.maximum(-diff, 0.0))
        if live.any():
            cols = np.flatnonzero(live)
            priced = bs_price(
                all_prices[:, None],
                arr.strike[cols][None, :],
                arr.years[cols][None, :],
                self.r,
                vol[:, cols],
                arr.is_call[cols][None, :],
                self.q,
            )
            per_unit[:, cols] = np.asarray(priced, dtype=np.float64).reshape(
                all_prices.size, cols.size
            )
        values = per_unit @ arr.units
        losses = (values[0] - values[1:]) * weights
        return max(float(losses.max()), 0.0)

    def margin(self, legs: Sequence[PositionLeg], spot: float) -> float:
        s = _spot(spot)
        arr = LegArrays.from_legs(legs)
        short_units = float(-arr.units[arr.units < 0].sum())
        if short_units == 0:
            return 0.0
        notional = short_units * s
        scan = self.scan_risk(legs, s)
        return max(scan, self.short_option_minimum * notional) + self.exposure * notional

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "price_scan": self.price_scan,
            "vol_scan": self.vol_scan,
            "exposure": self.exposure,
            "short_option_minimum": self.short_option_minimum,
            "extreme_multiple": self.extreme_multiple,
            "extreme_weight": self.extreme_weight,
            "r": self.r,
            "q": self.q,
            "fallback_sigma": self.fallback_sigma,
        }

    @property
    def spec(self) -> str:
        return (
            f"{self.name}:{self.price_scan!r},vol={self.vol_scan!r},exposure={self.exposure!r},"
            f"som={self.short_option_minimum!r},extreme={self.extreme_multiple!r},"
            f"extreme_weight={self.extreme_weight!r},r={self.r!r},q={self.q!r}"
            + ("" if self.fallback_sigma is None else f",sigma={self.fallback_sigma!r}")
        )


def parse_margin(spec: str | Mapping[str, Any]) -> MarginModel:
    """``"defined-risk"``, ``"reg-t"`` / ``"reg-t:0.20,min=0.10"``,
    ``"span"`` / ``"span:0.08,vol=0.04,exposure=0.02,som=0,extreme=2,extreme_weight=0.35,r=0.065,q=0"``,
    or a model's ``describe()`` dict.
    """
    if isinstance(spec, Mapping):
        params = dict(spec)
        name = params.pop("name", None)
        classes: dict[Any, Any] = {c.name: c for c in (DefinedRisk, RegTIndex, SpanLike)}
        if name not in classes:
            raise SpecError(f"margin model dict {dict(spec)!r}: unknown name {name!r}")
        try:
            return classes[name](**params)  # type: ignore[no-any-return]
        except (TypeError, ValueError) as exc:
            raise SpecError(f"margin model dict {dict(spec)!r}: {exc}") from None
    parsed = parse_spec(spec)
    try:
        if parsed.name in ("defined-risk", "max-loss"):
            if parsed.value is not None:
                raise SpecError(f"spec {spec!r}: defined-risk takes no value")
            parsed.reject_unknown(set())
            return DefinedRisk()
        if parsed.name in ("reg-t", "regt"):
            parsed.reject_unknown({"min"})
            kwargs: dict[str, float] = {}
            if parsed.value is not None:
                kwargs["base_rate"] = parsed.number(parsed.value, "base_rate")
            if "min" in parsed.options:
                kwargs["min_rate"] = parsed.number(parsed.options["min"], "min")
            return RegTIndex(**kwargs)
        if parsed.name == "span":
            keys = {
                "vol": "vol_scan",
                "exposure": "exposure",
                "som": "short_option_minimum",
                "extreme": "extreme_multiple",
                "extreme_weight": "extreme_weight",
                "r": "r",
                "q": "q",
                "sigma": "fallback_sigma",
            }
            parsed.reject_unknown(set(keys))
            span_kwargs = {keys[k]: parsed.number(v, k) for k, v in parsed.options.items()}
            if parsed.value is not None:
                span_kwargs["price_scan"] = parsed.number(parsed.value, "price_scan")
            return SpanLike(**span_kwargs)
    except SpecError:
        raise
    except ValueError as exc:
        raise SpecError(f"spec {spec!r}: {exc}") from None
    raise SpecError(
        f"spec {spec!r}: unknown margin model {parsed.name!r} (known: defined-risk, reg-t, span)"
    )
