"""Fill models: the price one leg of an order is filled at, given the quote at the fill tick.

Every model implements :class:`FillModel` -- ``fill(side, quote, *, legs) -> FillPrice`` -- and is
a frozen, validated dataclass with a ``name``, ``describe()`` (a dict for the run manifest) and
``spec`` (the string :func:`parse_fill` turns back into an equal model).

Prices are per unit of underlying, in the option's quote currency (the tradebook's ``price``).

Quote-based models (:class:`Mid`, :class:`CrossSpread`, :class:`SpreadFraction`,
:class:`OratsSlippage`) need a *usable* two-sided quote: finite ``bid >= 0``, finite ``ask > 0``
and ``ask >= bid``. A missing side (NaN/None) or a crossed quote (``ask < bid``) is not used:
the model falls back to the bar close (``last``) when ``fallback="close"`` (the default) and
says so in ``FillPrice.warning`` -- the engine counts every warning -- or refuses the fill when
``fallback="none"``. Close-based models (:class:`BarClose`, :class:`PercentSlippage`) fall back
to the mid of a usable quote (``fallback="mid"``) or refuse (``fallback="none"``). A refused fill
is ``FillPrice(nan, "unfilled", reason)``; ``FillPrice.filled`` is then ``False`` and an
all-or-nothing order is not placed.

The spread models follow ORATS' convention (seed 003, section 6.4.1): with spread fraction ``s``

* buy  = ``bid + s * (ask - bid)``
* sell = ``ask - s * (ask - bid)``

so ``s = 0.5`` is the mid and ``s = 1`` crosses the whole spread; for ``s >= 0.5`` a buy never
fills below a sell on the same quote. ``s < 0.5`` assumes price improvement past the mid (a
patient order); it is allowed but then a buy prices below a sell by ``(1 - 2s) x width``. ORATS uses ``s`` by the number of legs of the order: 75% (1 leg), 66% (2),
56% (3), 53% (4 or more).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from workbench.execution.spec import ParsedSpec, SpecError, parse_spec
from workbench.model.enums import Side

QuoteFallback = Literal["close", "none"]
CloseFallback = Literal["mid", "none"]

UNFILLED = "unfilled"


class QuoteLike(Protocol):
    """What a fill model reads from a quote (``workbench.model.trades.Quote`` satisfies it).

    ``bid``/``ask``/``last`` are per-unit prices; NaN or ``None`` means absent. ``last`` is the
    bar close at (or, with ``lag > 0``, before) the fill tick.
    """

    @property
    def bid(self) -> float | None: ...

    @property
    def ask(self) -> float | None: ...

    @property
    def last(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class FillPrice:
    """The outcome of pricing one leg.

    ``price`` per unit (NaN when unfilled); ``basis`` says where it came from (``"close"``,
    ``"mid"``, ``"ask"``, ``"bid"``, ``"spread:0.66"``, ``"close*1.01"``, ``"limit"``,
    ``"unfilled"``); ``warning`` is ``None`` for a normal fill and otherwise the reason for a
    fallback or a refusal.
    """

    price: float
    basis: str
    warning: str | None = None

    @property
    def filled(self) -> bool:
        return self.basis != UNFILLED and math.isfinite(self.price)


@runtime_checkable
class FillModel(Protocol):
    """Prices one leg of an order of ``legs`` legs (``legs >= 1``)."""

    name: ClassVar[str]

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice: ...

    def describe(self) -> dict[str, Any]: ...

    @property
    def spec(self) -> str: ...


def _value(x: float | None) -> float:
    if x is None:
        return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def quote_problem(quote: QuoteLike) -> str | None:
    """Why ``quote`` is not a usable two-sided quote, or ``None`` when it is."""
    bid, ask = _value(quote.bid), _value(quote.ask)
    if not math.isfinite(bid) and not math.isfinite(ask):
        return "no bid and no ask"
    if not math.isfinite(bid):
        return f"no bid (ask={ask:g})"
    if not math.isfinite(ask):
        return f"no ask (bid={bid:g})"
    if bid < 0:
        return f"negative bid {bid:g}"
    if ask <= 0:
        return f"non-positive ask {ask:g}"
    if ask < bid:
        return f"crossed quote (bid={bid:g} > ask={ask:g})"
    return None


def usable_mid(quote: QuoteLike) -> float | None:
    """Mid of a usable quote, else ``None``."""
    if quote_problem(quote) is not None:
        return None
    return 0.5 * (_value(quote.bid) + _value(quote.ask))


def usable_close(quote: QuoteLike) -> float | None:
    """The bar close if finite and positive, else ``None``.

    A close of 0 is not a trade price (options trade at one tick or more; NSE snapshots show
    0 for "no trade"), so it is treated as missing.
    """
    last = _value(quote.last)
    return last if math.isfinite(last) and last > 0 else None


def _side(side: Side | str) -> Side:
    return Side.parse(side)


def _check_legs(legs: int) -> None:
    if isinstance(legs, bool) or not isinstance(legs, int) or legs < 1:
        raise ValueError(f"legs must be a whole number >= 1, got {legs!r}")


def _check_fraction(value: float, parameter: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{parameter} must be in [0, 1], got {value!r}")
    return v


def _check_choice(value: str, parameter: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{parameter} must be one of {', '.join(allowed)}; got {value!r}")


def _unfilled(reason: str) -> FillPrice:
    return FillPrice(math.nan, UNFILLED, reason)


def _from_close(quote: QuoteLike, fallback: QuoteFallback, why: str) -> FillPrice:
    if fallback == "none":
        return _unfilled(f"{why}; fallback disabled")
    close = usable_close(quote)
    if close is None:
        return _unfilled(f"{why}; no bar close to fall back to")
    return FillPrice(close, "close", f"{why}; filled at bar close")


def _spread_price(side: Side, bid: float, ask: float, s: float) -> float:
    # sell = ask - s*width written as bid + (1 - s)*width: the same number, but both sides then
    # share one monotone formula, so buy >= sell holds exactly in floating point for s >= 0.5.
    width = ask - bid
    return bid + (s if side is Side.BUY else 1.0 - s) * width


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True, slots=True)
class BarClose:
    """Fill at the bar close (``quote.last``), whatever the side."""

    fallback: CloseFallback = "mid"
    name: ClassVar[str] = "close"

    def __post_init__(self) -> None:
        _check_choice(self.fallback, "fallback", ("mid", "none"))

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        _side(side)
        _check_legs(legs)
        close = usable_close(quote)
        if close is not None:
            return FillPrice(close, "close")
        why = "no bar close"
        if self.fallback == "none":
            return _unfilled(f"{why}; fallback disabled")
        mid = usable_mid(quote)
        if mid is None:
            return _unfilled(f"{why}; no usable quote for mid ({quote_problem(quote)})")
        return FillPrice(mid, "mid", f"{why}; filled at mid")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fallback": self.fallback}

    @property
    def spec(self) -> str:
        return f"{self.name},fallback={self.fallback}"


@dataclass(frozen=True, slots=True)
class SpreadFraction:
    """Fill ``fraction`` of the way across the spread from the favourable side (see module doc)."""

    fraction: float
    fallback: QuoteFallback = "close"
    name: ClassVar[str] = "fraction"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", _check_fraction(self.fraction, "fraction"))
        _check_choice(self.fallback, "fallback", ("close", "none"))

    def fraction_for(self, legs: int) -> float:
        _check_legs(legs)
        return self.fraction

    def _basis(self, s: float) -> str:
        return f"spread:{_fmt(s)}"

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        side = _side(side)
        s = self.fraction_for(legs)
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        price = _spread_price(side, _value(quote.bid), _value(quote.ask), s)
        return FillPrice(price, self._basis(s))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fraction": self.fraction, "fallback": self.fallback}

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.fraction!r},fallback={self.fallback}"


@dataclass(frozen=True, slots=True)
class Mid:
    """Fill at the mid ``(bid + ask) / 2`` (optimistic; the spread fraction 0.5)."""

    fallback: QuoteFallback = "close"
    name: ClassVar[str] = "mid"

    def __post_init__(self) -> None:
        _check_choice(self.fallback, "fallback", ("close", "none"))

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        _side(side)
        _check_legs(legs)
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        return FillPrice(0.5 * (_value(quote.bid) + _value(quote.ask)), "mid")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fallback": self.fallback}

    @property
    def spec(self) -> str:
        return f"{self.name},fallback={self.fallback}"


@dataclass(frozen=True, slots=True)
class CrossSpread:
    """Market order: buy at the ask, sell at the bid (the spread fraction 1)."""

    fallback: QuoteFallback = "close"
    name: ClassVar[str] = "cross"

    def __post_init__(self) -> None:
        _check_choice(self.fallback, "fallback", ("close", "none"))

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        side = _side(side)
        _check_legs(legs)
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        if side is Side.BUY:
            return FillPrice(_value(quote.ask), "ask")
        return FillPrice(_value(quote.bid), "bid")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fallback": self.fallback}

    @property
    def spec(self) -> str:
        return f"{self.name},fallback={self.fallback}"


ORATS_FRACTIONS: tuple[float, float, float, float] = (0.75, 0.66, 0.56, 0.53)
"""ORATS spread fraction for orders of 1, 2, 3 and 4-or-more legs (seed 003, 6.4.1)."""


@dataclass(frozen=True, slots=True)
class OratsSlippage:
    """ORATS: spread fraction by the order's leg count, ``fractions[min(legs, 4) - 1]``.

    ``fractions`` defaults to :data:`ORATS_FRACTIONS` (75/66/56/53%) and may be overridden with
    four values in [0, 1].
    """

    fractions: tuple[float, float, float, float] = ORATS_FRACTIONS
    fallback: QuoteFallback = "close"
    name: ClassVar[str] = "orats"

    def __post_init__(self) -> None:
        values = tuple(self.fractions)
        if len(values) != 4:
            raise ValueError(
                f"fractions must hold 4 values (1, 2, 3, 4+ legs), got {len(values)}: {values!r}"
            )
        checked = tuple(
            _check_fraction(v, f"fractions[{i}] ({i + 1}{'+' if i == 3 else ''} legs)")
            for i, v in enumerate(values)
        )
        object.__setattr__(self, "fractions", checked)
        _check_choice(self.fallback, "fallback", ("close", "none"))

    def fraction_for(self, legs: int) -> float:
        _check_legs(legs)
        return self.fractions[min(legs, 4) - 1]

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        side = _side(side)
        s = self.fraction_for(legs)
        problem = quote_problem(quote)
        if problem is not None:
            return _from_close(quote, self.fallback, problem)
        price = _spread_price(side, _value(quote.bid), _value(quote.ask), s)
        return FillPrice(price, f"spread:{_fmt(s)}")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "fractions": list(self.fractions), "fallback": self.fallback}

    @property
    def spec(self) -> str:
        if self.fractions == ORATS_FRACTIONS:
            return f"{self.name},fallback={self.fallback}"
        joined = "/".join(repr(f) for f in self.fractions)
        return f"{self.name}:{joined},fallback={self.fallback}"


@dataclass(frozen=True, slots=True)
class PercentSlippage:
    """Bar close moved against the trader: buy ``close * (1 + pct)``, sell ``close * (1 - pct)``.

    ``pct`` is a fraction (0.01 = 1%), in [0, 1).
    """

    pct: float
    fallback: CloseFallback = "mid"
    name: ClassVar[str] = "percent"

    def __post_init__(self) -> None:
        v = _check_fraction(self.pct, "pct")
        if v >= 1.0:
            raise ValueError(f"pct must be in [0, 1), got {self.pct!r}")
        object.__setattr__(self, "pct", v)
        _check_choice(self.fallback, "fallback", ("mid", "none"))

    def fill(self, side: Side, quote: QuoteLike, *, legs: int = 1) -> FillPrice:
        side = _side(side)
        _check_legs(legs)
        factor = 1.0 + self.pct if side is Side.BUY else 1.0 - self.pct
        close = usable_close(quote)
        if close is not None:
            return FillPrice(close * factor, f"close*{_fmt(factor)}")
        why = "no bar close"
        if self.fallback == "none":
            return _unfilled(f"{why}; fallback disabled")
        mid = usable_mid(quote)
        if mid is None:
            return _unfilled(f"{why}; no usable quote for mid ({quote_problem(quote)})")
        return FillPrice(mid * factor, f"mid*{_fmt(factor)}", f"{why}; slippage applied to mid")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "pct": self.pct, "fallback": self.fallback}

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.pct!r},fallback={self.fallback}"


@dataclass(frozen=True, slots=True)
class FillPolicy:
    """Separate fill models for opening (``entry``) and closing (``exit``) fills.

    Expiry settlement is not a fill: it happens at intrinsic value and uses neither model.
    """

    entry: FillModel = field(default_factory=lambda: OratsSlippage())
    exit: FillModel = field(default_factory=lambda: OratsSlippage())

    def __post_init__(self) -> None:
        for role in ("entry", "exit"):
            model = getattr(self, role)
            if not isinstance(model, FillModel):
                raise ValueError(f"FillPolicy.{role} must be a FillModel, got {model!r}")

    def for_action(self, action: str) -> FillModel:
        """The model for tradebook action ``"open"`` (entry) or ``"close"`` (exit)."""
        if action == "open":
            return self.entry
        if action == "close":
            return self.exit
        raise ValueError(f"action must be 'open' or 'close' for a fill, got {action!r}")

    def describe(self) -> dict[str, Any]:
        return {"entry": self.entry.describe(), "exit": self.exit.describe()}

    @classmethod
    def parse(cls, entry: str, exit: str | None = None) -> FillPolicy:
        """``FillPolicy.parse("orats")`` (both sides) or ``FillPolicy.parse("mid", "cross")``."""
        return cls(entry=parse_fill(entry), exit=parse_fill(exit if exit is not None else entry))


def _fallback_option(parsed: ParsedSpec, allowed: tuple[str, ...]) -> dict[str, str]:
    parsed.reject_unknown({"fallback"})
    if "fallback" not in parsed.options:
        return {}
    value = parsed.options["fallback"].lower()
    if value not in allowed:
        raise SpecError(
            f"spec {parsed.text!r}: fallback {value!r} not allowed for {parsed.name!r} "
            f"(allowed: {', '.join(allowed)})"
        )
    return {"fallback": value}


def _no_value(parsed: ParsedSpec) -> None:
    if parsed.value is not None:
        raise SpecError(f"spec {parsed.text!r}: {parsed.name!r} takes no ':' value")


def _build(parsed: ParsedSpec) -> FillModel:
    name = parsed.name
    if name in ("close", "bar-close", "last"):
        _no_value(parsed)
        return BarClose(**_fallback_option(parsed, ("mid", "none")))  # type: ignore[arg-type]
    if name == "mid":
        _no_value(parsed)
        return Mid(**_fallback_option(parsed, ("close", "none")))  # type: ignore[arg-type]
    if name in ("cross", "cross-spread", "market"):
        _no_value(parsed)
        return CrossSpread(**_fallback_option(parsed, ("close", "none")))  # type: ignore[arg-type]
    if name in ("fraction", "spread-fraction"):
        if parsed.value is None:
            raise SpecError(f"spec {parsed.text!r}: 'fraction' needs a value, e.g. fraction:0.5")
        options = _fallback_option(parsed, ("close", "none"))
        return SpreadFraction(parsed.number(parsed.value, "fraction"), **options)  # type: ignore[arg-type]
    if name == "orats":
        options = _fallback_option(parsed, ("close", "none"))
        if parsed.value is None:
            return OratsSlippage(**options)  # type: ignore[arg-type]
        parts = parsed.value.split("/")
        if len(parts) != 4:
            raise SpecError(
                f"spec {parsed.text!r}: orats fractions need 4 values a/b/c/d, got {parsed.value!r}"
            )
        values = tuple(parsed.number(p, "orats fraction") for p in parts)
        return OratsSlippage(values, **options)  # type: ignore[arg-type]
    if name in ("percent", "pct", "percent-slippage"):
        if parsed.value is None:
            raise SpecError(f"spec {parsed.text!r}: 'percent' needs a value, e.g. percent:0.01")
        options = _fallback_option(parsed, ("mid", "none"))
        return PercentSlippage(parsed.number(parsed.value, "pct"), **options)  # type: ignore[arg-type]
    if name == "liquidity":
        from workbench.execution.liquidity import LiquiditySlippage

        parsed.reject_unknown({"base", "oi_weight", "fallback"})
        kwargs: dict[str, Any] = {}
        if parsed.value is not None:
            kwargs["impact"] = parsed.number(parsed.value, "impact")
        for option in ("base", "oi_weight"):
            if option in parsed.options:
                kwargs[option] = parsed.number(parsed.options[option], option)
        if "fallback" in parsed.options:
            kwargs.update(_fallback_option(_only(parsed, "fallback"), ("close", "none")))
        return LiquiditySlippage(**kwargs)
    raise SpecError(
        f"spec {parsed.text!r}: unknown fill model {name!r} "
        "(known: close, mid, cross, fraction:S, orats, percent:P, liquidity[:IMPACT])"
    )


def _only(parsed: ParsedSpec, option: str) -> ParsedSpec:
    return ParsedSpec(parsed.text, parsed.name, parsed.value, {option: parsed.options[option]})


def parse_fill(spec: str | Mapping[str, Any]) -> FillModel:
    """Build a fill model from a spec string or a ``describe()`` dict.

    Strings: ``close``, ``mid``, ``cross``, ``fraction:0.5``, ``orats``,
    ``orats:0.75/0.66/0.56/0.53``, ``percent:0.01`` (or ``percent:1%``),
    ``liquidity[:IMPACT][,base=B][,oi_weight=W]`` (:mod:`workbench.execution.liquidity`); any
    may add ``,fallback=close|mid|none``. Raises :class:`SpecError` naming the spec and the fault, and
    re-raises a model's parameter error the same way.
    """
    if isinstance(spec, Mapping):
        return _from_dict(spec)
    parsed = parse_spec(spec)
    try:
        return _build(parsed)
    except SpecError:
        raise
    except ValueError as exc:
        raise SpecError(f"spec {spec!r}: {exc}") from None


def _from_dict(data: Mapping[str, Any]) -> FillModel:
    params = dict(data)
    name = params.pop("name", None)
    from workbench.execution.liquidity import LiquiditySlippage

    classes: dict[str, Any] = {
        c.name: c
        for c in (
            BarClose, Mid, CrossSpread, SpreadFraction, OratsSlippage, PercentSlippage,
            LiquiditySlippage,
        )
    }  # fmt: skip
    if name not in classes:
        raise SpecError(f"fill model dict {dict(data)!r}: unknown name {name!r}")
    if "fractions" in params:
        params["fractions"] = tuple(params["fractions"])
    try:
        return classes[name](**params)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise SpecError(f"fill model dict {dict(data)!r}: {exc}") from None
    except ValueError as exc:
        raise SpecError(f"fill model dict {dict(data)!r}: {exc}") from None
