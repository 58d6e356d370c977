"""The synthetic historical provider's declared configuration (seed 002, "BT-001").

Everything the provider assumes is in :class:`HistoryConfig`, validated at the boundary and
recorded whole in the dataset's catalog ``source`` (so every run on the dataset carries it in
its manifest, :func:`workbench.data.historical.provider_snapshot`):

* ``vol``: the volatility regime -- ``{"kind": "fixed", "value": 0.16}``, a dated step schedule
  ``{"kind": "steps", "steps": [["2020-01-02", 0.15], ["2020-02-24", 0.35]]}`` (a step applies
  from its date on; a day before the first step has no volatility and is refused), or a
  volatility index read from the source dataset ``{"kind": "index", "series": "VIX",
  "scale": 1.0}``: the at-the-money 30-day volatility of day ``T`` is ``scale x`` the index's close
  of day ``T`` / 100 (never a later close; a day the index lacks takes its last earlier close and
  is counted in the catalog source's ``vol_carried``).
* ``smile``: the declared skew and term adjustment around that level (:meth:`Smile.vol`).
* ``rate`` and ``dividend``: continuous per year, fixed or a dated step schedule.
* ``quotes``: the bid/ask around the model mid (a relative spread, a floor in ticks, an optional
  stress spread added on each side for costs).
* ``listing``: which expiries and strikes are synthesised (:mod:`.listing`).
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Provider id recorded in the catalog source and the run manifest.
PROVIDER_ID = "synthetic_bs_v1"
#: Catalog ``source`` prefix of a dataset the provider wrote (then the config as JSON).
SOURCE_PREFIX = "synthetic-history "
#: Bumped whenever the provider's output changes for the same configuration.
PROVIDER_VERSION = 1

_Frozen = ConfigDict(frozen=True, extra="forbid")


def _check_steps(steps: tuple[tuple[date, float], ...], what: str, lo: float, hi: float) -> None:
    if not steps:
        raise ValueError(f"{what}: a step schedule needs at least one [date, value] step")
    for i, (day, value) in enumerate(steps):
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"{what}: step {i} ({day}) value {value!r} is outside {lo}..{hi}")
        if i and day <= steps[i - 1][0]:
            raise ValueError(f"{what}: step {i} date {day} is not after step {i - 1}'s")


def _step_value(steps: tuple[tuple[date, float], ...], day: date, what: str) -> float:
    value = None
    for start, v in steps:
        if start > day:
            break
        value = v
    if value is None:
        raise ValueError(f"{what}: no step in force on {day} (the first starts {steps[0][0]})")
    return value


class FixedVol(BaseModel):
    """One volatility for every day (a fraction: 0.16 = 16 %)."""

    model_config = _Frozen
    kind: Literal["fixed"] = "fixed"
    value: float = Field(gt=0, le=5)


class StepVol(BaseModel):
    """A dated step schedule: ``[[date, vol], ...]``, each in force from its date."""

    model_config = _Frozen
    kind: Literal["steps"] = "steps"
    steps: tuple[tuple[date, float], ...]

    @field_validator("steps")
    @classmethod
    def _valid(cls, steps: tuple[tuple[date, float], ...]) -> tuple[tuple[date, float], ...]:
        _check_steps(steps, "vol.steps", 1e-4, 5.0)
        return steps

    def on(self, day: date) -> float:
        return _step_value(self.steps, day, "vol.steps")


class IndexVol(BaseModel):
    """A volatility index series of the source dataset (VIX, INDIAVIX), in vol points."""

    model_config = _Frozen
    kind: Literal["index"] = "index"
    series: str = Field(min_length=1, description="underlying name of the index in the source")
    scale: float = Field(default=1.0, gt=0, le=5, description="ATM 30-day vol / (index / 100)")
    max_carry_days: int = Field(
        default=5, ge=0, description="most consecutive days the last index close is carried"
    )


VolRegime = Annotated[FixedVol | StepVol | IndexVol, Field(discriminator="kind")]


class FixedRate(BaseModel):
    model_config = _Frozen
    kind: Literal["fixed"] = "fixed"
    value: float = Field(ge=-0.5, le=1.0)

    def on(self, day: date) -> float:
        return self.value


class StepRate(BaseModel):
    model_config = _Frozen
    kind: Literal["steps"] = "steps"
    steps: tuple[tuple[date, float], ...]

    @field_validator("steps")
    @classmethod
    def _valid(cls, steps: tuple[tuple[date, float], ...]) -> tuple[tuple[date, float], ...]:
        _check_steps(steps, "rate.steps", -0.5, 1.0)
        return steps

    def on(self, day: date) -> float:
        return _step_value(self.steps, day, "rate.steps")


RateRegime = Annotated[FixedRate | StepRate, Field(discriminator="kind")]


class Smile(BaseModel):
    """Skew and term adjustment of the regime's 30-day at-the-money level ``v``.

    For an option with ``T`` years to settlement and log-moneyness ``x = ln(K / F)`` against the
    forward ``F = S e^{(r - q) T}``:

    * term: ``atm(T) = v x (T' / t_ref) ** term_exponent`` with ``T'`` = ``T`` clamped to
      ``[term_floor_days, term_cap_days]`` / 365 and ``t_ref = ref_days / 365``;
    * skew: ``z = x / (T' / t_ref) ** skew_power`` (moneyness in 30-day units when
      ``skew_power`` is 0.5: the skew flattens as the square root of time), and the volatility is
      ``atm(T) + put_skew x max(-z, 0) / 0.10 + call_skew x max(z, 0) / 0.10``: ``put_skew`` vol
      points per 10 % out of the money below the forward (positive: a put skew), ``call_skew``
      per 10 % above it (negative: calls cheaper). The result is floored at ``min_vol``.
    """

    model_config = _Frozen
    put_skew: float = Field(default=0.0, ge=-1, le=1)
    call_skew: float = Field(default=0.0, ge=-1, le=1)
    term_exponent: float = Field(default=0.0, ge=-1, le=1)
    skew_power: float = Field(default=0.5, ge=0, le=1)
    ref_days: float = Field(default=30.0, gt=0)
    term_floor_days: float = Field(default=7.0, gt=0)
    term_cap_days: float = Field(default=730.0, gt=0)
    min_vol: float = Field(default=0.01, gt=0)

    @model_validator(mode="after")
    def _order(self) -> Smile:
        if self.term_cap_days < self.term_floor_days:
            raise ValueError("smile: term_cap_days must be >= term_floor_days")
        return self

    def vol(self, level: Any, x: Any, t: Any) -> Any:
        """Volatility for 30-day ATM ``level``, log-moneyness ``x`` and ``t`` years (NumPy)."""
        import numpy as np

        t_ref = self.ref_days / 365.0
        tc = np.clip(t, self.term_floor_days / 365.0, self.term_cap_days / 365.0)
        atm = level * (tc / t_ref) ** self.term_exponent
        z = x / (tc / t_ref) ** self.skew_power
        skew = (self.put_skew * np.maximum(-z, 0.0) + self.call_skew * np.maximum(z, 0.0)) / 0.10
        return np.maximum(atm + skew, self.min_vol)


class Quotes(BaseModel):
    """Bid and ask around the model mid: half-spread ``max(rel_spread / 2 x mid, min_ticks / 2
    x tick) + stress_spread x mid``, bid rounded down and ask up to the tick (bid >= 0)."""

    model_config = _Frozen
    rel_spread: float = Field(default=0.02, ge=0, le=1)
    min_ticks: float = Field(default=2.0, ge=0)
    stress_spread: float = Field(default=0.0, ge=0, le=1)


class Listing(BaseModel):
    """Which contracts are synthesised (see :mod:`workbench.data.historical.listing`)."""

    model_config = _Frozen
    monthly_months: int = Field(default=12, ge=0, le=60, description="monthlies out to N months")
    weekly_horizon_days: int = Field(default=35, ge=0, description="weeklies within N days")
    daily_horizon_days: int = Field(default=7, ge=0, description="dailies within N days")
    half_width: int = Field(default=40, ge=2, le=500, description="strikes each side of spot")
    width_sd: float = Field(default=2.5, gt=0, description="band half-width in sd at listing")


class HistoryConfig(BaseModel):
    """The provider's full configuration (see the module docstring)."""

    model_config = _Frozen
    underlying: str = Field(min_length=1, description="spot series in the source (SPX, NIFTY)")
    roots: tuple[str, ...] = Field(
        default=(), description="option roots to list (default: the registry's for the spot)"
    )
    vol: VolRegime
    smile: Smile = Smile()
    rate: RateRegime = FixedRate(value=0.0)
    dividend: RateRegime = FixedRate(value=0.0)
    quotes: Quotes = Quotes()
    listing: Listing = Listing()

    def describe(self) -> dict[str, Any]:
        """The configuration as plain JSON data (what the catalog and manifest record)."""
        return {
            "provider_id": PROVIDER_ID,
            "provider_version": PROVIDER_VERSION,
            **self.model_dump(mode="json"),
        }

    def to_json(self) -> str:
        return json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))


