"""Volatility-index series: which dataset series read as a VIX-like level.

A VIX-like series is a daily (or minute) spot series of a volatility index in points, ingested
with ``workbench data ingest --format ohlc``. :data:`VIX_NAMES` maps the names recognised
automatically to the time zone of the market they measure (a run on an Indian underlying reads
``INDIAVIX``, one on a US underlying ``VIX``).
"""

from __future__ import annotations

from collections.abc import Iterable

#: Underlyings read as a VIX-like level, with the calendar (venue timezone) they belong to.
VIX_NAMES: dict[str, str] = {"VIX": "America/New_York", "INDIAVIX": "Asia/Kolkata"}


def pick_vix(names: Iterable[str], zone: str | None = None) -> str | None:
    """The VIX-like name among ``names`` (``None`` when there is none): with both ``VIX`` and
    ``INDIAVIX``, the one of time zone ``zone`` (else the first in :data:`VIX_NAMES` order)."""
    present = [n for n in VIX_NAMES if n in set(names)]
    if not present:
        return None
    if len(present) > 1 and zone is not None:
        present = [n for n in present if VIX_NAMES[n] == zone] or present
    return present[0]
