"""Benchmark ``synth_calibration``: the synthetic market against the real one it is calibrated on.

Three parts:

1. **Real targets** (when ``$WORKBENCH_REAL_DATA`` names the real-data folder, see its
   MANIFEST.md): every statistic of :func:`workbench.data.synth.calibration.measure`
   re-measured from the real files by :func:`measure_real` (NIFTY: set 6 daily closes with
   India VIX, set 5 1-minute bars of 2024 with 2009 as a cross-check, set 4's 2025-08-29 close
   snapshot of the option chain; SPX: set 3 SPX closes with VIX, set 1's 2019 chains). The
   generator never reads these files: the figures are constants in
   :mod:`workbench.data.synth.targets`, and ``tests/realdata`` checks they still match.
2. **The generated market**: the same statistics on each profile's default market
   (:func:`workbench.data.synth.sample.sample_market`, seed :data:`SEED`, 20 years of days,
   3 of them with minute paths; 6 and 1 with ``quick``), against the targets' bands.
3. **An unadjusted intraday short straddle and strangle** on the generated NIFTY market
   (:func:`~workbench.data.synth.sample.intraday_straddle_pnl`: sell at the 09:20 bar's
   close, buy back at 15:15, nearest expiry, at the dataset's closes, no stop, no fees):
   annualised Sharpe over 10 years (4 with ``quick``), and its median, 90th percentile and
   maximum over the non-overlapping 60-day windows (the demo dataset's length).

The ratio is the share of the calibration targets the generated markets meet (1.0: all);
the baseline is the real data's bands.
"""

from __future__ import annotations

import glob
import math
import os
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.analytics.metrics import sharpe
from workbench.data.synth.calibration import TERM_DAYS, MarketSample, measure
from workbench.data.synth.sample import intraday_straddle_pnl, measure_profile
from workbench.data.synth.targets import TARGETS
from workbench.pricing import implied_vol

SEED = 11
#: Full calendar years of the real daily sets used (both sets cover them whole).
NIFTY_YEARS = (2008, 2025)
SPX_YEARS = (1995, 2025)
#: The NIFTY option-chain snapshot measured for the term structure: the day's last.
NSE_CHAIN_DAY = "20250829"
#: Rate used to imply volatility from the NSE mids (about the 2025 Indian T-bill yield; the
#: forward comes from put-call parity, so the rate barely matters).
NSE_RATE = 0.055
#: Days of the real SPX chain set to leave out: stale holiday files (set 1's MANIFEST.md).
SPX_STALE_DAYS = ("2019-05-27", "2019-07-04")


# --------------------------------------------------------------------------- real NIFTY


def _yahoo(path: Path) -> pd.Series:
    frame = pd.read_csv(path, parse_dates=["Date"]).set_index("Date").sort_index()
    return frame["Close"].astype(float)


def _daily(close: pd.Series, vix: pd.Series, years: tuple[int, int]) -> dict[str, np.ndarray]:
    """Log returns of ``close`` over its previous close and the same day's ``vix`` (percent)."""
    log_returns = np.log(close).diff()
    year = np.asarray(pd.DatetimeIndex(close.index).year)
    keep = (year >= years[0]) & (year <= years[1])
    iv = vix.reindex(close.index) / 100.0
    return {
        "years": year[keep],
        "log_returns": log_returns.to_numpy()[keep],
        "iv": iv.to_numpy()[keep],
    }


def _minute_sessions(path: Path, vix: pd.Series, first: str, bars: int) -> dict[str, np.ndarray]:
    """Regular sessions of a 1-minute file (``bars`` bars from ``first``, none missing) and
    what goes with them: returns (first bar close over open, then close over close), India
    VIX at the last close before the day, the gap from the previous session's last close
    (NaN for the file's first day) and the open-to-close return."""
    frame = pd.read_csv(path, dtype={"Date": str, "Time": str})
    frame["day"] = pd.to_datetime(frame["Date"], format="%Y%m%d")
    rows, iv_prev, gaps, sessions = [], [], [], []
    last_close = math.nan
    for day, g in frame.groupby("day", sort=True):
        o, c = g["Open"].to_numpy(float), g["Close"].to_numpy(float)
        previous_close, last_close = last_close, float(c[-1])
        if len(g) != bars or g["Time"].iloc[0] != first:
            continue
        before = vix[vix.index < day]
        rows.append(np.concatenate([[np.log(c[0] / o[0])], np.diff(np.log(c))]))
        iv_prev.append(float(before.iloc[-1]) / 100.0 if len(before) else math.nan)
        gaps.append(math.log(o[0] / previous_close) if previous_close > 0 else math.nan)
        sessions.append(math.log(c[-1] / o[0]))
    return {
        "minute_returns": np.array(rows),
        "minute_iv_previous": np.array(iv_prev),
        "gaps": np.array(gaps),
        "sessions": np.array(sessions),
    }


