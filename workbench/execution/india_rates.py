"""Dated statutory rates for NSE index options (premium-based), as fractions.

Each :class:`DatedRate` is a step function of the trade date: the rate of the latest entry whose
``effective_from`` is on or before the day. Sources and uncertainty, per table:

STT on the sale of an option (on premium), Securities Transaction Tax (Finance Act 2004, Chapter
VII, as amended):
    0.017% before 2016-06-01 (the rate since 2008-06-01; earlier dates also get 0.017%, an
    approximation); 0.05% from 2016-06-01 (Finance Act 2016); 0.0625% from 2023-04-01
    (Finance Act 2023); 0.1% from 2024-10-01 (Finance (No. 2) Act 2024); 0.15% from 2026-04-01
    (Union Budget 2026-27, for trades on or after 1 April 2026, as reported by ClearTax and the
    press). STT is paid by the seller.

STT on an option exercised (paid by the buyer, on the intrinsic value = settlement price minus
strike for calls, strike minus settlement price for puts, times units):
    0.125% until 2026-03-31; 0.15% from 2026-04-01 (Budget 2026-27). Before 2016-06-01 the 0.125%
    was levied on the full settlement price, not the intrinsic value; this table applies it to the
    intrinsic value for all dates, which understates pre-June-2016 exercise STT (documented
    approximation).

NSE transaction charge on options premium (each side):
    0.053% before 2024-10-01 -- the rate brokers such as Zerodha printed for years; NSE's
    member charge was slab-based (about 0.0495%-0.053%) before SEBI's 2024-07-01 "true to label"
    circular, so the rate a client paid varied by broker (uncertain). 0.03503% (Rs 35.03 per lakh
    of premium) from 2024-10-01 (NSE circular of 2024-09-27). Some brokers quote 0.03553% in
    2025-26; its effective date is not established here, so it is not in the table -- pass your
    own ``IndiaRates`` to use it.

SEBI turnover fee (on premium turnover, both sides):
    Rs 15 per crore (0.00015%) before 2020-06-01, Rs 10 per crore (0.0001%) since (uncertain
    start date; Rs 10/crore is the rate brokers print from 2020 onwards).

Stamp duty (buyer; on premium): 0.003% from 2020-07-01 (Indian Stamp Act amendment, Finance Act
    2019, uniform nationwide rate). Before that it was state-wise (about 0.002%-0.01%); the table
    uses 0.003% before 2020-07-01 too (documented approximation).

GST on brokerage + exchange transaction charge + SEBI fee: 18% from 2017-07-01 (GST launch).
    Before that, service tax on the same base: 12.36% (12% + education cesses), 14% from
    2015-06-01, 14.5% from 2015-11-15 (Swachh Bharat cess), 15% from 2016-06-01 (Krishi Kalyan
    cess). Whether SEBI fees were in the pre-GST base varied by broker.

Not modelled: NSE IPFT charge (about 0.0005% of premium at some brokers), clearing charges,
DP charges, stamp duty on exercise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class DatedRate:
    """A rate (fraction, as a decimal string) that changes on given dates."""

    name: str
    steps: tuple[tuple[date, str], ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"rate {self.name!r} needs at least one (effective_from, rate) step")
        days = [d for d, _ in self.steps]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError(f"rate {self.name!r}: effective dates must be strictly increasing")
        for d, r in self.steps:
            if not isinstance(d, date):
                raise ValueError(f"rate {self.name!r}: effective_from {d!r} is not a date")
            if Decimal(r) < 0:
                raise ValueError(f"rate {self.name!r}: rate {r!r} from {d} is negative")

    def on(self, day: date) -> Decimal:
        """The rate in force on ``day``."""
        if day < self.steps[0][0]:
            raise ValueError(
                f"rate {self.name!r} is not known before {self.steps[0][0]} (asked for {day})"
            )
        rate = self.steps[0][1]
        for start, value in self.steps:
            if start <= day:
                rate = value
            else:
                break
        return Decimal(rate)

    def describe(self) -> list[list[str]]:
        return [[d.isoformat(), r] for d, r in self.steps]

    @classmethod
    def from_describe(cls, name: str, steps: Any) -> DatedRate:
        """Inverse of :meth:`describe`: ``[["YYYY-MM-DD", "rate"], ...]``."""
        try:
            parsed = tuple((date.fromisoformat(str(d)), str(Decimal(str(r)))) for d, r in steps)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(
                f"rate {name!r}: steps {steps!r} are not [date, rate] pairs ({exc})"
            ) from None
        return cls(name, parsed)


EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class IndiaRates:
    """The full set of dated rates used by :class:`~workbench.execution.fees.IndiaIndexOptions`."""

    stt_sell_premium: DatedRate
    stt_exercise: DatedRate
    transaction: DatedRate
    sebi: DatedRate
    stamp_buy: DatedRate
    gst: DatedRate

    @classmethod
    def from_describe(cls, data: Any) -> IndiaRates:
        """Inverse of :meth:`describe`."""
        names = (
            "stt_sell_premium",
            "stt_exercise",
            "transaction",
            "sebi",
            "stamp_buy",
            "gst",
        )
        if not isinstance(data, dict) or set(data) != set(names):
            raise ValueError(f"rates must be a dict with exactly the keys {', '.join(names)}")
        return cls(**{n: DatedRate.from_describe(n, data[n]) for n in names})

    def describe(self) -> dict[str, Any]:
        return {
            "stt_sell_premium": self.stt_sell_premium.describe(),
            "stt_exercise": self.stt_exercise.describe(),
            "transaction": self.transaction.describe(),
            "sebi": self.sebi.describe(),
            "stamp_buy": self.stamp_buy.describe(),
            "gst": self.gst.describe(),
        }


NSE_INDEX_OPTION_RATES = IndiaRates(
    stt_sell_premium=DatedRate(
        "stt_sell_premium",
        (
            (EARLIEST, "0.00017"),
            (date(2016, 6, 1), "0.0005"),
            (date(2023, 4, 1), "0.000625"),
            (date(2024, 10, 1), "0.001"),
            (date(2026, 4, 1), "0.0015"),
        ),
    ),
    stt_exercise=DatedRate("stt_exercise", ((EARLIEST, "0.00125"), (date(2026, 4, 1), "0.0015"))),
    transaction=DatedRate("transaction", ((EARLIEST, "0.00053"), (date(2024, 10, 1), "0.0003503"))),
    sebi=DatedRate("sebi", ((EARLIEST, "0.0000015"), (date(2020, 6, 1), "0.000001"))),
    stamp_buy=DatedRate("stamp_buy", ((EARLIEST, "0.00003"),)),
    gst=DatedRate(
        "gst",
        (
            (EARLIEST, "0.1236"),
            (date(2015, 6, 1), "0.14"),
            (date(2015, 11, 15), "0.145"),
            (date(2016, 6, 1), "0.15"),
            (date(2017, 7, 1), "0.18"),
        ),
    ),
)
"""Default rates for NSE index options (NIFTY, BANKNIFTY, FINNIFTY, ...); see module docstring."""
