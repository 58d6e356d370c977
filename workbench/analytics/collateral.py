"""A hedge seen from a loan against the hedged holding (seed 002): value, LTV, margin calls.

Seed 002's question is not "did the option book make money" but "did the hedge keep a loan
secured by ``underlying_units`` of the underlying out of margin calls, and at what cost". The
engine's run holds the hedge legs only (a protective put, a collar, a ladder: see
:mod:`workbench.strategies.protective_put`); this module lays that run's daily path beside the
holding it protects. It reads results only -- the daily path and the tradebook -- so any
positional hedge run, saved or in memory, can be looked at under any portfolio.

Per trading day ``t`` (same-day close, as the engine's daily path):

* ``underlying_value`` = ``underlying_units * spot_close`` (+ ``cash_balance``): the unhedged
  collateral;
* ``option_market_value`` = the open legs at their day-end marks (the engine's ``mtm``);
  ``option_cash`` = every option cash flow so far (premiums paid and received, closing and
  expiry proceeds, fees: the engine's cumulative ``cash``); ``premium_cashflow`` and
  ``realized_option_cashflow`` split the day's flows into opening fills and closing / expiry
  fills (a roll contributes to both);
* ``net_portfolio_value`` = ``underlying_value + option_cash + option_market_value``: the hedged
  collateral, what seed 002 calls "underlying + option MTM + cash";
* ``loan`` = ``loan_amount``, accrued at ``financing_rate`` (continuous, ACT/365) from the first
  day; ``ltv_unhedged = loan / underlying_value``, ``ltv_hedged = loan / net_portfolio_value``
  (infinite once a value is not positive); ``margin_call_*`` when the LTV is at or above
  ``margin_call_ltv``.

A day the dataset lacks (the engine carries positions through it with a warning) has no spot
close: the holding keeps the previous day's close and ``spot_carried`` says so (counted in the
summary's ``days_spot_carried``), as seed 002 asks of any missing-data fallback.

:func:`collateral_summary` gives seed 002's summary metrics, and :data:`COLLATERAL_RANKING` its
ranking order (fewer hedged margin-call days, lower hedged max LTV, lower hedge cost, higher end
value).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

PATH_COLUMNS: tuple[str, ...] = (
    "date",
    "spot_close",
    "underlying_value",
    "option_market_value",
    "premium_cashflow",
    "realized_option_cashflow",
    "option_cash",
    "net_portfolio_value",
    "loan",
    "ltv_unhedged",
    "ltv_hedged",
    "margin_call_unhedged",
    "margin_call_hedged",
    "open_legs",
    "spot_carried",
    "liquidation",
)

SUMMARY_KEYS: tuple[str, ...] = (
    "start_value",
    "end_value_unhedged",
    "end_value_hedged_net",
    "total_hedge_cost",
    "total_option_payoff_realized",
    "max_ltv_unhedged",
    "max_ltv_hedged",
    "margin_call_days_unhedged",
    "margin_call_days_hedged",
    "worst_drawdown_unhedged",
    "worst_drawdown_hedged",
    "days_protected_below_threshold",
    "roll_count",
    "hedge_coverage",
    "days_spot_carried",
    "scenario_end_liquidation",
)

#: Seed 002's ranking of hedges under one portfolio, best first: (key, ascending).
COLLATERAL_RANKING: tuple[tuple[str, bool], ...] = (
    ("margin_call_days_hedged", True),
    ("max_ltv_hedged", True),
    ("total_hedge_cost", True),
    ("end_value_hedged_net", False),
)


class CollateralInputError(ValueError):
    """A run or portfolio the collateral view cannot use; the message names the field."""


class Portfolio(BaseModel):
    """The holding a hedge protects and the loan against it (seed 002's portfolio state)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    underlying_units: float = Field(gt=0, description="units of the underlying held")
    loan_amount: float = Field(ge=0, description="loan outstanding at the start (money)")
    margin_call_ltv: float = Field(gt=0, description="LTV at or above which a margin call is due")
    cash_balance: float = Field(default=0.0, description="cash held beside the units (money)")
    financing_rate: float = Field(
        default=0.0, ge=0, description="loan interest, continuous per year (ACT/365)"
    )
    entry_spot: float | None = Field(
        default=None, gt=0, description="spot the start value is taken at (default: day 1 close)"
    )


def _checked_daily(daily: pd.DataFrame) -> pd.DataFrame:
    needed = ("date", "spot_close", "cash", "mtm", "open_legs")
    missing = [c for c in needed if c not in daily.columns]
    if missing:
        raise CollateralInputError(f"daily path: missing column(s) {missing} (have {list(daily)})")
    if daily.empty:
        raise CollateralInputError("daily path: no days")
    out = daily.loc[:, list(needed)].copy().reset_index(drop=True)
    out["date"] = pd.to_datetime(out["date"])
    spot = out["spot_close"].to_numpy(dtype=float)
    negative = np.flatnonzero(spot <= 0)
    if negative.size:
        day = out["date"].iloc[int(negative[0])].date()
        raise CollateralInputError(
            f"daily path: spot_close on {day} is {float(spot[negative[0]])}; the collateral "
            "view needs a positive close"
        )
    missing = ~np.isfinite(spot)
    if missing[0]:
        day = out["date"].iloc[0].date()
        raise CollateralInputError(
            f"daily path: no spot_close on the first day ({day}); the holding cannot be valued"
        )
    # a day without data (carried by the engine) keeps the last close, flagged in the path
    out["spot_carried"] = missing
    out["spot_close"] = out["spot_close"].astype(float).ffill()
    return out


def _flows(tradebook: pd.DataFrame, dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per day: cash of opening fills, cash of closing and settlement fills."""
    premium = np.zeros(len(dates))
    realized = np.zeros(len(dates))
    if tradebook.empty:
        return premium, realized
    for name in ("day", "action", "cash"):
        if name not in tradebook.columns:
            raise CollateralInputError(f"tradebook: missing column {name!r}")
    days = pd.to_datetime(tradebook["day"]).dt.normalize()
    index = pd.Index(dates.dt.normalize())
    pos = index.get_indexer(days)
    if (pos < 0).any():
        stray = days[pos < 0].iloc[0].date()
        raise CollateralInputError(f"tradebook: a fill on {stray}, a day the daily path lacks")
    cash = tradebook["cash"].to_numpy(dtype=float)
    opening = (tradebook["action"] == "open").to_numpy()
    np.add.at(premium, pos[opening], cash[opening])
    np.add.at(realized, pos[~opening], cash[~opening])
    return premium, realized


def collateral_path(
    daily: pd.DataFrame,
    tradebook: pd.DataFrame,
    portfolio: Portfolio,
    *,
    liquidate_at_end: bool = False,
) -> pd.DataFrame:
    """The day-by-day collateral path (:data:`PATH_COLUMNS`; see the module docstring).

    ``liquidate_at_end`` (seed 002's scenario end, what an event comparison does): the legs
    still open on the last day are sold at that day's marks -- the last row's
    ``option_market_value`` becomes cash (``liquidation``, counted in
    ``realized_option_cashflow`` and ``option_cash``) and the hedge holds nothing after the
    scenario. The net value is unchanged by it (marks to cash); ``liquidation`` is 0 on every
    other day and when nothing was open.
    """
    d = _checked_daily(daily)
    spot = d["spot_close"].to_numpy(dtype=float)
    entry_spot = portfolio.entry_spot or float(spot[0])
    start_value = portfolio.underlying_units * entry_spot + portfolio.cash_balance
    if not portfolio.loan_amount < start_value:
        raise CollateralInputError(
            f"portfolio: loan_amount {portfolio.loan_amount:,.2f} must be below the initial "
            f"collateral value {start_value:,.2f} (underlying_units x entry spot {entry_spot:g} "
            "+ cash_balance)"
        )
    premium, realized = _flows(tradebook, d["date"])
    underlying = portfolio.underlying_units * spot + portfolio.cash_balance
    option_cash = d["cash"].to_numpy(dtype=float)
    mtm = d["mtm"].to_numpy(dtype=float).copy()
    liquidation = np.zeros(len(mtm))
    if liquidate_at_end and np.isfinite(mtm[-1]) and mtm[-1] != 0.0:
        liquidation[-1] = mtm[-1]
        realized[-1] += mtm[-1]
        option_cash = option_cash.copy()
        option_cash[-1] += mtm[-1]
        mtm[-1] = 0.0
    net = underlying + option_cash + mtm
    years = (d["date"] - d["date"].iloc[0]).dt.days.to_numpy(dtype=float) / 365.0
    loan = portfolio.loan_amount * np.exp(portfolio.financing_rate * years)
    with np.errstate(divide="ignore", invalid="ignore"):
        ltv_u = np.where(underlying > 0, loan / underlying, np.inf)
        ltv_h = np.where(net > 0, loan / net, np.inf)
    if portfolio.loan_amount == 0:
        ltv_u = np.where(underlying > 0, 0.0, np.inf)
        ltv_h = np.where(net > 0, 0.0, np.inf)
    return pd.DataFrame(
        {
            "date": d["date"],
            "spot_close": spot,
            "underlying_value": underlying,
            "option_market_value": mtm,
            "premium_cashflow": premium,
            "realized_option_cashflow": realized,
            "option_cash": option_cash,
            "net_portfolio_value": net,
            "loan": loan,
            "ltv_unhedged": ltv_u,
            "ltv_hedged": ltv_h,
            "margin_call_unhedged": ltv_u >= portfolio.margin_call_ltv,
            "margin_call_hedged": ltv_h >= portfolio.margin_call_ltv,
            "open_legs": d["open_legs"].to_numpy(),
            "spot_carried": d["spot_carried"].to_numpy(),
            "liquidation": liquidation,
        },
        columns=list(PATH_COLUMNS),
    )


def _worst_drawdown(values: np.ndarray, start: float) -> float:
    """Deepest fall from a running peak as a fraction (<= 0); the start value is a peak."""
    series = np.concatenate([[start], values])
    peak = np.maximum.accumulate(series)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, series / peak - 1.0, -1.0)
    return float(dd.min())


def _roll_count(tradebook: pd.DataFrame) -> int:
    """Roll orders: distinct fill times of closing fills whose reason is ``roll``."""
    if tradebook.empty or "reason" not in tradebook.columns:
        return 0
    rolls = tradebook[(tradebook["reason"] == "roll") & (tradebook["action"] != "open")]
    return int(rolls["ts"].nunique()) if "ts" in rolls.columns else len(rolls)


def _coverage(tradebook: pd.DataFrame, portfolio: Portfolio) -> float:
    """Units of long puts bought by the first opening order, per unit held (1.0 = fully
    covered; NaN when the run bought no put)."""
    if tradebook.empty or not {"right", "signed_units", "action", "ts"} <= set(tradebook):
        return math.nan
    puts = tradebook[
        (tradebook["action"] == "open")
        & (tradebook["right"] == "P")
        & (tradebook["signed_units"] > 0)
    ]
    if puts.empty:
        return math.nan
    first = puts[puts["ts"] == puts["ts"].min()]
    return float(first["signed_units"].sum()) / portfolio.underlying_units


def collateral_summary(
    path: pd.DataFrame, tradebook: pd.DataFrame, portfolio: Portfolio
) -> dict[str, Any]:
    """Seed 002's summary metrics of a :func:`collateral_path` (:data:`SUMMARY_KEYS`).

    ``total_hedge_cost`` is the net premium paid by opening fills (fees included; a collar's
    call premium offsets it), ``total_option_payoff_realized`` what closing and expiry fills
    brought in; ``end_value_hedged_net`` is the last net portfolio value (so after both, and
    with the legs still open at their marks); drawdowns are fractions of a running peak, the
    start value counting as one; ``days_protected_below_threshold`` counts days in margin call
    unhedged but not hedged; ``hedge_coverage`` is the first order's long put units per unit
    held; ``days_spot_carried`` the days valued at a carried close;
    ``scenario_end_liquidation`` the cash the legs open at the end were sold for (a path made
    with ``liquidate_at_end``; included in ``total_option_payoff_realized``).
    """
    entry_spot = portfolio.entry_spot or float(path["spot_close"].iloc[0])
    start_value = portfolio.underlying_units * entry_spot + portfolio.cash_balance
    unhedged = path["underlying_value"].to_numpy(dtype=float)
    hedged = path["net_portfolio_value"].to_numpy(dtype=float)
    call_u = path["margin_call_unhedged"].to_numpy(dtype=bool)
    call_h = path["margin_call_hedged"].to_numpy(dtype=bool)
    return {
        "start_value": start_value,
        "end_value_unhedged": float(unhedged[-1]),
        "end_value_hedged_net": float(hedged[-1]),
        "total_hedge_cost": 0.0 - float(path["premium_cashflow"].sum()),  # no -0.0
        "total_option_payoff_realized": float(path["realized_option_cashflow"].sum()),
        "max_ltv_unhedged": float(path["ltv_unhedged"].max()),
        "max_ltv_hedged": float(path["ltv_hedged"].max()),
        "margin_call_days_unhedged": int(call_u.sum()),
        "margin_call_days_hedged": int(call_h.sum()),
        "worst_drawdown_unhedged": _worst_drawdown(unhedged, start_value),
        "worst_drawdown_hedged": _worst_drawdown(hedged, start_value),
        "days_protected_below_threshold": int((call_u & ~call_h).sum()),
        "roll_count": _roll_count(tradebook),
        "hedge_coverage": _coverage(tradebook, portfolio),
        "days_spot_carried": int(path["spot_carried"].sum()),
        "scenario_end_liquidation": float(path["liquidation"].sum())
        if "liquidation" in path.columns
        else 0.0,
    }


def rank_hedges(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`collateral_summary` (one per hedge, a ``template`` column naming it)
    sorted by :data:`COLLATERAL_RANKING`, ties by template name; money compared to the cent,
    LTVs to 1e-9; a missing value ranks last on its key. Adds ``rank`` (1 = best)."""
    keys: dict[str, Any] = {}
    for name, ascending in COLLATERAL_RANKING:
        values = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype=float)
        missing = np.isnan(values)
        digits = 9 if name.startswith("max_ltv") else 2
        rounded = np.where(missing, 0.0, np.round(values, digits))
        keys[f"{name}_missing"] = missing
        keys[name] = rounded if ascending else -rounded
    keys["template"] = summary["template"].astype(str).to_numpy()
    frame = pd.DataFrame(keys, index=summary.index)
    order = frame.sort_values(list(frame.columns), kind="stable").index
    ranked = summary.loc[order].reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def collateral_chart(paths: dict[str, pd.DataFrame], portfolio: Portfolio) -> Any:
    """A matplotlib ``Figure``: the unhedged LTV and each hedge's LTV by day, the margin-call
    threshold, and below it the hedged net values against the unhedged holding."""
    from workbench.analytics.charts import Margins, _date_axis, _figure

    fig, axes = _figure(
        2, 1, height=6.5, margins=Margins(left=1.3, top=0.5), sharex=True, height_ratios=(3, 2)
    )
    ltv_ax, value_ax = axes[:, 0]
    first = next(iter(paths.values()), None)
    if first is not None:
        dates = pd.to_datetime(first["date"])
        ltv_ax.plot(dates, first["ltv_unhedged"], color="0.35", lw=2, ls="--", label="unhedged")
        value_ax.plot(dates, first["underlying_value"], color="0.35", lw=2, ls="--")
    for name, path in paths.items():
        dates = pd.to_datetime(path["date"])
        (line,) = ltv_ax.plot(dates, path["ltv_hedged"], lw=1.6, label=name)
        value_ax.plot(dates, path["net_portfolio_value"], lw=1.6, color=line.get_color())
    ltv_ax.axhline(portfolio.margin_call_ltv, color="tab:red", lw=1, label="margin call")
    ltv_ax.set_ylabel("loan-to-value")
    ltv_ax.set_title(
        f"{portfolio.underlying_units:,g} units against a {portfolio.loan_amount:,.0f} loan"
    )
    ltv_ax.legend(loc="best", fontsize=8, frameon=False)
    value_ax.set_ylabel("collateral value")
    value_ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    _date_axis(value_ax)
    return fig
