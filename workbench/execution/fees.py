"""Fee models: the fees of each fill of one order, in the order's currency.

Every model implements :class:`FeeModel`:

* ``fees(fills) -> list[float]``: the fills of **one order** (all legs filled together by
  ``try_fill``, or one closing order), one fee per fill, each a non-negative amount rounded to the
  currency's minor unit (cent/paisa). Order-level charges (a minimum, a flat amount, a statutory
  charge computed on the order's turnover) are rounded half-up once per order and then split
  over the fills by the largest-remainder method, so the per-fill fees add up exactly to the
  order's fee.
* ``settlement_fees(settlements) -> list[float]``: fees for positions settled at expiry. A
  settlement is described by a :class:`FillEvent` whose ``side`` is the side that closes the
  position (``SELL`` settles a long, ``BUY`` a short) and whose ``price`` is the settlement value
  per unit (the intrinsic value; 0 for an option expiring out of the money). Seed 003: no
  commission for options expiring OTM; India: STT on ITM options exercised (buyer pays).

Models: :class:`NoFees`, :class:`PerContract` (US style, e.g. $0.65 per contract with a $1
minimum per order), :class:`PerOrder` (flat brokerage, e.g. Rs 20 per executed order),
:class:`IndiaIndexOptions` (statutory charges with dated rates plus an optional brokerage
model that GST is charged on) and :class:`CombinedFees` (sum of models).
:func:`parse_fees` builds any of these from a spec string.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from workbench.execution.india_rates import NSE_INDEX_OPTION_RATES, IndiaRates
from workbench.execution.money import CENT, UNIT, allocate, dec, round_money
from workbench.execution.spec import ParsedSpec, SpecError, parse_spec
from workbench.model.contracts import OptionContract
from workbench.model.enums import Side
from workbench.model.instruments import UnknownInstrumentError, get_instrument


@dataclass(frozen=True, slots=True)
class FillEvent:
    """One fill as a fee model sees it.

    ``qty`` whole contracts (> 0); ``units`` = qty x lot size (units of underlying, > 0);
    ``price`` per unit (>= 0); ``day`` the trade date (selects dated rates).
    """

    contract: OptionContract
    side: Side
    qty: int
    units: float
    price: float
    day: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", Side.parse(self.side))
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or self.qty <= 0:
            raise ValueError(
                f"FillEvent.qty must be a whole number of contracts > 0, got {self.qty!r}"
            )
        units = float(self.units)
        if not math.isfinite(units) or units <= 0:
            raise ValueError(
                f"FillEvent.units must be a positive finite number, got {self.units!r}"
            )
        price = float(self.price)
        if not math.isfinite(price) or price < 0:
            raise ValueError(f"FillEvent.price must be a finite price >= 0, got {self.price!r}")
        if not isinstance(self.day, date):
            raise ValueError(f"FillEvent.day must be a date, got {self.day!r}")

    @classmethod
    def for_contract(
        cls, contract: OptionContract, side: Side | str, qty: int, price: float, day: date
    ) -> FillEvent:
        """A fill of ``qty`` contracts, its units from the instrument registry's lot size
        (``get_instrument(contract.underlying).lot_size(day)``: NSE lot, US multiplier 100)."""
        lot = get_instrument(contract.underlying).lot_size(day)
        return cls(contract, Side.parse(side), qty, float(qty * lot), price, day)

    @property
    def premium(self) -> Decimal:
        """Premium turnover ``units x price`` (exact decimal, unrounded)."""
        return dec(float(self.units)) * dec(float(self.price))


@runtime_checkable
class FeeModel(Protocol):
    """Fees for the fills of one order, and for settlements at expiry."""

    name: ClassVar[str]

    def fees(self, fills: Sequence[FillEvent]) -> list[float]: ...

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]: ...

    def describe(self) -> dict[str, Any]: ...


def _check_fills(fills: Sequence[FillEvent], what: str = "fills") -> list[FillEvent]:
    items = list(fills)
    for i, f in enumerate(items):
        if not isinstance(f, FillEvent):
            raise ValueError(f"{what}[{i}] must be a FillEvent, got {type(f).__name__}")
    return items


def _check_money(value: float, parameter: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{parameter} must be a number >= 0, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{parameter} must be a finite number >= 0, got {value!r}")
    return v


def _floats(values: Sequence[Decimal]) -> list[float]:
    return [float(v) for v in values]


@dataclass(frozen=True, slots=True)
class NoFees:
    """No fees at all."""

    name: ClassVar[str] = "none"

    def fees(self, fills: Sequence[FillEvent]) -> list[float]:
        return [0.0] * len(_check_fills(fills))

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]:
        return [0.0] * len(_check_fills(settlements, "settlements"))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


@functools.lru_cache(maxsize=1024)
def _per_contract_order(rate: float, minimum: float, qtys: tuple[int, ...]) -> tuple[float, ...]:
    """:meth:`PerContract.fees` of an order whose fills have ``qtys`` contracts: a function of
    the quantities alone, remembered (a study's thousands of orders have a handful of shapes,
    and the exact decimal arithmetic was most of an order's cost)."""
    contracts = [Decimal(q) for q in qtys]
    total = max(dec(rate) * sum(contracts, Decimal(0)), dec(minimum))
    return tuple(_floats(allocate(round_money(total), contracts)))


@dataclass(frozen=True, slots=True)
class PerContract:
    """``rate`` per contract, at least ``minimum`` per order (e.g. $0.65, minimum $1).

    Order fee = ``max(rate x total contracts, minimum)`` rounded half-up to the cent, split over
    the fills by contracts. ``settlement_rate`` per contract is charged on settlements that pay
    (ITM exercise/assignment); options expiring worthless (settlement price 0) cost nothing
    (seed 003: "Expiration OTM: $0"). Default 0: cash-settled index options are exercised
    automatically and many brokers charge nothing.
    """

    rate: float
    minimum: float = 0.0
    settlement_rate: float = 0.0
    name: ClassVar[str] = "per-contract"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", _check_money(self.rate, "rate"))
        object.__setattr__(self, "minimum", _check_money(self.minimum, "minimum"))
        object.__setattr__(
            self, "settlement_rate", _check_money(self.settlement_rate, "settlement_rate")
        )

    def fees(self, fills: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(fills)
        if not items:
            return []
        return list(_per_contract_order(self.rate, self.minimum, tuple(f.qty for f in items)))

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(settlements, "settlements")
        return [
            float(round_money(dec(self.settlement_rate) * f.qty)) if f.price > 0 else 0.0
            for f in items
        ]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rate": self.rate,
            "minimum": self.minimum,
            "settlement_rate": self.settlement_rate,
        }


@dataclass(frozen=True, slots=True)
class PerOrder:
    """A flat ``amount`` per order, split equally over its fills (to the cent/paisa).

    ``per_leg=True`` charges ``amount`` for every fill instead: in India each leg is its own
    executed order at the exchange, and discount brokers charge e.g. Rs 20 per executed order.
    Settlements cost nothing (brokers do not charge brokerage on expiry settlement of index
    options).
    """

    amount: float
    per_leg: bool = False
    name: ClassVar[str] = "per-order"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _check_money(self.amount, "amount"))
        if not isinstance(self.per_leg, bool):
            raise ValueError(f"per_leg must be True or False, got {self.per_leg!r}")

    def fees(self, fills: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(fills)
        if not items:
            return []
        amount = round_money(dec(self.amount))
        if self.per_leg:
            return [float(amount)] * len(items)
        return _floats(allocate(amount, [Decimal(1)] * len(items)))

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]:
        return [0.0] * len(_check_fills(settlements, "settlements"))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "amount": self.amount, "per_leg": self.per_leg}