#: Declared defaults for the volatility-index regime (``--vol-index``): measured against the
#: real SPX/SPXW chains of set 1 (2019-04-25 .. 2019-05-31, 30-120 day puts) -- see
#: ``tests/realdata/test_history_realdata.py``, which checks them on the June-July days.
#:
#: Measured (``python -m workbench.bench history_calibration`` does not exist; the figures come
#: from set 1's ATM and 90 % puts, implied at r = 2.4 %, q = 1.9 %, against set 3's VIX): ATM
#: implied vol / (VIX / 100) has median 0.86 at 20-45 days, 0.88 at 45-75, 0.91 at 75-110 and
#: 0.95 at 110-200 (sd 0.04-0.06 day to day): ``scale`` 0.85, ``term_exponent`` 0.06; the 90 %
#: put sits 8.8 vol points above ATM at 30 days, 6.3 at 90 and 5.2 at 150: ``put_skew`` 0.085
#: per 10 % at 30 days flattening as ``T ** -0.33``; the 105 % call sits 2.6-2.9 vol points
#: below the ATM put from 20 to 400 days: ``call_skew`` -0.08 per 10 % in the same units (the
#: 110 % call is only 0.2-3.7 points below: the call wing curves up, which the linear wing
#: overstates there). NIFTY / India VIX uses the same shape:
#: no NIFTY chain history long enough to measure it is in the real sets (set 4 is one day).
INDEX_SMILE: dict[str, float] = {
    "put_skew": 0.085,
    "call_skew": -0.08,
    "skew_power": 0.33,
    "term_exponent": 0.06,
}
#: ``scale`` of the index regime measured as above (ATM 30-day vol over the index).
INDEX_SCALE = 0.85
