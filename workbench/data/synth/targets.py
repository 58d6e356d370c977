"""Calibration targets of the synthetic profiles, measured once on real index data.

Each :class:`Target` is one statistic of :func:`~.calibration.measure` (its definition is
there), the value measured on the real files of ``../shared/data/real`` (MANIFEST.md names
them; ``python -m workbench.bench synth_calibration`` with ``$WORKBENCH_REAL_DATA`` set
re-measures them, and ``tests/realdata/test_synth_calibration_realdata.py`` checks these
constants against the files), and the band the generated market must stay within
(``tests/data/synth/test_synth_calibration.py``: 20 years of daily skeleton, 3 of them with
minute paths, seed 11). The generator never reads the real files.

Where the bands come from:

* per-year medians and quantiles (``iv_rv_*``, ``kurtosis_yearly_median``): the spread of the
  same statistic over the real calendar years;
* rare-day frequencies (``exceed3``, ``exceed4``): the real count's Poisson 95 % interval,
  widened for the synthetic sample's own noise (about 5,000 days);
* levels and shapes measured on one sample (intraday profile, overnight share, jump share,
  session ratio): about +-25 %, the difference between the real sets (2024 vs 2009, SPX vs
  NIFTY) or between years of the daily set;
* the chain statistics (term structure, ``iv_over_atm30``): one NIFTY day (2025-08-29) and 56
  SPX days (2019-04-25 .. 07-22) only, so wide bands around both markets' values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    """A statistic's real value and the band the synthetic market must stay within."""

    measured: float
    low: float
    high: float
    source: str  # the real files and window it was measured on

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"Target band [{self.low}, {self.high}] is empty")


_NIFTY_DAILY = "set 6: NIFTY 50 and India VIX daily closes, 2008-2025 (4,352 day pairs)"
_NIFTY_MINUTE = "set 5: NIFTY 1-minute bars 2024, 153 regular 375-bar sessions"
_NIFTY_CHAIN = "set 4: NIFTY chain snapshot 2025-08-29 15:27 IST, one day"
_SPX_DAILY = "set 3: SPX and VIX daily closes, 1995-2025 (7,801 day pairs)"
_SPX_CHAIN = "set 1: SPX/SPXW end-of-day chains 2019-04-25..07-22, 56 days"

#: ``nifty-intraday`` (NIFTY with India VIX as its 30-day implied volatility).
NIFTY_TARGETS: dict[str, Target] = {
    "iv_rv_median": Target(1.2787, 1.15, 1.40, _NIFTY_DAILY),
    # real yearly medians: min 1.06 (2008), p10 1.12, p90 1.39, max 1.40 (2017)
    "iv_rv_yearly_p10": Target(1.1238, 1.00, 1.25, _NIFTY_DAILY),
    "iv_rv_yearly_p90": Target(1.3858, 1.25, 1.45, _NIFTY_DAILY),
    # 14 days of 4,352; Poisson 95 %: 0.18 %..0.54 %
    "exceed3": Target(0.0032169, 0.0015, 0.0065, _NIFTY_DAILY),
    # 5 days; Poisson 95 %: 0.04 %..0.27 %
    "exceed4": Target(0.0011489, 0.0002, 0.0035, _NIFTY_DAILY),
    # real years: interquartile range 0.55..4.0
    "kurtosis_yearly_median": Target(1.4428, 0.60, 3.50, _NIFTY_DAILY),
    "iv_median": Target(0.1711, 0.13, 0.22, _NIFTY_DAILY),
    "ln_iv_sd": Target(0.36704, 0.28, 0.46, _NIFTY_DAILY),
    "return_iv_corr": Target(-0.41490, -0.60, -0.25, _NIFTY_DAILY),
    # 2009 (230 days, 09:55 sessions) gives 1.588 as well
    "iv_session_rv_median": Target(1.5872, 1.40, 1.80, _NIFTY_MINUTE),
    # Yahoo daily opens 2011-2025: yearly 0.21..0.45
    "overnight_share": Target(0.30153, 0.22, 0.40, _NIFTY_MINUTE),
    "jump_share_median": Target(0.061369, 0.035, 0.09, _NIFTY_MINUTE),
    "profile_open_bar": Target(25.180, 18.0, 32.0, _NIFTY_MINUTE),
    "profile_to_0945": Target(2.0390, 1.60, 2.50, _NIFTY_MINUTE),
    "profile_to_1100": Target(1.1388, 0.90, 1.40, _NIFTY_MINUTE),
    "profile_to_1400": Target(0.67090, 0.55, 0.80, _NIFTY_MINUTE),
    "profile_to_close": Target(0.93910, 0.75, 1.15, _NIFTY_MINUTE),
    # SPX 2019: 0.943 and 1.047 (56 days)
    "term_7_30": Target(0.88915, 0.85, 1.00, _NIFTY_CHAIN),
    "term_91_30": Target(1.0744, 1.00, 1.12, _NIFTY_CHAIN),
    "iv_over_atm30": Target(1.1052, 1.05, 1.16, _NIFTY_CHAIN),
}

#: ``spx-eod`` (SPX with VIX as its 30-day implied volatility).
SPX_TARGETS: dict[str, Target] = {
    "iv_rv_median": Target(1.3526, 1.20, 1.50, _SPX_DAILY),
    # real yearly medians: min 1.04 (2008), p10 1.14, p90 1.56, max 1.67 (2017)
    "iv_rv_yearly_p10": Target(1.1390, 1.00, 1.30, _SPX_DAILY),
    "iv_rv_yearly_p90": Target(1.5609, 1.38, 1.70, _SPX_DAILY),
    # 20 days of 7,801; Poisson 95 %: 0.16 %..0.40 %
    "exceed3": Target(0.0025638, 0.0012, 0.0050, _SPX_DAILY),
    # 3 days; Poisson 95 %: 0.008 %..0.11 %
    "exceed4": Target(0.00038457, 0.0, 0.0015, _SPX_DAILY),
    # real years: interquartile range 0.78..2.83
    "kurtosis_yearly_median": Target(1.4481, 0.60, 3.50, _SPX_DAILY),
    "iv_median": Target(0.1819, 0.14, 0.23, _SPX_DAILY),
    "ln_iv_sd": Target(0.34975, 0.27, 0.45, _SPX_DAILY),
    "return_iv_corr": Target(-0.72983, -0.85, -0.55, _SPX_DAILY),
    "term_7_30": Target(0.94270, 0.88, 1.00, _SPX_CHAIN),
    "term_91_30": Target(1.0469, 1.00, 1.12, _SPX_CHAIN),
    "iv_over_atm30": Target(1.1675, 1.10, 1.24, _SPX_CHAIN),
}

TARGETS: dict[str, dict[str, Target]] = {"nifty-intraday": NIFTY_TARGETS, "spx-eod": SPX_TARGETS}
