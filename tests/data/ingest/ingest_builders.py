"""Builders for the ingest tests: paths of the real excerpts and small hand-written inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq

from workbench.data.catalog import Catalog
from workbench.data.ingest import IngestReport, ingest

HERE = Path(__file__).resolve().parent
REAL = HERE.parent / "real"
FIXTURES = HERE / "fixtures"
SET1 = REAL / "us_spx_eod_chains_2019"
SET2 = REAL / "us_spxw_eod_2018q1_optopsy"
SET3 = REAL / "us_index_vix_daily_1995_2026"
SET4 = REAL / "in_nse_option_chain_snapshots_2025-08"
SET5 = REAL / "in_index_spot_intraday"
SET6 = REAL / "in_index_vix_daily"
ORATS = FIXTURES / "orats_SPX_20190425.csv"

CBOE_HEADER = (
    "underlying,underlying_last,exchange,optionroot,type,expiration,quotedate,strike,last,net,"
    "bid,ask,volume,openinterest,impliedvol,delta,gamma"
)


def cboe_row(
    *,
    root: str = "SPXW",
    right: str = "call",
    expiry: str = "04/26/2019",
    quote: str = "04/25/2019",
    strike: str = "2900.0",
    last: str = "30.0",
    bid: str = "29.5",
    ask: str = "30.5",
    spot: str = "2926.17",
    iv: str = "0.12",
) -> str:
    """One set-1 style row; the OCC symbol is built from the given fields."""
    m, d, y = expiry.split("/") if "/" in expiry else ("01", "01", "2019")
    k = float(strike) if _is_float(strike) else 0.0
    occ = f"{root}{y[2:]}{m}{d}{'C' if right == 'call' else 'P'}{round(k * 1000):08d}"
    return (
        f"SPX,{spot},CBOE,{occ},{right},{expiry},{quote},{strike},{last},0.0,{bid},{ask},"
        f"10,100,{iv},0.5,0.001"
    )


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(path: Path, header: str, rows: list[str], *, gz: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    if gz:
        with gzip.GzipFile(path, "wb", mtime=0) as handle:
            handle.write(text.encode())
    else:
        path.write_text(text)
    return path


def run(fmt: str, sources: list[Path], out: Path, **kwargs: object) -> IngestReport:
    report = ingest(fmt, sources, out, **kwargs)  # type: ignore[arg-type]
    return report


def rejects(out: Path) -> list[dict[str, object]]:
    """Every rejected row of the dataset at ``out``, as dicts."""
    rows: list[dict[str, object]] = []
    for path in sorted((out / "rejects").glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def catalog(out: Path) -> Catalog:
    return Catalog.load(out)
