"""Synthetic market: deterministic, realistic-enough option datasets to run everything on.

``generate(profile, out, *, seed, start, days=None, years=None, progress=True) -> Catalog``
writes a canonical dataset (DESIGN.md "Canonical dataset") through
:class:`workbench.data.writer.DatasetWriter`. Profiles:

``nifty-intraday``
    1-minute NIFTY spot and option bars on NSE sessions and holidays (:mod:`.nifty`): weekly and
    monthly expiries from the registry calendar, strikes on the registry grid around the money,
    a skewed smile, stochastic volatility with jumps, bid/ask widening away from the money and
    towards expiry, illiquid far strikes with missing minutes, volume and open interest.
``spx-eod``
    Daily SPX spot and SPX (AM monthly) / SPXW (PM weekly and daily) chains at the close on
    XNYS days (:mod:`.spx`), about 100 strikes per expiry, with bid/ask, iv and Greeks.
``us-etf-eod``
    Daily SPY, QQQ and IWM spot and option chains at the close on XNYS days (:mod:`.etf`),
    returns correlated across the three (a documented target matrix), physically settled,
    $1 strikes near the money and $5 further out, weekly and monthly expiries: seed 003's
    universe in one dataset.

Same arguments, same bytes, same content version: every random draw comes from generators keyed
by ``(seed, stream, day)`` (:mod:`.seeding`). Model: :mod:`.paths` (spot and volatility),
:mod:`.surface` (implied volatility), :mod:`.variance_clock` (the path's variance in business
time), :mod:`.quotes` (spreads, liquidity, volume), :mod:`.oi`.

Options price the variance the path will deliver before settlement, jumps included, times a
variance risk premium (``SurfaceParams.variance_premium``: ATM implied variance over expected
realised variance, 1.2 for ``nifty-intraday``, 1.16 for ``spx-eod``), quoted as volatilities on
the ACT/365 clock of :func:`workbench.pricing.year_fraction`. So selling ATM volatility earns a
modest premium on average and loses heavily on jump days, as on real index options.

Both profiles are calibrated on real index data (generator version 4; the tables are in
:mod:`.nifty` and :mod:`.spx`): the ratio of the 30-day implied volatility to the volatility
realised over the next 21 days, the frequency of days beyond 3 and 4 implied sigmas, the yearly
kurtosis, how widely volatility regimes wander, the leverage correlation, the overnight share of
the variance, the intraday profile and the 1-minute jump share, the ATM term structure and the
smile's share of the VIX. :mod:`.calibration` defines each statistic once, :mod:`.targets`
holds the values measured on the real files (``python -m workbench.bench synth_calibration``
re-measures them; the generator never reads them) and :mod:`.sample` measures the generated
market without writing it.
Quote semantics: ``bid``/``ask`` NaN means no quote on that side; traded prices are at least
one tick.
"""

from workbench.data.synth.profiles import PROFILES, Profile, get_profile
from workbench.data.synth.runner import generate, parse_start, select_days

__all__ = ["PROFILES", "Profile", "generate", "get_profile", "parse_start", "select_days"]
