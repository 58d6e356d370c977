"""Trading calendars, sessions and expiry calendars per underlying.

Trading days come from ``exchange_calendars``: ``XNYS`` for US venues, ``XBOM`` (BSE, whose
holidays are NSE's) for Indian ones, including MCX (an approximation: MCX keeps its evening
session on some equity holidays). On top of it, the registry's dated calendar overrides
(:mod:`workbench.model.calendar_overrides`) add the sessions the calendar misses (NSE/BSE
Muhurat hours, weekend disaster-recovery sessions, Budget-day Saturdays, a moved holiday) with
their hours, and remove sessions the venue did not hold. Every function here applies them:
ingest, the engine and the expiry calendar see the same days. Calendars are built once per
process and turned into plain Python sets and sorted lists, so every function here is cheap
after the first call.

Special sessions (``special=True`` overrides: Muhurat, weekend tests, Budget days) are trading
days with their own hours (:func:`session_bounds`, :func:`session_windows`), but they never host
an expiry (a nominal expiry on such a day moves to the previous regular session), and
``trading_days(..., special=False)`` leaves them out (the synthetic market's calendar).

Calendar coverage: ``XNYS`` is rule-based and built for 1990-01-02 .. 2035-12-31. ``XBOM``
from 1997-01-01; its holidays are an explicit list that ends at the calendar's last session
(2026-12-31 in exchange_calendars 4.13). Outside a calendar's coverage :func:`is_trading_day`
and friends raise :class:`CalendarRangeError` (:func:`coverage` gives the range), except expiry
generation, which treats every weekday as a trading day beyond the coverage (XBOM: except
fixed-date national holidays) so that long-dated expiries (NIFTY half-yearlies to 2030) can
still be listed; such far dates ignore holidays whose date moves from year to year. Expiries
are generated from :data:`EXPIRY_START` (2005-01-03).

Expiry calendar: an underlying's expiries are generated from its dated
:class:`~workbench.model.instruments.ExpiryRule` history: weekly expiries on the rule's
weekdays (the rule in force on the Monday of each week), the monthly expiry of each month (the
rule in force on the first day of the month) and, where the rule says so, the last trading
day of each month. NSE/BSE weeklies skip the week of the monthly expiry. A nominal expiry that falls on a holiday moves to the previous trading day
(2024-04-11 Eid -> NIFTY weekly 2024-04-10; 2025-04-18 Good Friday -> SPX monthly
2025-04-17), except US Monday weeklies, which move to the next trading day (CBOE practice;
2019-05-27 Memorial Day -> SPXW 2019-05-28).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import importlib.util
import itertools
import json
import os
import tempfile
import threading
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.model.calendar_overrides import OVERRIDES, SessionOverride, overrides_for
from workbench.model.dates import as_date
from workbench.model.enums import ExpiryKind
from workbench.model.instruments import (
    HISTORY_START,
    InstrumentSpec,
    MonthlyRule,
    get_instrument,
)

if TYPE_CHECKING:  # exchange_calendars (and pandas) load on first calendar use, not on import
    import exchange_calendars as xcals

#: First session of each calendar built here (its coverage starts there).
CALENDAR_STARTS: dict[str, date] = {"XNYS": date(1990, 1, 2), "XBOM": date(1997, 1, 1)}
_DEFAULT_START = date(2005, 1, 3)
EXPIRY_START = date(2005, 1, 3)
"""Expiries are generated from this date (the registry's expiry rules are not modelled earlier)."""
_XNYS_END = date(2035, 12, 31)
_EXPIRY_END = date(2035, 12, 31)
"""Expiries are generated up to this date (weekday-only beyond a calendar's coverage)."""

_lock = threading.Lock()

# Fixed-date national holidays that Indian exchanges always close for (Republic Day,
# Maharashtra Day, Independence Day, Gandhi Jayanti, Christmas). Used only beyond XBOM's
# explicit holiday list, so that far expiries (NIFTY 2029-12-25 -> 2029-12-24) come out as
# the exchange will list them; lunar-calendar holidays cannot be known that far ahead.
_FIXED_HOLIDAYS: dict[str, frozenset[tuple[int, int]]] = {
    "XBOM": frozenset({(1, 26), (5, 1), (8, 15), (10, 2), (12, 25)}),
}


class CalendarRangeError(ValueError):
    """A date outside the trading calendar's coverage."""


@dataclass(frozen=True, slots=True)
class _Sessions:
    name: str
    first: date
    last: date
    days: tuple[date, ...]
    day_set: frozenset[date]
    # exchange-local (open, close) for sessions whose hours differ from the regular ones
    special_hours: dict[date, tuple[time, time]]
    # (month, day) holidays assumed beyond the coverage (expiry generation only)
    fixed_holidays: frozenset[tuple[int, int]] = frozenset()
    # the registry's overrides that apply to this venue, by day
    overrides: dict[date, SessionOverride] | None = None
    # days that may host an expiry (regular sessions: the days without special overrides)
    expiry_days: frozenset[date] | None = None

    def check(self, d: date, who: str) -> None:
        if not self.first <= d <= self.last:
            raise CalendarRangeError(
                f"{who}: {d} is outside the {self.name} calendar ({self.first} .. {self.last})"
            )

    def is_session(self, d: date) -> bool:
        """Expiry-day test: a regular session (not a special one); beyond the coverage every
        weekday counts, except fixed-date holidays (for expiry generation)."""
        if self.first <= d <= self.last:
            return d in (self.expiry_days if self.expiry_days is not None else self.day_set)
        return d.weekday() < 5 and (d.month, d.day) not in self.fixed_holidays

    def override(self, d: date) -> SessionOverride | None:
        return None if self.overrides is None else self.overrides.get(d)


@cache
def _calendar(name: str) -> xcals.ExchangeCalendar:
    import exchange_calendars as xcals

    start = CALENDAR_STARTS.get(name, _DEFAULT_START).isoformat()
    end = _XNYS_END.isoformat() if name == "XNYS" else None
    with _lock, warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values on tz-aware data, which pandas 3
        # deprecates; the warning is the library's, not ours.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        if end is None:
            return xcals.get_calendar(name, start=start)
        return xcals.get_calendar(name, start=start, end=end)


#: Environment variable: a folder for the session tables, or ``0``/``off`` to build them each
#: process.
SESSIONS_CACHE_ENV = "WORKBENCH_CALENDAR_CACHE"
#: Bumped whenever what :func:`_base_sessions` derives from a calendar changes.
_SESSIONS_FORMAT = 1


def _sessions_file(name: str) -> Path | None:
    """Where ``name``'s session table is kept between processes: keyed by the calendar's
    range and the installed ``exchange_calendars`` (its version file and package folder), so
    an upgrade never reads an old table. ``None``: turned off, or the library not found."""
    value = os.environ.get(SESSIONS_CACHE_ENV, "").strip()
    if value.lower() in ("0", "off", "false", "no"):
        return None
    if value:
        root = Path(value).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
        root = Path(base) / "workbench" / "calendars"
    try:
        spec = importlib.util.find_spec("exchange_calendars")
        if spec is None or spec.origin is None:
            return None
        package = Path(spec.origin).parent
        version = (package / "_version.py").read_bytes()
        st = package.stat()
    except (OSError, ImportError, ValueError):
        return None
    start = CALENDAR_STARTS.get(name, _DEFAULT_START).isoformat()
    end = _XNYS_END.isoformat() if name == "XNYS" else "open"
    key = json.dumps([_SESSIONS_FORMAT, name, start, end, version.hex(), st.st_mtime_ns])
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return root / f"{name}-{digest}.json"


def _stored_sessions(path: Path) -> tuple[list[date], dict[date, tuple[time, time]]] | None:
    """A session table written by :func:`_store_sessions` (``None``: absent or not valid)."""
    try:
        raw = json.loads(path.read_text())
        ordinals = raw["days"]
        if not ordinals or any(b <= a for a, b in itertools.pairwise(ordinals)):
            return None
        days = [date.fromordinal(int(o)) for o in ordinals]
        special = {
            date.fromordinal(int(o)): (time.fromisoformat(a), time.fromisoformat(b))
            for o, a, b in raw["special"]
        }
        if raw["check"] != _table_check(ordinals, raw["special"]):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return days, special


def _table_check(ordinals: list[int], special: list[list[Any]]) -> str:
    return hashlib.sha256(json.dumps([ordinals, special]).encode()).hexdigest()


def _store_sessions(
    path: Path, days: tuple[date, ...], special: dict[date, tuple[time, time]]
) -> None:
    """Write ``path`` whole or not at all (a temporary renamed into place); a folder that
    cannot be written only means the table is built again next time."""
    ordinals = [d.toordinal() for d in days]
    rows = [[d.toordinal(), o.isoformat(), c.isoformat()] for d, (o, c) in special.items()]
    text = json.dumps({"days": ordinals, "special": rows, "check": _table_check(ordinals, rows)})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return


@cache
def _base_sessions(name: str) -> _Sessions:
    """The exchange calendar ``name`` as it is, without overrides. Building it from
    ``exchange_calendars`` takes ~0.15 s (import, calendar, schedule) in every process -- each
    pool worker of a sweep too -- so the table is kept on disk (:func:`_sessions_file`)."""
    fixed = _FIXED_HOLIDAYS.get(name, frozenset())
    path = _sessions_file(name)
    stored = None if path is None else _stored_sessions(path)
    if stored is not None:
        days_list, special_hours = stored
        days_t = tuple(days_list)
        return _Sessions(
            name, days_t[0], days_t[-1], days_t, frozenset(days_t), special_hours, fixed
        )
    built = _built_sessions(name)
    if path is not None:
        _store_sessions(path, built.days, built.special_hours)
    return built


def _built_sessions(name: str) -> _Sessions:
    """:func:`_base_sessions` from ``exchange_calendars`` itself."""
    cal = _calendar(name)
    sched = cal.schedule
    tz = cal.tz
    opens = sched["open"].dt.tz_convert(tz).dt.tz_localize(None)
    closes = sched["close"].dt.tz_convert(tz).dt.tz_localize(None)
    days = tuple(ts.date() for ts in sched.index)
    open_t = [ts.time() for ts in opens]
    close_t = [ts.time() for ts in closes]
    regular_open = Counter(open_t).most_common(1)[0][0]
    regular_close = Counter(close_t).most_common(1)[0][0]
    special = {
        d: (o, c)
        for d, o, c in zip(days, open_t, close_t)
        if o != regular_open or c != regular_close
    }
    fixed = _FIXED_HOLIDAYS.get(name, frozenset())
    return _Sessions(name, days[0], days[-1], days, frozenset(days), special, fixed)


def apply_overrides(base: _Sessions, overrides: dict[date, SessionOverride]) -> _Sessions:
    """``base`` with ``overrides`` applied (those inside its coverage)."""
    inside = {d: o for d, o in overrides.items() if base.first <= d <= base.last}
    if not inside:
        return base
    day_set = set(base.day_set)
    for d, entry in inside.items():
        if entry.kind == "session":
            day_set.add(d)
        else:
            day_set.discard(d)
    expiry_days = frozenset(
        d
        for d in day_set
        if not (d in inside and inside[d].kind == "session" and inside[d].special)
    )
    special = dict(base.special_hours)
    for d, entry in inside.items():
        if entry.kind == "session":
            special[d] = (entry.open, entry.close)
        else:
            special.pop(d, None)
    return _Sessions(
        base.name,
        base.first,
        base.last,
        tuple(sorted(day_set)),
        frozenset(day_set),
        special,
        base.fixed_holidays,
        inside,
        expiry_days,
    )


@cache
def _sessions(name: str, venue: str | None = None) -> _Sessions:
    """Calendar ``name`` with the registry's overrides for ``venue`` applied."""
    base = _base_sessions(name)
    if venue is None:
        return base
    return apply_overrides(base, overrides_for(venue, OVERRIDES))


def trading_calendar(underlying: str) -> xcals.ExchangeCalendar:
    """The ``exchange_calendars`` calendar of ``underlying`` (built once, then cached)."""
    return _calendar(get_instrument(underlying).calendar)


def _spec_sessions(underlying: str) -> tuple[InstrumentSpec, _Sessions]:
    spec = get_instrument(underlying)
    return spec, _sessions(spec.calendar, spec.venue)


def coverage(underlying: str) -> tuple[date, date]:
    """First and last day of ``underlying``'s calendar coverage (both inclusive)."""
    _, s = _spec_sessions(underlying)
    return s.first, s.last


def expiry_coverage() -> tuple[date, date]:
    """First and last day expiries are generated for (:data:`EXPIRY_START` .. 2035-12-31)."""
    return EXPIRY_START, _EXPIRY_END


def is_trading_day(underlying: str, day: date) -> bool:
    """Whether ``day`` is a trading day of ``underlying``'s venue calendar (overrides applied)."""
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    s.check(d, f"is_trading_day({spec.name!r})")
    return d in s.day_set


def trading_days(underlying: str, start: date, end: date, *, special: bool = True) -> list[date]:
    """Trading days from ``start`` to ``end``, both inclusive, ascending.

    ``special=False`` leaves out special sessions (Muhurat hours, weekend test sessions,
    Budget-day Saturdays; see :mod:`workbench.model.calendar_overrides`): the venue's regular
    trading days, the synthetic market's calendar.
    """
    spec, s = _spec_sessions(underlying)
    a, b = as_date(start, "start"), as_date(end, "end")
    if b < a:
        raise ValueError(f"trading_days({spec.name!r}): end {b} is before start {a}")
    s.check(a, f"trading_days({spec.name!r}) start")
    s.check(b, f"trading_days({spec.name!r}) end")
    days = s.days[bisect.bisect_left(s.days, a) : bisect.bisect_right(s.days, b)]
    if special or s.expiry_days is None:
        return list(days)
    return [d for d in days if d in s.expiry_days]


def is_special_session(underlying: str, day: date) -> bool:
    """Whether ``day`` is a special session of ``underlying``'s venue (an override with
    ``special=True``: Muhurat, a weekend test session, a Budget-day Saturday)."""
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    s.check(d, f"is_special_session({spec.name!r})")
    entry = s.override(d)
    return entry is not None and entry.kind == "session" and entry.special


def session_override(underlying: str, day: date) -> SessionOverride | None:
    """The registry's calendar override for ``underlying``'s venue on ``day``, if any."""
    _, s = _spec_sessions(underlying)
    return s.override(as_date(day, "day"))


def previous_trading_day(underlying: str, day: date) -> date:
    """The last trading day strictly before ``day``."""
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    s.check(d, f"previous_trading_day({spec.name!r})")
    i = bisect.bisect_left(s.days, d) - 1
    if i < 0:
        raise CalendarRangeError(f"previous_trading_day({spec.name!r}): nothing before {d}")
    return s.days[i]


def next_trading_day(underlying: str, day: date) -> date:
    """The first trading day strictly after ``day``."""
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    s.check(d, f"next_trading_day({spec.name!r})")
    i = bisect.bisect_right(s.days, d)
    if i >= len(s.days):
        raise CalendarRangeError(f"next_trading_day({spec.name!r}): nothing after {d}")
    return s.days[i]


def session_windows(underlying: str, day: date) -> list[tuple[datetime, datetime]]:
    """Exchange-local naive ``[(open, close), ...]`` trading windows of the session on ``day``.

    One window on an ordinary day (:func:`session_bounds`); a session with a break (the 2024
    NSE disaster-recovery Saturdays: 09:15-10:00 and 11:30-12:30) has one per part. Raises
    ``ValueError`` if ``day`` is not a trading day.
    """
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    entry = s.override(d)
    if entry is not None and entry.kind == "session":
        s.check(d, f"session_windows({spec.name!r})")
        return [(datetime.combine(d, a), datetime.combine(d, b)) for a, b in entry.hours]
    return [session_bounds(underlying, d)]


def settlement_day(underlying: str, expiry: date) -> date:
    """The session an expiry settles on: the expiry itself when it is a trading day, else the
    registry's shifted date -- the previous trading day, or the next one for a Monday expiry
    whose rule moves Monday holidays forward (CBOE's ``monday_holiday_next``). Beyond the
    calendar's coverage every weekday counts as a session."""
    spec, s = _spec_sessions(underlying)
    d = as_date(expiry, "expiry")
    if s.is_session(d):
        return d
    if d.weekday() == 0 and spec.expiry_rule(d).monday_holiday_next:
        return _shift_forward(s, d)
    return _shift_back(s, d)


def session_bounds(underlying: str, day: date) -> tuple[datetime, datetime]:
    """Exchange-local naive ``(open, close)`` of the data session on ``day``.

    The spec's session hours (NSE/BSE 09:15-15:30 IST, MCX 09:00-23:30 IST, US 09:30-16:00
    ET), with the calendar's early closes and late opens where it has them (XNYS 13:00 ET
    half days), and the hours of a registry override (a Muhurat hour: 18:15-19:15 IST; a
    session with a break spans both parts, see :func:`session_windows`). Raises
    ``ValueError`` if ``day`` is not a trading day.
    """
    spec, s = _spec_sessions(underlying)
    d = as_date(day, "day")
    s.check(d, f"session_bounds({spec.name!r})")
    if d not in s.day_set:
        raise ValueError(f"session_bounds({spec.name!r}): {d} is not a {spec.calendar} trading day")
    entry = s.override(d)
    if entry is not None and entry.kind == "session":
        return datetime.combine(d, entry.open), datetime.combine(d, entry.close)
    open_t, close_t = spec.session_open, spec.session_close
    special = s.special_hours.get(d)
    if special is not None and spec.calendar == "XNYS":
        # XNYS early close / late open: follow the exchange (US venues keep the equity hours)
        open_t, close_t = max(open_t, special[0]), min(close_t, special[1])
    return datetime.combine(d, open_t), datetime.combine(d, close_t)


# --------------------------------------------------------------------------------------------
# Expiry calendar
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ExpiryTable:
    """Every expiry of one underlying from HISTORY/CALENDAR start to _EXPIRY_END."""

    all_dates: tuple[date, ...]  # sorted, unique
    weekly: tuple[date, ...]  # non-monthly expiries on the rule's last weekly weekday
    dailies: tuple[date, ...]  # non-monthly expiries on the rule's other weekdays
    monthly: tuple[date, ...]  # standard monthlies, sorted
    month_ends: tuple[date, ...]  # end-of-month expiries
    monthly_label: dict[date, tuple[int, int]]  # monthly expiry -> contract (year, month)
    monthly_by_label: dict[tuple[int, int], date]


def _shift_back(s: _Sessions, d: date) -> date:
    while not s.is_session(d):
        d -= timedelta(days=1)
    return d


def _shift_forward(s: _Sessions, d: date) -> date:
    while not s.is_session(d):
        d += timedelta(days=1)
    return d


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _back_trading_days(s: _Sessions, d: date, n: int) -> date:
    for _ in range(n):
        d = _shift_back(s, d - timedelta(days=1))
    return d


def _monthly_for(spec: InstrumentSpec, s: _Sessions, year: int, month: int) -> date:
    rule = spec.expiry_rule(date(year, month, 1))
    if rule.monthly is MonthlyRule.LAST:
        return _shift_back(s, _last_weekday(year, month, rule.monthly_weekday))
    if rule.monthly is MonthlyRule.THIRD:
        return _shift_back(s, _nth_weekday(year, month, rule.monthly_weekday, 3))
    # MCX bullion: future expires on the 5th (previous trading day if a holiday); the tender
    # period is the 5 trading days ending there; the option expires 3 trading days before it.
    future_expiry = _shift_back(s, date(year, month, 5))
    return _back_trading_days(s, future_expiry, 7)


@cache
def _expiry_table(name: str) -> _ExpiryTable:
    spec = get_instrument(name)
    s = _sessions(spec.calendar, spec.venue)
    start = max(HISTORY_START, EXPIRY_START)
    monthly_by_label: dict[tuple[int, int], date] = {}
    for year in range(start.year, _EXPIRY_END.year + 1):
        for month in range(1, 13):
            monthly_by_label[(year, month)] = _monthly_for(spec, s, year, month)
    monthly_label = {d: label for label, d in monthly_by_label.items()}
    monthly_set = set(monthly_label)
    monthly_weeks = {m - timedelta(days=m.weekday()) for m in monthly_set}

    weekly: set[date] = set()
    dailies: set[date] = set()
    monday = start - timedelta(days=start.weekday())
    while monday <= _EXPIRY_END:
        rule = spec.expiry_rule(monday)
        weekdays = (
            () if rule.skip_monthly_week and monday in monthly_weeks else rule.weekly_weekdays
        )
        for wd in weekdays:
            nominal = monday + timedelta(days=wd)
            if wd == 0 and rule.monday_holiday_next:
                d = _shift_forward(s, nominal)
            else:
                d = _shift_back(s, nominal)
            if d not in monthly_set:
                (weekly if wd == rule.weekly_weekdays[-1] else dailies).add(d)
        monday += timedelta(days=7)

    month_ends: set[date] = set()
    for year in range(start.year, _EXPIRY_END.year + 1):
        for month in range(1, 13):
            first = date(year, month, 1)
            if spec.expiry_rule(first).end_of_month:
                nxt = date(year + month // 12, month % 12 + 1, 1)
                month_ends.add(_shift_back(s, nxt - timedelta(days=1)))

    dailies -= weekly
    all_dates = tuple(sorted(weekly | dailies | monthly_set | month_ends))
    return _ExpiryTable(
        all_dates=all_dates,
        weekly=tuple(sorted(weekly - month_ends)),
        dailies=tuple(sorted(dailies - month_ends)),
        monthly=tuple(sorted(monthly_set)),
        month_ends=tuple(sorted(month_ends - monthly_set)),
        monthly_label=monthly_label,
        monthly_by_label=monthly_by_label,
    )


def monthly_expiry(underlying: str, year: int, month: int) -> date:
    """The standard monthly expiry of ``underlying`` for contract month ``year``-``month``.

    NSE/BSE: last expiry weekday of the month; US: third Friday; both moved to the previous
    trading day on a holiday. MCX GOLDM: see :class:`~workbench.model.instruments.MonthlyRule`
    (the option labelled FEB expires in late January).
    """
    spec = get_instrument(underlying)
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"monthly_expiry({spec.name!r}): month must be 1..12, got {month!r}")
    table = _expiry_table(spec.name)
    try:
        return table.monthly_by_label[(year, month)]
    except KeyError:
        raise CalendarRangeError(
            f"monthly_expiry({spec.name!r}): {year}-{month:02d} is outside "
            f"{EXPIRY_START.year}..{_EXPIRY_END.year}"
        ) from None


def monthly_label(underlying: str, expiry: date) -> tuple[int, int] | None:
    """Contract ``(year, month)`` if ``expiry`` is a standard monthly expiry, else ``None``."""
    spec = get_instrument(underlying)
    return _expiry_table(spec.name).monthly_label.get(as_date(expiry, "expiry"))


def expiry_kind(underlying: str, expiry: date) -> ExpiryKind:
    """``MONTHLY`` if ``expiry`` is the standard monthly expiry of its contract month, else
    ``WEEKLY`` (weeklies, US dailies and end-of-month expiries alike)."""
    spec = get_instrument(underlying)
    d = as_date(expiry, "expiry")
    if d in _expiry_table(spec.name).monthly_label:
        return ExpiryKind.MONTHLY
    return ExpiryKind.WEEKLY


def is_expiry(underlying: str, day: date) -> bool:
    """Whether ``day`` is one of ``underlying``'s expiry dates (any kind)."""
    spec = get_instrument(underlying)
    table = _expiry_table(spec.name)
    d = as_date(day, "day")
    i = bisect.bisect_left(table.all_dates, d)
    return i < len(table.all_dates) and table.all_dates[i] == d


def expiries_between(underlying: str, start: date, end: date) -> list[date]:
    """Every expiry date of ``underlying`` from ``start`` to ``end`` (inclusive), ascending."""
    spec = get_instrument(underlying)
    table = _expiry_table(spec.name)
    a, b = as_date(start, "start"), as_date(end, "end")
    return list(
        table.all_dates[
            bisect.bisect_left(table.all_dates, a) : bisect.bisect_right(table.all_dates, b)
        ]
    )


def _next_n(seq: tuple[date, ...], on: date, n: int) -> list[date]:
    i = bisect.bisect_left(seq, on)
    return list(seq[i : i + n])


@cache
def _listed_cached(name: str, on: date) -> tuple[date, ...]:
    spec = get_instrument(name)
    table = _expiry_table(name)
    rule = spec.expiry_rule(on)
    listed: set[date] = set(_next_n(table.weekly, on, rule.listed_weeklies))
    listed.update(_next_n(table.dailies, on, rule.listed_dailies))
    listed.update(_next_n(table.month_ends, on, rule.listed_month_ends))
    i = bisect.bisect_left(table.monthly, on)
    monthlies = table.monthly[i:]
    serial = list(monthlies[: rule.listed_monthlies])
    listed.update(serial)
    rest = monthlies[len(serial) :]
    for months, count in (
        ((3, 6, 9, 12), rule.listed_quarterlies),
        ((6, 12), rule.listed_half_yearlies),
        ((12,), rule.listed_decembers),
    ):
        taken = 0
        j = 0
        while taken < count and j < len(rest):
            if table.monthly_label[rest[j]][1] in months:
                listed.add(rest[j])
                taken += 1
            j += 1
        rest = rest[j:]
    return tuple(sorted(listed))


def listed_expiries(underlying: str, on: date, horizon_days: int | None = None) -> list[date]:
    """Expiries a trader sees listed on ``on`` (``on`` itself included if it is an expiry).

    What is listed follows the rule in force on ``on`` (:class:`ExpiryRule` listing depth):

    - NSE/BSE indices: the next 4 weekly expiries (none once weeklies were discontinued),
      the next 3 monthlies, then 3 quarterlies (Mar/Jun/Sep/Dec); NIFTY also 8 half-yearlies
      (Jun/Dec). This reproduces the real NSE chains of 2025-08-29.
    - MCX GOLDM: the next 3 monthlies.
    - US: 6 serial third-Friday monthlies, 3 quarterlies and 2 December LEAPS beyond them;
      7 Friday weeklies, the other weekdays' dailies for about four weeks, and end-of-month
      expiries (SPXW 6, NDXP/ETFs 3) where the product has them. Calibrated on the real
      2019-05-03 SPXW chain; the real schedule also lists quarter-end EOMs further out.

    ``horizon_days`` keeps only expiries at most that many calendar days after ``on``
    (``None``: no limit). Ascending. Results are cached per (underlying, day).
    """
    spec = get_instrument(underlying)
    d = as_date(on, "on")
    if horizon_days is not None and horizon_days < 0:
        raise ValueError(
            f"listed_expiries({spec.name!r}): horizon_days must be >= 0, got {horizon_days}"
        )
    if not EXPIRY_START <= d <= _EXPIRY_END:
        raise CalendarRangeError(
            f"listed_expiries({spec.name!r}): {d} is outside {EXPIRY_START} .. {_EXPIRY_END}"
        )
    out = _listed_cached(spec.name, d)
    if horizon_days is None:
        return list(out)
    limit = d + timedelta(days=horizon_days)
    return [e for e in out if e <= limit]