@dataclass(frozen=True, slots=True)
class IndiaCharges:
    """Charges of one fill, each in rupees rounded to the paisa (see :class:`IndiaIndexOptions`)."""

    brokerage: Decimal
    stt: Decimal
    transaction: Decimal
    sebi: Decimal
    stamp: Decimal
    gst: Decimal

    @property
    def total(self) -> Decimal:
        return self.brokerage + self.stt + self.transaction + self.sebi + self.stamp + self.gst


SttRounding = Literal["paise", "rupee"]


@dataclass(frozen=True, slots=True)
class IndiaIndexOptions:
    """Statutory charges on NSE index options, plus GST on a brokerage model.

    For one order (all fills on one trade date), with premium = units x price:

    * STT = ``stt_sell_premium`` x sell premium (seller pays);
    * exchange transaction charge = ``transaction`` x premium of both sides;
    * SEBI fee = ``sebi`` x premium of both sides (Rs 10 per crore = 1e-6);
    * stamp duty = ``stamp_buy`` x buy premium (buyer pays);
    * brokerage = ``brokerage.fees(fills)``;
    * GST = ``gst`` x (brokerage + transaction charge + SEBI fee).

    Rates are dated (:mod:`workbench.execution.india_rates`, with sources). Rounding: each charge
    is computed on the order's total base and rounded half-up to the paisa (STT to the whole rupee
    when ``stt_rounding="rupee"``, as contract notes do -- note that a contract note rounds once
    per note, i.e. per trading day, not per order), then split over the fills contributing to its
    base by the largest-remainder method. GST is split in proportion to each fill's taxable
    charges.

    Settlement (:meth:`settlement_fees`): STT ``stt_exercise`` x intrinsic value x units on a long
    ITM option exercised at expiry (``side=SELL``, ``price`` = intrinsic per unit); shorts and OTM
    expiries pay nothing; plus the brokerage model's settlement fees.
    """

    brokerage: FeeModel = field(default_factory=NoFees)
    rates: IndiaRates = NSE_INDEX_OPTION_RATES
    stt_rounding: SttRounding = "paise"
    venue: str = "NSE"
    name: ClassVar[str] = "india"

    def __post_init__(self) -> None:
        if not isinstance(self.brokerage, FeeModel):
            raise ValueError(f"brokerage must be a FeeModel, got {self.brokerage!r}")
        if isinstance(self.brokerage, IndiaIndexOptions):
            raise ValueError(
                "brokerage must not itself be IndiaIndexOptions (charges would double)"
            )
        if not isinstance(self.rates, IndiaRates):
            raise ValueError(f"rates must be an IndiaRates, got {self.rates!r}")
        if self.stt_rounding not in ("paise", "rupee"):
            raise ValueError(f"stt_rounding must be 'paise' or 'rupee', got {self.stt_rounding!r}")
        if not isinstance(self.venue, str) or not self.venue.strip():
            raise ValueError(f"venue must be an exchange name such as 'NSE', got {self.venue!r}")

    def _check_venue(self, items: list[FillEvent]) -> None:
        """Refuse contracts the registry lists on another venue: the exchange transaction
        charge differs (BSE charged Rs 3,250 per crore of premium on SENSEX/BANKEX options from
        2024-10-01), so pass ``rates`` and ``venue`` for that exchange instead."""
        for i, f in enumerate(items):
            try:
                venue = get_instrument(f.contract.underlying).venue
            except UnknownInstrumentError:
                continue
            if venue != self.venue:
                raise ValueError(
                    f"fills[{i}] ({f.contract.underlying}) trades on {venue}, but these rates are "
                    f"for {self.venue}; construct IndiaIndexOptions(rates=..., venue={venue!r})"
                )

    def charges(self, fills: Sequence[FillEvent]) -> list[IndiaCharges]:
        """The charge breakdown of each fill of one order."""
        items = _check_fills(fills)
        if not items:
            return []
        days = {f.day for f in items}
        if len(days) != 1:
            raise ValueError(
                f"fills of one order must share a trade date, got {sorted(d.isoformat() for d in days)}"
            )
        self._check_venue(items)
        day = items[0].day
        rates = self.rates
        premium = [f.premium for f in items]
        sells = [p if f.side is Side.SELL else Decimal(0) for f, p in zip(items, premium)]
        buys = [p if f.side is Side.BUY else Decimal(0) for f, p in zip(items, premium)]
        zero = Decimal(0)

        stt_unit = UNIT if self.stt_rounding == "rupee" else CENT
        stt_total = round_money(sum(sells, zero) * rates.stt_sell_premium.on(day), stt_unit)
        txn_total = round_money(sum(premium, zero) * rates.transaction.on(day))
        sebi_total = round_money(sum(premium, zero) * rates.sebi.on(day))
        stamp_total = round_money(sum(buys, zero) * rates.stamp_buy.on(day))
        brokerage = [round_money(dec(b)) for b in self.brokerage.fees(items)]

        stt = allocate(stt_total, sells)
        txn = allocate(txn_total, premium)
        sebi = allocate(sebi_total, premium)
        stamp = allocate(stamp_total, buys)
        taxable = [b + t + s for b, t, s in zip(brokerage, txn, sebi)]
        gst_total = round_money(sum(taxable, zero) * rates.gst.on(day))
        gst = allocate(gst_total, taxable)
        return [IndiaCharges(*parts) for parts in zip(brokerage, stt, txn, sebi, stamp, gst)]

    def fees(self, fills: Sequence[FillEvent]) -> list[float]:
        return [float(c.total) for c in self.charges(fills)]

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(settlements, "settlements")
        self._check_venue(items)
        brokerage = self.brokerage.settlement_fees(items)
        out: list[float] = []
        for f, b in zip(items, brokerage):
            stt = Decimal(0)
            if f.side is Side.SELL and f.price > 0:
                stt = round_money(f.premium * self.rates.stt_exercise.on(f.day))
            out.append(float(stt + round_money(dec(b))))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "brokerage": self.brokerage.describe(),
            "stt_rounding": self.stt_rounding,
            "venue": self.venue,
            "rates": self.rates.describe(),
        }


