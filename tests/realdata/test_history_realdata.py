"""The synthetic historical provider on the real closes of set 3 against the real SPX chains
of set 1 (2019-04-25 .. 2019-07-22), volatility from the VIX (``INDEX_SMILE``, ``INDEX_SCALE``).

What agrees and what does not (measured, every SPX monthly 20-200 days out, the put at the
strike nearest the official close, 309 day-expiry pairs): the median signed error of the
synthetic mid against the real mid is -0.05 %, the median absolute error 3.5 %, the 90th
percentile 10.9 %. The synthetic mid falls *inside* the real bid/ask on only 12 % of them and
the two quotes overlap on 26 %: real ATM SPX spreads were 0.5-0.9 points (about 1 % of the
mid), while the VIX-to-ATM ratio moves with a day-to-day sd of 0.04 (about 0.5 vol points, 2-4
points of premium) and the vendor's snapshot spot sits off the official close by an sd of 5.8
points (half of that in an ATM put). A VIX-only regime cannot reproduce a chain inside its
spread; this test holds it to the accuracy it has, and shows the raw VIX (scale 1, no smile)
fails the same bounds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.data.historical import HistoryConfig, synth_history
from workbench.data.historical.config import INDEX_SCALE, INDEX_SMILE
from workbench.data.store import MarketStore

pytestmark = pytest.mark.realdata


def _config(scale: float, smile: dict[str, float]) -> HistoryConfig:
    return HistoryConfig.model_validate(
        {
            "underlying": "SPX",
            "roots": ["SPX"],
            "vol": {"kind": "index", "series": "VIX", "scale": scale},
            "smile": smile,
            "rate": {"kind": "fixed", "value": 0.024},  # 3-month T-bill, spring 2019
            "dividend": {"kind": "fixed", "value": 0.019},  # S&P 500 yield, 2019
        }
    )


def _errors(real: Path, synthetic: Path) -> pd.DataFrame:
    r, s = MarketStore(real), MarketStore(synthetic)
    rows = []
    for day in r.days("SPX"):
        if not s.has_day("SPX", day):  # set 1's stale holiday files are not trading days
            continue
        rc, sc = r.read_chain("SPX", day).to_pandas(), s.read_chain("SPX", day).to_pandas()
        spot = s.daily_closes("SPX", day, day)[day]
        for expiry in sorted(set(rc.expiry) & set(sc.expiry)):
            if not 20 <= (expiry - day).days <= 200:
                continue
            rp = rc[(rc.expiry == expiry) & (rc.right == "P") & (rc.bid > 0)]
            sp = sc[(sc.expiry == expiry) & (sc.right == "P")]
            strike = min(set(rp.strike) & set(sp.strike), key=lambda k: abs(k - spot))
            x, y = rp[rp.strike == strike].iloc[0], sp[sp.strike == strike].iloc[0]
            mid = (x.bid + x.ask) / 2
            rows.append({"day": day, "expiry": expiry, "real": mid, "synthetic": y.close,
                         "inside": x.bid <= y.close <= x.ask})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["error"] = frame.synthetic / frame.real - 1.0
    return frame


def test_atm_puts_agree_with_the_2019_chains(set1: Path, set3_2019: Path, tmp_path: Path) -> None:
    out = tmp_path / "spx-2019"
    synth_history(set3_2019, out, _config(INDEX_SCALE, INDEX_SMILE), start="2019-04-25",
                  end="2019-07-22", progress=False)  # fmt: skip
    frame = _errors(set1, out)
    assert len(frame) > 250
    assert frame.day.nunique() >= 50
    assert abs(frame.error.median()) < 0.02
    assert frame.error.abs().median() < 0.05
    assert frame.error.abs().quantile(0.9) < 0.15
    assert frame.inside.mean() > 0.05  # measured 12 %: within the spread only sometimes

    raw = tmp_path / "raw-vix"
    synth_history(set3_2019, raw, _config(1.0, {}), start="2019-04-25", end="2019-07-22",
                  progress=False)  # fmt: skip
    naive = _errors(set1, raw)
    assert naive.error.median() > 0.05  # the raw VIX overprices ATM puts: the bounds can fail
