"""Registry of synthetic-market profiles.

A profile says which calendar its days come from, how the dataset is labelled, how to plan the
days (a serial pass: the spot skeleton and the strike bands depend on the past) and how to
build one planned day (independent of every other day, so days run in any order or process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from workbench.data.synth import etf, nifty, spx
from workbench.data.synth.paths import simulate_skeleton

DayTables = dict[str, dict[str, pa.Table]]


@dataclass(frozen=True, slots=True)
class Profile:
    """One synthetic market: its calendar, labels, planner and day builder."""

    name: str
    description: str
    calendar_underlying: str  # whose trading calendar gives the days
    venue: str
    timezone: str
    bar_interval: str  # "1min" or "1d"
    default_start: date
    default_days: int | None
    default_years: int | None
    plan: Callable[[list[date], int], list[Any]]
    build: Callable[[Any, int], DayTables]


def _nifty_plan(days: list[date], seed: int) -> list[nifty.NiftyDay]:
    params = nifty.DEFAULT_PARAMS
    return nifty.plan_days(days, simulate_skeleton(params.paths, seed, days), params)


def _nifty_build(plan: nifty.NiftyDay, seed: int) -> DayTables:
    return nifty.build_day(plan, seed, nifty.DEFAULT_PARAMS)


def _spx_plan(days: list[date], seed: int) -> list[spx.SpxDay]:
    params = spx.DEFAULT_PARAMS
    return spx.plan_days(days, simulate_skeleton(params.paths, seed, days), params)


def _spx_build(plan: spx.SpxDay, seed: int) -> DayTables:
    return spx.build_day(plan, seed, spx.DEFAULT_PARAMS)


PROFILES: dict[str, Profile] = {
    "nifty-intraday": Profile(
        name="nifty-intraday",
        description="NIFTY index and options, 1-minute bars on NSE sessions",
        calendar_underlying=nifty.UNDERLYING,
        venue="NSE",
        timezone="Asia/Kolkata",
        bar_interval="1min",
        default_start=date(2024, 1, 1),
        default_days=60,
        default_years=None,
        plan=_nifty_plan,
        build=_nifty_build,
    ),
    "spx-eod": Profile(
        name="spx-eod",
        description="SPX index and SPX/SPXW option chains at the 16:00 ET close",
        calendar_underlying=spx.SPOT,
        venue="CBOE",
        timezone="America/New_York",
        bar_interval="1d",
        default_start=date(2019, 1, 1),
        default_days=None,
        default_years=5,
        plan=_spx_plan,
        build=_spx_build,
    ),
    "us-etf-eod": Profile(
        name="us-etf-eod",
        description="SPY, QQQ and IWM with correlated option chains at the 16:00 ET close "
        "(physical settlement, $1 strikes near the money, weekly and monthly expiries)",
        calendar_underlying=etf.CALENDAR,
        venue="CBOE",
        timezone="America/New_York",
        bar_interval="1d",
        default_start=date(2019, 1, 1),
        default_days=None,
        default_years=5,
        plan=etf.plan,
        build=etf.build,
    ),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; ``ValueError`` naming it and the known ones otherwise."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"profile {name!r} is not a synthetic-market profile; known: {', '.join(PROFILES)}"
        ) from None