def _term(expiry_t: np.ndarray, atm: np.ndarray) -> np.ndarray:
    """ATM volatility at :data:`TERM_DAYS`, linear in total variance between expiries."""
    order = np.argsort(expiry_t)
    t, w = expiry_t[order], atm[order] ** 2 * expiry_t[order]
    out = []
    for days in TERM_DAYS:
        x = days / 365.0
        out.append(math.sqrt(float(np.interp(x, t, w)) / x))
    return np.array(out)


def _nse_chain_term(folder: Path) -> np.ndarray:
    """ATM term structure of the day's last NIFTY snapshot: per expiry, the volatility implied
    by the call and put mids at the strike where they are closest (forward from parity)."""
    last = sorted(glob.glob(str(folder / NSE_CHAIN_DAY / "NIFTY_*.parquet")))[-1]
    snap = pd.read_parquet(last)
    fetched = datetime.strptime(str(snap["Fetch_Time"].iloc[0]), "%d-%b-%Y %H:%M:%S")
    expiry_t, atm = [], []
    for expiry, g in snap.groupby("Expiry_Date"):
        settle = datetime.combine(datetime.strptime(str(expiry), "%d-%b-%Y").date(), time(15, 30))
        t = (settle - fetched).total_seconds() / (365.0 * 86400.0)
        quoted = g[
            (g.CALLS_Bid_Price > 0)
            & (g.CALLS_Ask_Price > 0)
            & (g.PUTS_Bid_Price > 0)
            & (g.PUTS_Ask_Price > 0)
        ]
        if t <= 0 or t > 0.5 or len(quoted) < 3:
            continue
        call = ((quoted.CALLS_Bid_Price + quoted.CALLS_Ask_Price) / 2).to_numpy()
        put = ((quoted.PUTS_Bid_Price + quoted.PUTS_Ask_Price) / 2).to_numpy()
        i = int(np.argmin(np.abs(call - put)))
        k = float(quoted.Strike_Price.to_numpy()[i])
        fwd = k + (call[i] - put[i]) * math.exp(NSE_RATE * t)
        spot = fwd * math.exp(-NSE_RATE * t)
        ivs = implied_vol(
            np.array([call[i], put[i]]), spot, k, t, NSE_RATE, np.array([True, False])
        )
        expiry_t.append(t)
        atm.append(float(np.mean(ivs)))
    return _term(np.array(expiry_t), np.array(atm))


def real_nifty(root: Path) -> MarketSample:
    """The real NIFTY market as the calibration statistics read it (see the module docstring)."""
    daily = root / "in_index_vix_daily"
    nifty = _yahoo(daily / "nifty50_daily_2007_2026.csv")
    vix = _yahoo(daily / "indiavix_daily_2008_2026.csv")
    minutes = _minute_sessions(
        root / "in_index_spot_intraday" / "NIFTY_2024.csv", vix, "09:15", 375
    )
    term = _nse_chain_term(root / "in_nse_option_chain_snapshots_2025-08")
    vix_on_chain_day = float(vix.loc[pd.Timestamp(NSE_CHAIN_DAY)]) / 100.0
    return MarketSample(
        **_daily(nifty, vix, NIFTY_YEARS),
        **minutes,
        atm_term=term[None, :],
        term_iv=np.array([vix_on_chain_day]),
    )


def real_nifty_2009_session_ratio(root: Path) -> float:
    """Median India VIX (previous close) over the session's 1-minute realised volatility in
    2009 (sessions of 336 bars, 09:55-15:30): the cross-check of ``iv_session_rv_median``."""
    vix = _yahoo(root / "in_index_vix_daily" / "indiavix_daily_2008_2026.csv")
    minutes = _minute_sessions(
        root / "in_index_spot_intraday" / "NIFTY_2009.csv", vix, "09:55", 336
    )
    sample = MarketSample(years=np.empty(0), log_returns=np.empty(0), iv=np.empty(0), **minutes)
    return measure(sample)["iv_session_rv_median"]


# --------------------------------------------------------------------------- real SPX


