"""``workbench events --compare --provider synthetic``: one command from a dataset of closes to
a ranked hedge comparison, recorded in the run repository; the flags; bad provider input."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest

from workbench.cli.main import main
from workbench.data.catalog import Catalog, UnderlyingSpec
from workbench.data.historical import provider_snapshot
from workbench.data.writer import DatasetWriter
from workbench.model import calendars
from workbench.research.events import _flag, _flagged_last, rank_summary
from workbench.research.repository import RunRepository

PRESET = """slug = "dip-2020"
display_name = "A dip in January 2020"
symbol = "SPX"
window_start = 2020-01-10
window_end = 2020-01-31
event_type = "selloff"
lookback_days = 2
recovery_days = 2
default_template_slugs = ["protective-put-atm", "put-ladder", "collar", "protective-put-atm-12m"]
"""


@pytest.fixture(scope="module")
def closes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SPX falling 1 % a session from 3300 and a VIX rising from 14, 2020-01-02 .. 02-14."""
    root = tmp_path_factory.mktemp("closes") / "src"
    spec = UnderlyingSpec(
        venue="CBOE", currency="USD", timezone="America/New_York", calendar="XNYS"
    )
    writer = DatasetWriter(root, name="src", venue="CBOE", timezone="America/New_York",
                           bar_interval="1d", source="test", underlying_specs={"VIX": spec})  # fmt: skip
    for i, day in enumerate(calendars.trading_days("SPX", date(2020, 1, 2), date(2020, 2, 14))):
        for name, value in (("SPX", round(3300 * 0.99**i, 2)), ("VIX", 14.0 + i)):
            ts = datetime.combine(day, datetime.min.time()) + timedelta(hours=16)
            writer.write_spot(name, day, pa.table({
                "ts": pa.array([ts], pa.timestamp("us")), "open": [value], "high": [value],
                "low": [value], "close": [value], "volume": pa.array([0], pa.int64())}))  # fmt: skip
    writer.finalize()
    return root


def test_one_command_from_closes_to_a_recorded_comparison(
    closes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / "dip-2020.toml").write_text(PRESET)
    reports, history, out = tmp_path / "reports", tmp_path / "history", tmp_path / "out"
    argv = ["events", "dip-2020", "--dir", str(events), "--compare", "--data", str(closes),
            "--provider", "synthetic", "--vol-index", "VIX", "--risk-free", "0.015",
            "--dividend", "0.018", "--history-dir", str(history), "--units", "1000",
            "--loan", "2000000", "--margin-call-ltv", "0.75", "--workers", "1",
            "--no-progress", "--reports", str(reports), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"synthetic history of SPX 2020-01-08 .. 2020-02-04: {history}" in text
    snapshot = provider_snapshot(Catalog.load(history).source)
    assert snapshot is not None and snapshot["vol"]["series"] == "VIX"
    assert snapshot["rate"] == {"kind": "fixed", "value": 0.015}
    ranking = pd.read_csv(out / "ranking.csv")
    assert len(ranking) == 4 and (ranking["fills"] > 0).all()
    assert ranking["flag"].isna().all()
    (entry,) = RunRepository(reports).list()
    assert entry.kind == "event-comparison" and entry.status == "completed"
    assert entry.data == str(history.resolve())
    assert entry.request is not None and entry.request["provider"]["vol"]["series"] == "VIX"
    assert entry.metrics is not None and entry.metrics["flagged"] == 0
    version = Catalog.load(history).content_version
    assert main(argv) == 0  # same inputs: the history is reused, not rewritten
    assert Catalog.load(history).content_version == version
    assert json.loads((out / "summary.json").read_text())["provider"]["provider_id"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--vol-index", "VIX"], "--vol-index needs --provider synthetic"),
        (["--provider", "synthetic"], "give one of --vol or --vol-index (or --provider-config)"),
        (["--provider", "synthetic", "--vol-index", "NOPE"], "has no 'NOPE' series"),
        (["--provider", "synthetic", "--vol", "-2"], "vol.fixed.value: Input should be greater"),
    ],
)
def test_bad_provider_input_is_one_line(
    closes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    events = tmp_path / "events"
    events.mkdir()
    (events / "dip-2020.toml").write_text(PRESET)
    argv = ["events", "dip-2020", "--dir", str(events), "--compare", "--data", str(closes),
            "--capital", "1e6", "--history-dir", str(tmp_path / "h"), "--no-progress",
            "--reports", str(tmp_path / "reports"), *extra]  # fmt: skip
    if "--provider" not in extra:
        argv.remove("--history-dir")
        argv.remove(str(tmp_path / "h"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "h").exists()


def _record(fills: float, error: str | None = None, book: pd.DataFrame | None = None) -> object:
    return SimpleNamespace(metrics={"fills": fills}, error=error, tradebook=book)


def test_flags_by_hand() -> None:
    ts = pd.Timestamp("2020-01-02 16:00")
    two = pd.DataFrame({"action": ["open", "open"], "right": ["P", "P"], "ts": [ts, ts],
                        "position_key": ["put1", "put2"]})  # fmt: skip
    one = two.iloc[:1]
    later = pd.concat([one, two.iloc[1:].assign(ts=ts + pd.Timedelta(days=1))])
    assert _flag(_record(2, book=two), 2) == ""
    assert _flag(_record(1, book=one), 2) == "ladder_collapsed (1 of 2 rungs)"
    assert _flag(_record(2, book=later), 2) == "ladder_collapsed (1 of 2 rungs)"  # first order
    assert _flag(_record(1, book=one), 0) == ""  # not a ladder
    assert _flag(_record(0, book=one.iloc[:0]), 2) == "no_fills"
    assert _flag(_record(math.nan), 0) == "no_fills"
    assert _flag(SimpleNamespace(metrics={}, error=None, tradebook=None), 0) == "no_fills"
    assert _flag(_record(3, error="boom"), 0) == "failed"


def test_flagged_templates_rank_after_every_unflagged_one() -> None:
    rows = pd.DataFrame(
        {
            "template": ["cheap-flat", "ladder", "hedge"],
            "max_drawdown": [0.0, -10.0, -500.0],
            "worst_day": [0.0, -5.0, -300.0],
            "fees": [0.0, 1.0, 3.0],
            "total_pnl": [0.0, -1.0, -200.0],
            "error": [None, None, None],
            "fills": [0, 2, 4],
            "flag": ["no_fills", "ladder_collapsed (1 of 2 rungs)", ""],
        }
    )
    ranked = _flagged_last(rows, rank_summary)
    assert ranked["template"].tolist() == ["hedge", "ladder", "cheap-flat"]
    assert ranked["rank"].tolist() == [1, 2, 3]