@dataclass(frozen=True, slots=True)
class CombinedFees:
    """The sum of several fee models, fill by fill."""

    models: tuple[FeeModel, ...]
    name: ClassVar[str] = "combined"

    def __post_init__(self) -> None:
        models = tuple(self.models)
        if not models:
            raise ValueError("CombinedFees needs at least one model")
        for i, m in enumerate(models):
            if not isinstance(m, FeeModel):
                raise ValueError(f"models[{i}] must be a FeeModel, got {m!r}")
        object.__setattr__(self, "models", models)

    def _sum(self, parts: list[list[float]], n: int) -> list[float]:
        totals = [Decimal(0)] * n
        for values in parts:
            totals = [t + dec(v) for t, v in zip(totals, values)]
        return _floats(totals)

    def fees(self, fills: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(fills)
        return self._sum([m.fees(items) for m in self.models], len(items))

    def settlement_fees(self, settlements: Sequence[FillEvent]) -> list[float]:
        items = _check_fills(settlements, "settlements")
        return self._sum([m.settlement_fees(items) for m in self.models], len(items))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "models": [m.describe() for m in self.models]}


def _single(parsed: ParsedSpec) -> FeeModel:
    name = parsed.name
    if name in ("none", "zero", "no-fees"):
        if parsed.value is not None:
            raise SpecError(f"spec {parsed.text!r}: 'none' takes no value")
        parsed.reject_unknown(set())
        return NoFees()
    if name == "per-contract":
        if parsed.value is None:
            raise SpecError(
                f"spec {parsed.text!r}: per-contract needs a rate, e.g. per-contract:0.65"
            )
        parsed.reject_unknown({"min", "minimum", "settle", "settlement_rate"})
        o = parsed.options
        minimum = o.get("min", o.get("minimum", "0"))
        settle = o.get("settle", o.get("settlement_rate", "0"))
        return PerContract(
            rate=parsed.number(parsed.value, "rate"),
            minimum=parsed.number(minimum, "min"),
            settlement_rate=parsed.number(settle, "settle"),
        )
    if name == "per-order":
        if parsed.value is None:
            raise SpecError(f"spec {parsed.text!r}: per-order needs an amount, e.g. per-order:20")
        parsed.reject_unknown({"per_leg"})
        per_leg = parsed.flag(parsed.options.get("per_leg", "false"), "per_leg")
        return PerOrder(amount=parsed.number(parsed.value, "amount"), per_leg=per_leg)
    if name in ("india", "nse", "india-index-options"):
        if parsed.value is not None:
            raise SpecError(f"spec {parsed.text!r}: 'india' takes no ':' value")
        parsed.reject_unknown({"stt_rounding"})
        rounding = parsed.options.get("stt_rounding", "paise").lower()
        if rounding not in ("paise", "rupee"):
            raise SpecError(f"spec {parsed.text!r}: stt_rounding must be paise or rupee")
        return IndiaIndexOptions(stt_rounding=rounding)  # type: ignore[arg-type]
    raise SpecError(
        f"spec {parsed.text!r}: unknown fee model {name!r} "
        "(known: none, per-contract:R[,min=M], per-order:A[,per_leg=true], india)"
    )


