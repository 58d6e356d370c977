"""Daily series a report reads beside a run: the underlying's closes and a VIX-like level.

Both come from datasets through :meth:`MarketStore.daily_closes` (one query):

* the **benchmark**: the run's own dataset (``manifest["dataset"]["path"]``), the spot series
  of the run's underlying (SPXW options: SPX), from a week before the run's first day (so the
  first day's return has the close before it) to its last day;
* a **VIX-like series**: a dataset given with ``--vix DATASET`` (a daily ``VIX`` or
  ``INDIAVIX`` ingested with ``workbench data ingest --format ohlc``), or found in the run's
  own dataset when it holds one of :data:`VIX_NAMES` (automatic). A day's regime is the close
  before it (:func:`workbench.analytics.breakdowns.vix_asof`), never a later one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.data.vol_index import VIX_NAMES as VIX_NAMES
from workbench.data.vol_index import pick_vix


class MarketSeriesError(ValueError):
    """A dataset that cannot give the series asked for; the message names it and why."""


@dataclass(frozen=True)
class DailySeries:
    """Daily closes of ``name`` (a Series by date) read from ``dataset``."""

    name: str
    closes: pd.Series
    dataset: str
    content_version: str = ""

    @property
    def source(self) -> str:
        return f"{self.name} from {self.dataset}"

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "series": self.name,
            "dataset": self.dataset,
            "content_version": self.content_version,
            "first": None if self.closes.empty else str(self.closes.index[0].date()),
            "last": None if self.closes.empty else str(self.closes.index[-1].date()),
        }


def _closes(store: Any, name: str, start: date | None, end: date | None) -> pd.Series:
    found = store.daily_closes(name, start, end)
    series = pd.Series(found, dtype=float)
    series.index = pd.DatetimeIndex(pd.to_datetime(list(found)))
    return series.sort_index().rename(name)


def spot_series_name(catalog: Any, underlying: str) -> str:
    """The spot series of ``underlying`` in a catalog (its ``spot`` when set and present)."""
    spec = catalog.underlyings.get(underlying)
    spot = spec.spot if spec is not None and spec.spot else underlying
    return spot if spot in catalog.day_index else underlying


def vix_from_dataset(path: str | Path, name: str | None = None) -> DailySeries:
    """The VIX-like closes in the dataset at ``path``: ``name``, else its one underlying named in
    :data:`VIX_NAMES`, else its one series without options (a volatility index ingested under
    another name). :class:`MarketSeriesError` names the dataset when it cannot tell, or when the
    closes do not look like a volatility level in points (a median outside 3..200: an index's
    price, say)."""
    from workbench.data.errors import DatasetError
    from workbench.data.store import MarketStore

    root = Path(path)
    try:
        store = MarketStore(root)
    except DatasetError as exc:  # no folder, no catalog: the message names the option too
        raise MarketSeriesError(f"--vix {root}: {exc}") from None
    with store:
        names = store.underlyings()
        if name is None:
            known = [n for n in names if n in VIX_NAMES]
            spot_only = [
                n for n in names if not store.catalog.day_index[n].options and n not in known
            ]
            if len(known) == 1:
                name = known[0]
            elif not known and len(spot_only) == 1:
                name = spot_only[0]
            else:
                raise MarketSeriesError(
                    f"--vix {root}: the dataset holds {', '.join(names)}; expected one of "
                    f"{', '.join(VIX_NAMES)} (a daily or minute series ingested with --format ohlc)"
                )
        name = store.check_underlying(name)
        closes = _closes(store, name, None, None)
        version = store.catalog.content_version
    if closes.empty:
        raise MarketSeriesError(f"--vix {root}: {name} has no daily closes")
    median = float(closes.median())
    if not 3.0 <= median <= 200.0:
        raise MarketSeriesError(
            f"--vix {root}: {name}'s closes (median {median:,.2f}) do not look like a "
            "volatility index in points"
        )
    return DailySeries(name, closes, str(root.resolve()), version)


def vix_in_dataset(path: str | Path, underlying: str | None) -> DailySeries | None:
    """The run's own dataset's VIX-like series, when it holds one (None otherwise): with both
    VIX and INDIAVIX, the one of the run's underlying's timezone."""
    from workbench.data.catalog import Catalog

    root = Path(path)
    try:
        catalog = Catalog.load(root)
    except (OSError, ValueError):
        return None
    spec = catalog.underlyings.get(underlying) if underlying is not None else None
    name = pick_vix(
        [n for n in catalog.underlyings if n != underlying],
        spec.timezone if spec is not None else None,
    )
    return None if name is None else vix_from_dataset(root, name)


def benchmark_closes(manifest: dict[str, Any], underlying: str | None = None) -> DailySeries | None:
    """Daily closes of the run's underlying from its dataset, from a week before the run's
    ``start`` to its ``end`` (None when the manifest names no dataset, or it is gone, or it has
    no spot for the underlying)."""
    from workbench.data.errors import DatasetError
    from workbench.data.store import MarketStore

    dataset = manifest.get("dataset") or {}
    path = dataset.get("path") if isinstance(dataset, dict) else None
    underlying = underlying or manifest.get("underlying")
    if not path or not isinstance(underlying, str) or not Path(path).is_dir():
        return None
    start = _as_date(manifest.get("start"))
    end = _as_date(manifest.get("end"))
    try:
        with MarketStore(path) as store:
            name = spot_series_name(store.catalog, underlying)
            closes = _closes(store, name, start - timedelta(days=10) if start else None, end)
            version = store.catalog.content_version
    except (DatasetError, KeyError, ValueError, OSError):
        return None
    if closes.empty:
        return None
    return DailySeries(name, closes, str(Path(path).resolve()), version)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None
