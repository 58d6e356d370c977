"""An event's synthetic history, made on demand (``workbench events ... --provider synthetic``).

:func:`event_history` writes (or reuses) the synthetic historical dataset
(:func:`workbench.data.historical.synth_history`) covering exactly the event's run range, from
a dataset of real closes: the folder is named by the preset and a hash of everything the data
depends on (the provider's configuration, the source's content version, the range), so a
second comparison with the same inputs reuses it and a changed input writes a new one.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from workbench.data.catalog import Catalog
from workbench.data.historical import HistoryConfig, provider_snapshot, synth_history

#: Where event histories go unless a folder is given (beside the other datasets, not in git).
DEFAULT_HISTORY_DIR = Path("data") / "history"


def event_history(
    source: str | Path,
    slug: str,
    start: date,
    end: date,
    config: HistoryConfig,
    *,
    folder: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """The synthetic history of ``config.underlying`` over ``start``..``end`` from ``source``'s
    closes: ``folder`` or ``data/history/<slug>-<hash>``, written unless it already holds that
    very history (same configuration, source content version and range)."""
    catalog = Catalog.load(source)
    key = "|".join([config.to_json(), catalog.content_version, start.isoformat(), end.isoformat()])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    out = Path(folder) if folder is not None else DEFAULT_HISTORY_DIR / f"{slug}-{digest}"
    if (out / "catalog.json").is_file():
        try:
            existing = provider_snapshot(Catalog.load(out).source)
        except (OSError, ValueError):
            existing = None
        if (
            existing is not None
            and {k: existing.get(k) for k in config.describe()} == config.describe()
            and existing.get("source_dataset", {}).get("content_version") == catalog.content_version
            and (existing.get("start"), existing.get("end")) == (str(start), str(end))
        ):
            return out
    synth_history(source, out, config, start=start, end=end, progress=progress)
    return out