def fees_from_dict(data: Mapping[str, Any]) -> FeeModel:
    """Rebuild a fee model from its ``describe()`` dict (e.g. read back from a run manifest)."""
    params = dict(data)
    name = params.pop("name", None)
    try:
        if name == NoFees.name and not params:
            return NoFees()
        if name == PerContract.name:
            return PerContract(**params)
        if name == PerOrder.name:
            return PerOrder(**params)
        if name == IndiaIndexOptions.name:
            return IndiaIndexOptions(
                brokerage=fees_from_dict(params.pop("brokerage")),
                rates=IndiaRates.from_describe(params.pop("rates")),
                **params,
            )
        if name == CombinedFees.name and set(params) == {"models"}:
            return CombinedFees(tuple(fees_from_dict(m) for m in params["models"]))
    except SpecError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise SpecError(f"fee model dict {dict(data)!r}: {exc}") from None
    raise SpecError(f"fee model dict {dict(data)!r}: unknown name {name!r} or unexpected fields")


def parse_fees(spec: str | Mapping[str, Any]) -> FeeModel:
    """Build a fee model from a spec (or a ``describe()`` dict); ``+`` joins models.

    Examples: ``"none"``, ``"per-contract:0.65,min=1"``, ``"per-order:20,per_leg=true"``,
    ``"india"``, ``"per-order:20,per_leg=true+india"`` (GST is then charged on the brokerage:
    every model joined with ``india`` becomes its ``brokerage``). Raises :class:`SpecError` naming
    the spec and the fault.
    """
    if isinstance(spec, Mapping):
        return fees_from_dict(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"fee spec must be a non-empty string, got {spec!r}")
    parts = [p.strip() for p in spec.split("+")]
    if any(not p for p in parts):
        raise SpecError(f"spec {spec!r}: empty model between '+' signs")
    try:
        models = [_single(parse_spec(p)) for p in parts]
    except SpecError as exc:
        if len(parts) == 1:
            raise
        raise SpecError(f"fee spec {spec!r}: {exc}") from None
    except ValueError as exc:
        raise SpecError(f"fee spec {spec!r}: {exc}") from None
    india = [m for m in models if isinstance(m, IndiaIndexOptions)]
    if len(india) > 1:
        raise SpecError(f"fee spec {spec!r}: 'india' given more than once")
    others = [m for m in models if not isinstance(m, IndiaIndexOptions)]
    if india:
        if not others:
            return india[0]
        brokerage: FeeModel = others[0] if len(others) == 1 else CombinedFees(tuple(others))
        return IndiaIndexOptions(
            brokerage=brokerage,
            rates=india[0].rates,
            stt_rounding=india[0].stt_rounding,
            venue=india[0].venue,
        )
    return models[0] if len(models) == 1 else CombinedFees(tuple(models))