def _spx_chain_term(folder: Path, vix: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per day of set 1, the ATM term structure (mean call/put ``impliedvol`` at the strike
    nearest ``underlying_last``, per expiry, ACT/365 in whole days) and that day's VIX."""
    rows, ivs = [], []
    for path in sorted(folder.glob("SPX_*.csv.gz")):
        chain = pd.read_csv(path)
        day = pd.Timestamp(datetime.strptime(str(chain.quotedate.iloc[0]), "%m/%d/%Y"))
        if day.strftime("%Y-%m-%d") in SPX_STALE_DAYS:
            continue
        spot = float(chain.underlying_last.iloc[0])
        quoted = chain[(chain.impliedvol > 0) & (chain.bid > 0)]
        expiry_t, atm = [], []
        for expiry, g in quoted.groupby("expiration"):
            t = (pd.Timestamp(datetime.strptime(str(expiry), "%m/%d/%Y")) - day).days / 365.0
            strikes = g.strike.unique()
            k = strikes[np.argmin(np.abs(strikes - spot))]
            both = g[g.strike == k]
            if t <= 0 or len(both) < 2:
                continue
            expiry_t.append(t)
            atm.append(float(both.impliedvol.mean()))
        rows.append(_term(np.array(expiry_t), np.array(atm)))
        ivs.append(float(vix.loc[day]) / 100.0)
    return np.array(rows), np.array(ivs)


def real_spx(root: Path) -> MarketSample:
    """The real SPX market as the calibration statistics read it (see the module docstring)."""
    frame = pd.read_csv(root / "us_index_vix_daily_1995_2026" / "ALL_eod.csv", parse_dates=["Date"])
    spx = frame[frame["root"] == "SPX"].set_index("Date").sort_index()["Close"].astype(float)
    vix = frame[frame["root"] == "VIX"].set_index("Date").sort_index()["Close"].astype(float)
    term, term_iv = _spx_chain_term(root / "us_spx_eod_chains_2019", vix)
    return MarketSample(**_daily(spx, vix, SPX_YEARS), atm_term=term, term_iv=term_iv)


def measure_real(root: Path) -> dict[str, dict[str, float]]:
    """Every calibration statistic of each profile measured on the real files under ``root``."""
    return {"nifty-intraday": measure(real_nifty(root)), "spx-eod": measure(real_spx(root))}


# --------------------------------------------------------------------------- synthetic


def window_sharpes(pnl: np.ndarray, days: int = 60) -> np.ndarray:
    """Annualised Sharpe of each non-overlapping run of ``days`` days (the rest dropped)."""
    return np.array([sharpe(pnl[i : i + days]) for i in range(0, len(pnl) - days + 1, days)])


def straddle_figures(seed: int, years: int) -> dict[str, float]:
    """Sharpe figures of the unadjusted intraday short straddle and 100-point strangle."""
    start, end = date(2024 - years, 1, 1), date(2023, 12, 31)
    out: dict[str, float] = {}
    both = intraday_straddle_pnl(seed, start, end, otm_steps=(0, 2))
    for j, name in enumerate(("straddle", "strangle")):
        pnl = both[:, j]
        windows = window_sharpes(pnl)
        out[f"{name}_sharpe_{years}y"] = sharpe(pnl)
        out[f"{name}_sharpe_60d_median"] = float(np.median(windows))
        out[f"{name}_sharpe_60d_p90"] = float(np.quantile(windows, 0.9))
        out[f"{name}_sharpe_60d_max"] = float(np.max(windows))
        out[f"{name}_mean_pnl_points"] = float(np.mean(pnl))
    return out


def run(quick: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    real_root = os.environ.get("WORKBENCH_REAL_DATA")
    if real_root and not Path(real_root).is_dir():
        raise SystemExit(f"WORKBENCH_REAL_DATA={real_root} is not a folder")
    if real_root:
        for profile, stats in measure_real(Path(real_root)).items():
            for name, value in stats.items():
                figures[f"real_{profile}_{name}"] = value
        figures["real_nifty-intraday_iv_session_rv_median_2009"] = real_nifty_2009_session_ratio(
            Path(real_root)
        )
    met = total = 0
    for profile, targets in TARGETS.items():
        stats = measure_profile(
            profile, SEED, years=6 if quick else 20, minute_years=1 if quick else 3
        )
        for name, target in targets.items():
            value = stats[name]
            ok = target.low <= value <= target.high
            figures[f"synth_{profile}_{name}"] = value
            figures[f"synth_{profile}_{name}_in_band"] = ok
            met += ok
            total += 1
    figures.update(straddle_figures(SEED, 4 if quick else 10))
    return {
        "benchmark": "synth_calibration",
        "ratio": met / total,
        "baseline": "the real-data bands of workbench.data.synth.targets (share met)",
        "figures": figures,
    }
