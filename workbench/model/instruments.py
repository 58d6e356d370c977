"""Instrument registry: one :class:`InstrumentSpec` per option underlying the workbench knows.

A spec holds the venue's static facts (currency, timezone, session, tick, settlement) and the
facts that changed over time as dated histories (lot size, strike step, expiry rule). Every
dated history is a tuple of ``(effective_from, value)`` pairs in ascending order; the value in
force on a date is the last pair whose ``effective_from`` is on or before it. The first pair
of each history starts at :data:`HISTORY_START` (the registry does not model anything earlier).

Conventions
-----------
- Times of day (``session_open``, ``session_close``, ``settlement_clock``) are exchange-local
  wall-clock times in ``timezone``.
- ``lot_size(on)`` is units of the underlying per contract: the NSE/BSE lot size, 100 for US
  options (the contract multiplier). For MCX GOLDM the option premium is quoted in rupees per
  10 grams and one contract is one GOLDM future of 100 grams, so the lot size is 10 (quote
  units per contract).
- ``strike_step`` is the strike interval of the liquid grid around the money today. Venues
  list wider intervals far from the money and for long-dated expiries (NSE NIFTY: 50 near,
  100 further, 500/1000 on the long-dated half-yearlies); the grid step is what strategies and
  the synthetic market need.
- Where a fact is uncertain it says so in a comment next to it. Facts marked *approximate*
  were taken from exchange circulars as remembered, not checked against a primary source in
  this repository.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import TypeVar

from workbench.model.enums import Settlement, SettlementTime

_T = TypeVar("_T")

HISTORY_START = date(2000, 1, 1)
"""First date of every dated history in the registry."""

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = range(5)
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class UnknownInstrumentError(KeyError):
    """An underlying name the registry does not know. The message lists the known ones."""

    def __init__(self, name: object, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown underlying {self.name!r}; known underlyings: {', '.join(self.known)}"


class ExerciseStyle(StrEnum):
    EUROPEAN = "european"
    AMERICAN = "american"


class MonthlyRule(StrEnum):
    """How the standard monthly expiry of a month is found (before the holiday shift).

    - ``last``: the last ``monthly_weekday`` of the month (NSE, BSE).
    - ``third``: the third ``monthly_weekday`` of the month (US listed options).
    - ``mcx_bullion``: MCX options on bullion futures: three trading days before the first
      tender day of the underlying future, taken here as seven trading days before the
      future's expiry on the 5th of the contract month (the tender period being the five
      trading days ending on the future's expiry). *Approximate*: derived from the MCX
      contract specification ("three business days prior to the first business day of the
      tender period"), not checked against published MCX expiry calendars. The option is
      labelled with the future's contract month, so it expires in the month before its label.
    """

    LAST = "last"
    THIRD = "third"
    MCX_BULLION = "mcx_bullion"


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    """Which dates an underlying's options expire on, and how many are listed at a time.

    Parameters
    ----------
    weekly_weekdays
        Weekdays (Monday = 0) with a non-monthly expiry every week (US dailies included).
        Empty when the underlying has monthlies only.
    monthly, monthly_weekday
        The monthly rule (see :class:`MonthlyRule`) and its weekday.
    end_of_month
        Whether the last trading day of every month is also an expiry (CBOE SPXW "EOM").
    monday_holiday_next
        CBOE practice: a Monday weekly whose Monday is a holiday expires on the next trading
        day (2019-05-27 Memorial Day -> SPXW 2019-05-28) instead of the previous one.
    skip_monthly_week
        NSE/BSE practice: no weekly expiry in the week (Monday-Sunday) of the monthly expiry;
        the monthly contract serves that week (BANKNIFTY 2023-09..2024-02: Wednesday weeklies,
        Thursday monthly, no Wednesday weekly in the monthly week).
    listed_weeklies, listed_dailies, listed_monthlies, listed_quarterlies,
    listed_half_yearlies, listed_decembers, listed_month_ends
        Listing depth used by :func:`workbench.model.calendars.listed_expiries`: the next
        ``listed_weeklies`` non-monthly expiries on the last weekday of ``weekly_weekdays``
        (NSE's single weekly weekday; Friday in the US), the next ``listed_dailies``
        non-monthly expiries on the other weekdays (US dailies, listed about a month ahead),
        the next ``listed_monthlies`` serial monthlies, then that many quarterly
        (Mar/Jun/Sep/Dec), half-yearly (Jun/Dec) and December monthlies beyond them, and the
        next ``listed_month_ends`` end-of-month expiries.
    """

    weekly_weekdays: tuple[int, ...] = ()
    monthly: MonthlyRule = MonthlyRule.LAST
    monthly_weekday: int = THURSDAY
    end_of_month: bool = False
    monday_holiday_next: bool = False
    skip_monthly_week: bool = False
    listed_weeklies: int = 0
    listed_dailies: int = 0
    listed_monthlies: int = 3
    listed_quarterlies: int = 0
    listed_half_yearlies: int = 0
    listed_decembers: int = 0
    listed_month_ends: int = 0

    def __post_init__(self) -> None:
        for wd in (*self.weekly_weekdays, self.monthly_weekday):
            if not isinstance(wd, int) or not 0 <= wd <= 4:
                raise ValueError(f"expiry weekday must be 0 (Mon) .. 4 (Fri), got {wd!r}")
        object.__setattr__(self, "weekly_weekdays", tuple(sorted(set(self.weekly_weekdays))))
        object.__setattr__(self, "monthly", MonthlyRule(self.monthly))
        for name in (
            "listed_weeklies",
            "listed_dailies",
            "listed_monthlies",
            "listed_quarterlies",
            "listed_half_yearlies",
            "listed_decembers",
            "listed_month_ends",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"ExpiryRule.{name} must be >= 0, got {getattr(self, name)}")

    def describe(self) -> str:
        """Short human description, e.g. ``weekly Thu; monthly last Thu``."""
        parts = []
        if self.weekly_weekdays:
            parts.append("weekly " + "/".join(_WEEKDAY_NAMES[d] for d in self.weekly_weekdays))
        if self.monthly is MonthlyRule.MCX_BULLION:
            parts.append("monthly 3 trading days before the future's tender period")
        else:
            parts.append(f"monthly {self.monthly.value} {_WEEKDAY_NAMES[self.monthly_weekday]}")
        if self.end_of_month:
            parts.append("end of month")
        return "; ".join(parts)


def _in_force(history: tuple[tuple[date, _T], ...], on: date, what: str, name: str) -> _T:
    if not isinstance(on, date):
        raise TypeError(f"{name}.{what}: date expected, got {on!r}")
    starts = [start for start, _ in history]
    i = bisect.bisect_right(starts, on) - 1
    if i < 0:
        raise ValueError(f"{name}.{what}: no value before {history[0][0]} (asked for {on})")
    return history[i][1]


def _check_history(name: str, what: str, history: tuple[tuple[date, object], ...]) -> None:
    if not history:
        raise ValueError(f"instrument {name}: {what} history is empty")
    starts = [start for start, _ in history]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise ValueError(f"instrument {name}: {what} history dates must be strictly ascending")


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """Static and dated facts of one option underlying (see the module docstring for units).

    ``name`` is the underlying as it appears in datasets and contracts (``NIFTY``, ``SPXW``).
    ``spot_underlying`` names the series the options are written on (``SPXW`` -> ``SPX``,
    ``NDXP`` -> ``NDX``, ``GOLDM`` -> ``GOLDM`` futures); ``underlying`` is an alias of it.
    ``session_open``/``session_close`` bound the data session: for US index options this is
    the 09:30-16:00 ET equity session of the spot index, although SPX/SPXW options trade until
    ``options_close`` (16:15 ET). ``settlement_clock`` is the time of day the settlement price
    is fixed: the 09:30 ET special opening quotation for AM-settled SPX, the close otherwise.
    """

    name: str
    venue: str
    calendar: str
    timezone: str
    currency: str
    session_open: time
    session_close: time
    options_close: time
    strike_step: float
    tick_size: float
    settlement: Settlement
    settlement_time: SettlementTime
    settlement_clock: time
    exercise_style: ExerciseStyle
    symbol_style: str
    occ_root: str | None
    spot_underlying: str
    lot_sizes: tuple[tuple[date, int], ...]
    expiry_rules: tuple[tuple[date, ExpiryRule], ...]
    strike_steps: tuple[tuple[date, float], ...] = field(default=())
    notes: str = ""

    def __post_init__(self) -> None:
        if self.symbol_style not in ("nse", "occ"):
            raise ValueError(f"instrument {self.name}: symbol_style must be 'nse' or 'occ'")
        if self.symbol_style == "occ" and not self.occ_root:
            raise ValueError(f"instrument {self.name}: OCC symbol style needs an occ_root")
        if self.strike_step <= 0 or self.tick_size <= 0:
            raise ValueError(f"instrument {self.name}: strike_step and tick_size must be > 0")
        _check_history(self.name, "lot size", self.lot_sizes)
        _check_history(self.name, "expiry rule", self.expiry_rules)
        if not self.strike_steps:
            object.__setattr__(self, "strike_steps", ((HISTORY_START, self.strike_step),))
        _check_history(self.name, "strike step", self.strike_steps)
        if self.strike_steps[-1][1] != self.strike_step:
            raise ValueError(f"instrument {self.name}: strike_step must equal the latest step")
        if any(size <= 0 for _, size in self.lot_sizes):
            raise ValueError(f"instrument {self.name}: lot sizes must be positive")

    @property
    def underlying(self) -> str:
        """Alias of :attr:`spot_underlying` (the spot series the options are written on)."""
        return self.spot_underlying

    def lot_size(self, on: date) -> int:
        """Units of the underlying per contract for contracts traded on ``on``."""
        return _in_force(self.lot_sizes, on, "lot_size", self.name)

    def strike_step_on(self, on: date) -> float:
        """Strike grid step in force on ``on`` (price units of the underlying)."""
        return _in_force(self.strike_steps, on, "strike_step_on", self.name)

    def expiry_rule(self, on: date) -> ExpiryRule:
        """Expiry rule in force on ``on`` (for expiries falling in the week/month of ``on``)."""
        return _in_force(self.expiry_rules, on, "expiry_rule", self.name)


# --------------------------------------------------------------------------------------------
# Registry data
# --------------------------------------------------------------------------------------------

_IST = "Asia/Kolkata"
_ET = "America/New_York"
_NSE_OPEN, _NSE_CLOSE = time(9, 15), time(15, 30)
_US_OPEN, _US_CLOSE, _US_INDEX_OPTIONS_CLOSE = time(9, 30), time(16, 0), time(16, 15)


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _nse_listing(
    weekly: tuple[int, ...], monthly_weekday: int, *, half_yearlies: int = 0
) -> ExpiryRule:
    """NSE/BSE index listing: 4 weeklies, 3 serial monthlies, 3 quarterlies (NSE contract
    cycle), plus ``half_yearlies`` Jun/Dec monthlies beyond them (NIFTY). Checked against the real
    2025-08-29 NSE chains: NIFTY listed 4 weeklies, 3 monthlies, 3 quarterlies and 8
    half-yearlies (to 2030-06); BANKNIFTY 3 monthlies and 3 quarterlies."""
    return ExpiryRule(
        weekly_weekdays=weekly,
        monthly=MonthlyRule.LAST,
        monthly_weekday=monthly_weekday,
        skip_monthly_week=True,
        listed_weeklies=4 if weekly else 0,
        listed_monthlies=3,
        listed_quarterlies=3,
        listed_half_yearlies=half_yearlies,
    )


def _nse_index(
    name: str,
    *,
    venue: str,
    strike_step: float,
    lot_sizes: tuple[tuple[date, int], ...],
    expiry_rules: tuple[tuple[date, ExpiryRule], ...],
    notes: str = "",
) -> InstrumentSpec:
    return InstrumentSpec(
        name=name,
        venue=venue,
        calendar="XBOM",
        timezone=_IST,
        currency="INR",
        session_open=_NSE_OPEN,
        session_close=_NSE_CLOSE,
        options_close=_NSE_CLOSE,
        strike_step=strike_step,
        tick_size=0.05,
        settlement=Settlement.CASH,
        settlement_time=SettlementTime.PM,
        settlement_clock=_NSE_CLOSE,
        exercise_style=ExerciseStyle.EUROPEAN,
        symbol_style="nse",
        occ_root=None,
        spot_underlying=name,
        lot_sizes=lot_sizes,
        expiry_rules=expiry_rules,
        notes=notes,
    )


# NSE/BSE dated expiry changes (each applies to expiries in the week, or month, starting on or
# after the date):
# - 2023-09-04: BANKNIFTY weeklies move from Thursday to Wednesday (NSE circular, Aug 2023).
# - 2024-03-01: BANKNIFTY monthly moves to the last Wednesday (first: 2024-03-27).
# - 2024-11-20: SEBI's one-weekly-per-exchange rule; NSE keeps only NIFTY weeklies (last
#   BANKNIFTY weekly 2024-11-13, FINNIFTY 2024-11-19, MIDCPNIFTY 2024-11-18), BSE keeps only
#   SENSEX (last BANKEX weekly 2024-11-18).
# - 2025-01-01: every NSE monthly on the last Thursday; BSE SENSEX weekly and BSE monthlies on
#   Tuesday.
# - 2025-09-01: NSE expiries on Tuesday (weekly and last-Tuesday monthly), BSE on Thursday.
#   Verified on the real 2025-08-29 NSE chains: NIFTY weekly 2025-09-02, BANKNIFTY monthly
#   2025-09-30, both Tuesdays.
_NSE_TUE = _d("2025-09-01")
_NIFTY_HALF_YEARLIES = 8  # 2025-08-29 real chain: Jun/Dec half-yearlies out to 2030-06

_NIFTY = _nse_index(
    "NIFTY",
    venue="NSE",
    strike_step=50.0,
    lot_sizes=(
        # 75 from the Nov 2015 revision; earlier lots were smaller (25 in 2014-15, 50
        # before, from memory) and are NOT modelled: lot sizes before 2015-11 are wrong here.
        (HISTORY_START, 75),
        # approximate: NIFTY lot 75 -> 50 with the July 2021 revision (month not verified)
        (_d("2021-07-30"), 50),
        (_d("2024-04-26"), 25),
        # SEBI's Nov 2024 minimum contract value: 75 for contracts from 2024-11-20
        # (contracts listed earlier kept 25 until their expiry; not modelled)
        (_d("2024-11-20"), 75),
        # approximate: NSE's Oct 2025 revision to 65 from the Jan 2026 series (end Dec 2025)
        (_d("2025-12-31"), 65),
    ),
    expiry_rules=(
        (
            HISTORY_START,
            _nse_listing((THURSDAY,), THURSDAY, half_yearlies=_NIFTY_HALF_YEARLIES),
        ),
        (_NSE_TUE, _nse_listing((TUESDAY,), TUESDAY, half_yearlies=_NIFTY_HALF_YEARLIES)),
    ),
)

_BANKNIFTY = _nse_index(
    "BANKNIFTY",
    venue="NSE",
    strike_step=100.0,
    lot_sizes=(
        # 25 from 2020; earlier lots varied (40 around 2016-18, 20 around 2018-20, from
        # memory) and are NOT modelled: lot sizes before 2020 are wrong here.
        (HISTORY_START, 25),
        # approximate: 25 -> 15 from the July 2023 series
        (_d("2023-07-01"), 15),
        (_d("2024-11-20"), 30),
        # approximate: 30 -> 35 in NSE's 2025 revision (effective date uncertain)
        (_d("2025-04-25"), 35),
        # approximate: 35 -> 30 from the Jan 2026 series
        (_d("2025-12-31"), 30),
    ),
    expiry_rules=(
        (HISTORY_START, _nse_listing((THURSDAY,), THURSDAY)),
        (_d("2023-09-04"), _nse_listing((WEDNESDAY,), THURSDAY)),
        (_d("2024-03-01"), _nse_listing((WEDNESDAY,), WEDNESDAY)),
        (_d("2024-11-14"), _nse_listing((), WEDNESDAY)),
        (_d("2025-01-01"), _nse_listing((), THURSDAY)),
        (_NSE_TUE, _nse_listing((), TUESDAY)),
    ),
)

_FINNIFTY = _nse_index(
    "FINNIFTY",
    venue="NSE",
    strike_step=50.0,
    lot_sizes=(
        # approximate: 40 at launch, 25 from Apr 2024, 65 from the Nov 2024 revision,
        # 60 from the Jan 2026 series
        (HISTORY_START, 40),
        (_d("2024-04-26"), 25),
        (_d("2024-11-20"), 65),
        (_d("2025-12-31"), 60),
    ),
    expiry_rules=(
        (HISTORY_START, _nse_listing((TUESDAY,), TUESDAY)),
        (_d("2024-11-20"), _nse_listing((), TUESDAY)),
        (_d("2025-01-01"), _nse_listing((), THURSDAY)),
        (_NSE_TUE, _nse_listing((), TUESDAY)),
    ),
)

_MIDCPNIFTY = _nse_index(
    "MIDCPNIFTY",
    venue="NSE",
    strike_step=25.0,
    lot_sizes=(
        # approximate: 75 at launch (2022), 50 from Apr 2024, 120 from the Nov 2024
        # revision, 140 in 2025, 120 from the Jan 2026 series
        (HISTORY_START, 75),
        (_d("2024-04-26"), 50),
        (_d("2024-11-20"), 120),
        (_d("2025-04-25"), 140),
        (_d("2025-12-31"), 120),
    ),
    expiry_rules=(
        (HISTORY_START, _nse_listing((MONDAY,), MONDAY)),
        (_d("2024-11-19"), _nse_listing((), MONDAY)),
        (_d("2025-01-01"), _nse_listing((), THURSDAY)),
        (_NSE_TUE, _nse_listing((), TUESDAY)),
    ),
)

_SENSEX = _nse_index(
    "SENSEX",
    venue="BSE",
    strike_step=100.0,
    lot_sizes=(
        # approximate: 10 since the May 2023 relaunch, 20 from the Nov 2024 revision
        (HISTORY_START, 10),
        (_d("2024-11-20"), 20),
    ),
    expiry_rules=(
        # Weekly Friday since the 2023-05-15 relaunch (earlier SENSEX options were illiquid;
        # the registry applies the Friday rule before then too). Monthly: last Friday.
        (HISTORY_START, _nse_listing((FRIDAY,), FRIDAY)),
        # Uncertain: the week of 2024-12-30 follows the Friday rule here (expiry 2025-01-03);
        # BSE may have moved that contract to Tuesday 2024-12-31.
        (_d("2025-01-01"), _nse_listing((TUESDAY,), TUESDAY)),
        (_NSE_TUE, _nse_listing((THURSDAY,), THURSDAY)),
    ),
)

_BANKEX = _nse_index(
    "BANKEX",
    venue="BSE",
    strike_step=100.0,
    lot_sizes=(
        # approximate: 15 since the Oct 2023 relaunch, 30 from the Nov 2024 revision
        (HISTORY_START, 15),
        (_d("2024-11-20"), 30),
    ),
    expiry_rules=(
        (HISTORY_START, _nse_listing((MONDAY,), MONDAY)),
        (_d("2024-11-19"), _nse_listing((), MONDAY)),
        # approximate: BSE monthlies on the last Tuesday from 2025, last Thursday from 2025-09
        (_d("2025-01-01"), _nse_listing((), TUESDAY)),
        (_NSE_TUE, _nse_listing((), THURSDAY)),
    ),
)

_GOLDM = InstrumentSpec(
    name="GOLDM",
    venue="MCX",
    # MCX holidays differ from BSE's (MCX often trades the evening session on equity
    # holidays); XBOM is the closest calendar exchange_calendars has. Approximate.
    calendar="XBOM",
    timezone=_IST,
    currency="INR",
    session_open=time(9, 0),
    # 23:30 IST while US daylight saving time is in force, 23:55 otherwise; 23:30 is used.
    session_close=time(23, 30),
    options_close=time(23, 30),
    # The MCX gold option specification gives a Rs 100 strike interval; the seed's 1000 is
    # the interval a strategy might trade on, not the listed grid.
    strike_step=100.0,
    tick_size=0.5,
    # Options on GOLDM futures devolve into the future on expiry (MCX); treated as physical.
    settlement=Settlement.PHYSICAL,
    settlement_time=SettlementTime.PM,
    settlement_clock=time(23, 30),
    exercise_style=ExerciseStyle.EUROPEAN,
    symbol_style="nse",
    occ_root=None,
    spot_underlying="GOLDM",
    # premium in Rs per 10 g, one contract = one 100 g GOLDM future -> 10 quote units
    lot_sizes=((HISTORY_START, 10),),
    expiry_rules=(
        (
            HISTORY_START,
            ExpiryRule(monthly=MonthlyRule.MCX_BULLION, monthly_weekday=FRIDAY, listed_monthlies=3),
        ),
    ),
    notes="options on MCX Gold Mini (100 g) futures; expiry rule approximate",
)


def _us_spec(
    name: str,
    *,
    venue: str,
    spot: str,
    strike_step: float,
    tick_size: float,
    settlement: Settlement,
    settlement_time: SettlementTime,
    exercise_style: ExerciseStyle,
    options_close: time,
    expiry_rules: tuple[tuple[date, ExpiryRule], ...],
    notes: str = "",
) -> InstrumentSpec:
    return InstrumentSpec(
        name=name,
        venue=venue,
        calendar="XNYS",
        timezone=_ET,
        currency="USD",
        session_open=_US_OPEN,
        session_close=_US_CLOSE,
        options_close=options_close,
        strike_step=strike_step,
        tick_size=tick_size,
        settlement=settlement,
        settlement_time=settlement_time,
        settlement_clock=_US_OPEN if settlement_time is SettlementTime.AM else _US_CLOSE,
        exercise_style=exercise_style,
        symbol_style="occ",
        occ_root=name,
        spot_underlying=spot,
        lot_sizes=((HISTORY_START, 100),),
        expiry_rules=expiry_rules,
        notes=notes,
    )


def _us_rule(weekdays: tuple[int, ...], *, eom: bool, month_ends: int) -> ExpiryRule:
    """US listing, calibrated on the real 2019-05-03 SPX/SPXW chains: third-Friday
    monthlies (6 serial, 3 quarterly, 2 December LEAPS), 7 Friday weeklies, the other
    weekdays' dailies for about four weeks, and ``month_ends`` end-of-month expiries."""
    return ExpiryRule(
        weekly_weekdays=weekdays,
        monthly=MonthlyRule.THIRD,
        monthly_weekday=FRIDAY,
        end_of_month=eom,
        monday_holiday_next=True,
        listed_weeklies=7 if FRIDAY in weekdays else 0,
        listed_dailies=4 * (len(weekdays) - 1) + 1 if len(weekdays) > 1 else 0,
        listed_monthlies=6,
        listed_quarterlies=3,
        listed_decembers=2,
        listed_month_ends=month_ends if eom else 0,
    )


_MWF = (MONDAY, WEDNESDAY, FRIDAY)
_DAILY = (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY)

_SPX = _us_spec(
    "SPX",
    venue="CBOE",
    spot="SPX",
    strike_step=5.0,
    # 0.05 below $3, 0.10 from $3 (CBOE); the smaller tick is recorded
    tick_size=0.05,
    settlement=Settlement.CASH,
    settlement_time=SettlementTime.AM,
    exercise_style=ExerciseStyle.EUROPEAN,
    options_close=_US_INDEX_OPTIONS_CLOSE,
    expiry_rules=((HISTORY_START, _us_rule((), eom=False, month_ends=0)),),
    notes="AM-settled third-Friday monthlies (SOQ at 09:30 ET)",
)

_SPXW = _us_spec(
    "SPXW",
    venue="CBOE",
    spot="SPX",
    strike_step=5.0,
    tick_size=0.05,
    settlement=Settlement.CASH,
    settlement_time=SettlementTime.PM,
    exercise_style=ExerciseStyle.EUROPEAN,
    options_close=_US_INDEX_OPTIONS_CLOSE,
    expiry_rules=(
        # Friday weeklies (2005); Wednesdays listed from 2016-02-23, Mondays from 2016-08-15,
        # Tuesdays from 2022-04-18, Thursdays from 2022-05-11 (CBOE launch dates). The rule
        # changes below are week starts; whether the launch week itself had an expiry on the
        # new weekday is approximate (Monday: first expiry taken as 2016-08-22).
        # EOM: PM end-of-month expiries.
        (HISTORY_START, _us_rule((FRIDAY,), eom=True, month_ends=6)),
        (_d("2016-02-22"), _us_rule((WEDNESDAY, FRIDAY), eom=True, month_ends=6)),
        (_d("2016-08-22"), _us_rule(_MWF, eom=True, month_ends=6)),
        (_d("2022-04-18"), _us_rule((MONDAY, TUESDAY, WEDNESDAY, FRIDAY), eom=True, month_ends=6)),
        (_d("2022-05-09"), _us_rule(_DAILY, eom=True, month_ends=6)),
    ),
    notes="PM-settled SPX weeklies, dailies and end-of-month",
)

_NDXP = _us_spec(
    "NDXP",
    venue="NASDAQ",
    spot="NDX",
    strike_step=10.0,
    tick_size=0.05,
    settlement=Settlement.CASH,
    settlement_time=SettlementTime.PM,
    exercise_style=ExerciseStyle.EUROPEAN,
    options_close=_US_INDEX_OPTIONS_CLOSE,
    expiry_rules=(
        # approximate: Friday weeklies, Mon/Wed added later, dailies from 2022; the exact
        # dates of Nasdaq's NDXP additions were not verified.
        (HISTORY_START, _us_rule((FRIDAY,), eom=True, month_ends=3)),
        (_d("2022-05-09"), _us_rule(_DAILY, eom=True, month_ends=3)),
    ),
    notes="PM-settled NDX options; dated weekday additions approximate",
)


def _etf(name: str, rules: tuple[tuple[date, ExpiryRule], ...]) -> InstrumentSpec:
    return _us_spec(
        name,
        venue="OPRA",
        spot=name,
        strike_step=1.0,
        tick_size=0.01,
        settlement=Settlement.PHYSICAL,
        settlement_time=SettlementTime.PM,
        exercise_style=ExerciseStyle.AMERICAN,
        options_close=_US_CLOSE,
        expiry_rules=rules,
        notes="physically settled, American-style: early exercise is not modelled by the engine",
    )


# ETF weekday additions (approximate where marked): SPY Wed 2016-02, Mon 2016-08, Tue/Thu
# dailies 2022-11-14; QQQ Mon/Wed 2018 (approximate), dailies 2022-11-14; IWM Mon/Wed
# (approximate 2018) and Fridays only otherwise.
_SPY = _etf(
    "SPY",
    (
        (HISTORY_START, _us_rule((FRIDAY,), eom=True, month_ends=3)),
        (_d("2016-02-22"), _us_rule((WEDNESDAY, FRIDAY), eom=True, month_ends=3)),
        (_d("2016-08-22"), _us_rule(_MWF, eom=True, month_ends=3)),
        (_d("2022-11-14"), _us_rule(_DAILY, eom=True, month_ends=3)),
    ),
)
_QQQ = _etf(
    "QQQ",
    (
        (HISTORY_START, _us_rule((FRIDAY,), eom=True, month_ends=3)),
        (_d("2018-06-04"), _us_rule(_MWF, eom=True, month_ends=3)),
        (_d("2022-11-14"), _us_rule(_DAILY, eom=True, month_ends=3)),
    ),
)
_IWM = _etf(
    "IWM",
    (
        (HISTORY_START, _us_rule((FRIDAY,), eom=True, month_ends=3)),
        (_d("2018-06-04"), _us_rule(_MWF, eom=True, month_ends=3)),
    ),
)

_REGISTRY: dict[str, InstrumentSpec] = {
    spec.name: spec
    for spec in (
        _NIFTY,
        _BANKNIFTY,
        _FINNIFTY,
        _MIDCPNIFTY,
        _SENSEX,
        _BANKEX,
        _GOLDM,
        _SPX,
        _SPXW,
        _NDXP,
        _SPY,
        _QQQ,
        _IWM,
    )
}
_OCC_ROOTS: dict[str, InstrumentSpec] = {
    spec.occ_root: spec for spec in _REGISTRY.values() if spec.occ_root is not None
}


def instruments() -> tuple[InstrumentSpec, ...]:
    """Every registered instrument, in registry order (Indian venues first, then US)."""
    return tuple(_REGISTRY.values())


def instrument_names() -> tuple[str, ...]:
    """Names of every registered instrument."""
    return tuple(_REGISTRY)


def get_instrument(name: str) -> InstrumentSpec:
    """The spec of ``name`` (case-insensitive, surrounding blanks ignored).

    Raises
    ------
    UnknownInstrumentError
        ``name`` is not registered; the message names it and lists the known underlyings.
    """
    if isinstance(name, InstrumentSpec):
        return name
    key = name.strip().upper() if isinstance(name, str) else name
    try:
        return _REGISTRY[key]  # type: ignore[index]
    except (KeyError, TypeError):
        raise UnknownInstrumentError(name, instrument_names()) from None


def instrument_by_occ_root(root: str) -> InstrumentSpec:
    """The spec whose OCC root is ``root`` (``SPXW`` -> SPXW); ``UnknownInstrumentError`` else."""
    try:
        return _OCC_ROOTS[root.strip().upper()]
    except KeyError:
        raise UnknownInstrumentError(root, tuple(_OCC_ROOTS)) from None
