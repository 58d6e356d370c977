"""Where each file of a canonical dataset lives (DESIGN.md "Canonical dataset").

Paths are computed directly from (underlying, day), never globbed::

    <root>/catalog.json
    <root>/spot/<UNDERLYING>/<YYYY>/<YYYY-MM-DD>.parquet
    <root>/options/<UNDERLYING>/<YYYY>/<YYYY-MM-DD>.parquet
    <root>/rejects/<source>.parquet
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Literal

from workbench.data.atomic import is_temporary
from workbench.model.names import SAFE_NAME, UnsafeNameError, check_underlying

CATALOG_FILE = "catalog.json"
KINDS: tuple[str, ...] = ("spot", "options")
Kind = Literal["spot", "options"]

#: Relative paths a catalog may record: day files and rejects files, nothing else.
_DATA_REL = re.compile(
    r"^(spot|options)/([A-Z0-9][A-Z0-9._-]{0,31})/(\d{4})/(\d{4}-\d{2}-\d{2})\.parquet$"
)
_REJECTS_REL = re.compile(r"^rejects/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.parquet$")

__all__ = ["check_underlying"]


SETTLEMENT_SUFFIX = ".SETTLEMENT"
"""A dataset underlying named ``<OPTIONS UNDERLYING>.SETTLEMENT`` (``SPX.SETTLEMENT``) is that
underlying's official settlement series: one daily bar per settlement session, ``close`` =
the official settlement value (the engine settles expiries at it when present)."""


def settlement_series(underlying: str) -> str:
    """The name of ``underlying``'s official settlement series (``SPX`` -> ``SPX.SETTLEMENT``)."""
    return f"{check_underlying(underlying)}{SETTLEMENT_SUFFIX}"


def settled_underlying(series: str) -> str | None:
    """The options underlying a settlement series belongs to (``None`` for other names)."""
    name = series.strip().upper()
    if name.endswith(SETTLEMENT_SUFFIX) and len(name) > len(SETTLEMENT_SUFFIX):
        return name[: -len(SETTLEMENT_SUFFIX)]
    return None


def check_source_name(source: str) -> str:
    """Validate a rejects source name (it becomes a file name)."""
    if not isinstance(source, str) or not SAFE_NAME.match(source):
        raise UnsafeNameError(
            f"rejects source {source!r} is not a valid file name (letters, digits, '.', '_', '-')"
        )
    return source


def check_relative_path(rel: str) -> str:
    """``rel`` if it is a canonical dataset file path (``spot|options/<U>/<YYYY>/<day>.parquet``
    or ``rejects/<source>.parquet``); :class:`~workbench.model.names.UnsafeNameError` otherwise."""
    match = _DATA_REL.match(rel) if isinstance(rel, str) else None
    if match is not None:
        if match[3] != match[4][:4]:
            raise UnsafeNameError(f"file path {rel!r}: the year folder differs from the day")
        return rel
    if isinstance(rel, str) and _REJECTS_REL.match(rel):
        return rel
    raise UnsafeNameError(
        f"file path {rel!r} is not a canonical dataset path (spot|options/<UNDERLYING>/<YYYY>/"
        "<YYYY-MM-DD>.parquet or rejects/<source>.parquet)"
    )


def catalog_path(root: Path) -> Path:
    return Path(root) / CATALOG_FILE


def data_relpath(kind: Kind, underlying: str, day: date) -> str:
    """``<kind>/<UNDERLYING>/<YYYY>/<YYYY-MM-DD>.parquet``: a day file's place under the root."""
    return f"{kind}/{underlying}/{day.year:04d}/{day.isoformat()}.parquet"


def data_path(root: Path, kind: Kind, underlying: str, day: date) -> Path:
    """``<root>/<kind>/<UNDERLYING>/<YYYY>/<YYYY-MM-DD>.parquet``."""
    # one join of the relative part (a positional run builds a few of these per day)
    return Path(root) / data_relpath(kind, underlying, day)


def data_path_str(root: str, kind: Kind, underlying: str, day: date) -> str:
    """:func:`data_path` as a string under ``root`` (already a string): for loops that only
    ``os.stat`` every day file of a run (a ``Path`` costs ~10 us to build, the string ~1)."""
    return f"{root}/{data_relpath(kind, underlying, day)}"


def spot_path(root: Path, underlying: str, day: date) -> Path:
    return data_path(root, "spot", underlying, day)


def options_path(root: Path, underlying: str, day: date) -> Path:
    return data_path(root, "options", underlying, day)


def rejects_path(root: Path, source: str) -> Path:
    return Path(root) / "rejects" / f"{check_source_name(source)}.parquet"


def iter_data_files(root: Path) -> Iterator[tuple[str, str, date, Path]]:
    """Yield ``(kind, underlying, day, path)`` for every spot/options file, sorted.

    Temporary files left by a killed write and files whose names are not ``YYYY-MM-DD.parquet``
    inside the matching year folder are skipped.
    """
    root = Path(root)
    for kind in KINDS:
        kind_dir = root / kind
        if not kind_dir.is_dir():
            continue
        for u_dir in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
            for y_dir in sorted(p for p in u_dir.iterdir() if p.is_dir()):
                for path in sorted(y_dir.glob("*.parquet")):
                    if is_temporary(path):
                        continue
                    try:
                        day = date.fromisoformat(path.stem)
                    except ValueError:
                        continue
                    if f"{day.year:04d}" != y_dir.name:
                        continue
                    yield kind, u_dir.name, day, path


def iter_reject_files(root: Path) -> Iterator[Path]:
    """Every ``rejects/*.parquet`` file, sorted, temporaries skipped."""
    folder = Path(root) / "rejects"
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.parquet")):
        if not is_temporary(path):
            yield path
