"""Determinism, chunk independence and the safety of the output folder."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from workbench.data.catalog import Catalog
from workbench.data.synth import PROFILES, generate, select_days
from workbench.data.synth import profiles as profiles_module
from workbench.data.writer import DatasetWriter


def test_same_arguments_same_content_version_other_seed_differs(
    tmp_path: Path, nifty_dataset: tuple[Path, Catalog]
) -> None:
    _, first = nifty_dataset
    again = generate(
        "nifty-intraday",
        tmp_path / "b",
        seed=42,
        start="2024-01-02",
        days=3,
        progress=False,
        workers=1,
    )
    assert again.content_version == first.content_version
    other = generate(
        "nifty-intraday",
        tmp_path / "c",
        seed=43,
        start="2024-01-02",
        days=1,
        progress=False,
        workers=1,
    )
    same_day = generate(
        "nifty-intraday",
        tmp_path / "d",
        seed=42,
        start="2024-01-02",
        days=1,
        progress=False,
        workers=1,
    )
    assert other.content_version != same_day.content_version


def test_a_day_does_not_depend_on_build_order() -> None:
    profile = PROFILES["nifty-intraday"]
    days = select_days("NIFTY", date(2024, 1, 2), 3, None)
    plans = profile.plan(days, 5)
    forward = [profile.build(p, 5)["options"]["NIFTY"] for p in plans]
    backward = [profile.build(p, 5)["options"]["NIFTY"] for p in reversed(plans)][::-1]
    assert all(a.to_pandas().equals(b.to_pandas()) for a, b in zip(forward, backward))  # NaN-aware
    # A longer run starting on the same day plans the shared days identically.
    longer = profile.plan(select_days("NIFTY", date(2024, 1, 2), 5, None), 5)
    assert longer[:3] == plans


def test_existing_non_dataset_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a dataset"):
        generate("nifty-intraday", out, seed=1, start="2024-01-02", days=1, progress=False)
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_dataset_from_another_source_is_not_replaced(
    tmp_path: Path, nifty_dataset: tuple[Path, Catalog]
) -> None:
    root, _ = nifty_dataset
    out = tmp_path / "ingested"
    writer = DatasetWriter(
        out,
        name="real",
        venue="NSE",
        timezone="Asia/Kolkata",
        bar_interval="1min",
        source="nse-chain x.csv",
    )
    import pyarrow.parquet as pq

    writer.write_spot(
        "NIFTY",
        "2024-01-02",
        pq.read_table(root / "spot" / "NIFTY" / "2024" / "2024-01-02.parquet"),
    )
    writer.finalize()
    with pytest.raises(ValueError, match="not a synthetic one"):
        generate("nifty-intraday", out, seed=1, start="2024-01-02", days=1, progress=False)


def test_a_synthetic_dataset_extended_by_an_ingest_is_not_replaced(
    tmp_path: Path, nifty_dataset: tuple[Path, Catalog]
) -> None:
    import shutil

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    root, _ = nifty_dataset
    out = tmp_path / "mixed"
    shutil.copytree(root, out)
    writer = DatasetWriter(
        out,
        name="mixed",
        venue="NSE",
        timezone="Asia/Kolkata",
        bar_interval="1min",
        source="nse-chain x.csv",
    )
    frame = pq.read_table(root / "spot" / "NIFTY" / "2024" / "2024-01-02.parquet").to_pandas()
    frame["ts"] = frame["ts"] + pd.Timedelta(days=7)
    later = pa.Table.from_pandas(frame, preserve_index=False)
    writer.write_spot(
        "NIFTY",
        "2024-01-09",
        later,
    )
    writer.finalize()
    assert "; nse-chain x.csv" in Catalog.load(out).source
    with pytest.raises(ValueError, match="not a synthetic one"):
        generate("nifty-intraday", out, seed=1, start="2024-01-02", days=1, progress=False)
    assert (out / "spot" / "NIFTY" / "2024" / "2024-01-09.parquet").exists()


def test_a_synthetic_dataset_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    generate("nifty-intraday", out, seed=1, start="2024-01-02", days=2, progress=False, workers=1)
    catalog = generate(
        "nifty-intraday", out, seed=1, start="2024-01-08", days=1, progress=False, workers=1
    )
    assert catalog.days == 1 and catalog.start == date(2024, 1, 8)
    assert sorted(p.name for p in (out / "spot" / "NIFTY" / "2024").iterdir()) == [
        "2024-01-08.parquet"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["synth"]  # no staging folders, no lock file


def test_a_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = PROFILES["nifty-intraday"]

    def broken(plan: object, seed: int) -> object:
        raise RuntimeError("boom")

    monkeypatch.setitem(profiles_module.PROFILES, "nifty-intraday", replace(profile, build=broken))
    with pytest.raises(RuntimeError, match="boom"):
        generate(
            "nifty-intraday", tmp_path / "x", seed=1, start="2024-01-02", days=1, progress=False
        )
    assert list(tmp_path.iterdir()) == []


def test_the_process_pool_writes_the_same_content_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nifty_dataset: tuple[Path, Catalog]
) -> None:
    from workbench.data.synth import runner

    _, single = nifty_dataset
    monkeypatch.setattr(runner, "MAX_CHUNK_DAYS", 1)  # three tasks on two workers
    pooled = generate(
        "nifty-intraday",
        tmp_path / "p",
        seed=42,
        start="2024-01-02",
        days=3,
        progress=False,
        workers=2,
    )
    assert pooled.content_version == single.content_version
    assert not (tmp_path / "p" / runner.SCRATCH_DIR).exists()
