"""A writer killed with SIGKILL at any step leaves the old dataset or the new one, complete.

Real ``workbench data ingest`` subprocesses extend a dataset (one day replaced, one added) and
are killed at each named step of the transaction (:mod:`workbench.data.faults`), or as soon as a
new day file is seen on disk. Afterwards the dataset at ``--out`` must be exactly the old version
or exactly the new one (its catalog's content version, and every file matching the catalog), and
a rerun must succeed, give the version an uninterrupted ingest gives and leave nothing behind.
Before the fix, a kill after the first new day file left a catalog of 600 option rows beside a
day file of 9,646 and nothing noticed; a killed new ingest blocked its own rerun.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fault_helpers import start, until
from ingest_builders import CBOE_HEADER, SET1, cboe_row, write_csv

from workbench.data.catalog import Catalog
from workbench.data.errors import DatasetNotFoundError
from workbench.data.ingest import ingest
from workbench.data.txn import NO_EXCHANGE_ENV
from workbench.data.verify import verify_dataset

EXTENSION = [SET1 / "SPX_20190425.csv.gz", SET1 / "SPX_20190703.csv.gz"]


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A small base dataset (a hand-made 2019-04-25) and the content versions of it before and
    after an uninterrupted extension with the real 2019-04-25 and 2019-07-03 chains."""
    root = tmp_path_factory.mktemp("versions")
    src = write_csv(
        root / "base.csv",
        CBOE_HEADER,
        [cboe_row(strike=str(2900 + 5 * i)) for i in range(3)],
    )
    base = root / "base"
    old = ingest("cboe-eod", [src], base).catalog
    ref = root / "ref"
    shutil.copytree(base, ref)
    new = ingest("cboe-eod", EXTENSION, ref).catalog
    assert old is not None and new is not None
    assert new.row_counts.options > 100 * old.row_counts.options  # the 600 vs 9,646
    return base, old.content_version, new.content_version


def _dataset(versions: tuple[Path, str, str], tmp_path: Path) -> Path:
    out = tmp_path / "ds"
    shutil.copytree(versions[0], out)
    return out


def _ingest_args(out: Path) -> list[str]:
    return ["data", "ingest", "--format", "cboe-eod", *map(str, EXTENSION), "--out", str(out),
            "--no-progress"]  # fmt: skip


def _whole(out: Path, version: str) -> None:
    """``out`` is the dataset of ``version``, every file as its catalog records it."""
    catalog = Catalog.load(out)
    assert catalog.content_version == version
    report = verify_dataset(out, progress=False)
    assert report.ok, report.format_text()
    assert report.files_checked == len(catalog.files) > 0


def _rerun_completes(out: Path, tmp_path: Path, new: str) -> None:
    again = start(_ingest_args(out), tmp_path, tag="rerun")
    assert again.finish() == 0, again.err()
    assert new in again.out()
    _whole(out, new)
    # no staging, spill, old-version, lock or owner files left beside the dataset
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".ds")) == []


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ("stage-ready", "old"),
        ("day-written", "old"),
        ("catalog-staged", "old"),
        ("published", "new"),
    ],
)
def test_kill_during_an_extend_leaves_the_old_or_the_new_version(
    versions: tuple[Path, str, str], tmp_path: Path, point: str, expected: str
) -> None:
    _, old, new = versions
    out = _dataset(versions, tmp_path)
    writer = start(_ingest_args(out), tmp_path, pause=point)
    assert writer.wait_paused() == point
    writer.kill()
    _whole(out, old if expected == "old" else new)
    _rerun_completes(out, tmp_path, new)


def test_kill_as_soon_as_a_new_day_file_appears(
    versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    """No pause point: the kill lands wherever the writer is when its first new day file shows
    (a file with one link is new; the old version's files are linked into the stage)."""
    _, old, new = versions
    out = _dataset(versions, tmp_path)

    def new_day_file() -> bool:
        for stage in tmp_path.glob(".ds.txn-*"):
            for path in stage.rglob("*.parquet"):
                try:
                    if path.stat().st_nlink == 1 and not path.name.startswith("."):
                        return True
                except FileNotFoundError:
                    continue
        return writer.proc.poll() is not None

    writer = start(_ingest_args(out), tmp_path)
    until(new_day_file, "a new day file")
    writer.kill()
    assert Catalog.load(out).content_version in (old, new)
    _whole(out, Catalog.load(out).content_version)
    _rerun_completes(out, tmp_path, new)


@pytest.mark.parametrize(
    ("point", "expected"), [("catalog-staged", "old"), ("between-renames", "repair")]
)
def test_kill_during_the_two_rename_publish_is_recovered(
    versions: tuple[Path, str, str], tmp_path: Path, point: str, expected: str
) -> None:
    """Where ``renameat2`` cannot swap folders the publish is two renames; a kill between them
    leaves no dataset at the path, and ``data repair`` (or the next writer) puts the complete
    new version in place."""
    _, old, new = versions
    out = _dataset(versions, tmp_path)
    writer = start(_ingest_args(out), tmp_path, pause=point, env={NO_EXCHANGE_ENV: "1"})
    assert writer.wait_paused() == point
    writer.kill()
    if expected == "old":
        _whole(out, old)
    else:
        assert not out.exists()
        with pytest.raises(DatasetNotFoundError, match="workbench data repair"):
            Catalog.load(out)
        info = start(["data", "info", str(out)], tmp_path, tag="info")
        assert info.finish() == 2 and "workbench data repair" in info.err()
        repair = start(["data", "repair", str(out)], tmp_path, tag="repair")
        assert repair.finish() == 0, repair.err()
        assert "published the interrupted write's complete new version" in repair.out()
        _whole(out, new)
    _rerun_completes(out, tmp_path, new)


def test_a_killed_new_ingest_does_not_block_its_rerun(
    versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    _, _, new = versions
    out = tmp_path / "ds"
    writer = start(_ingest_args(out), tmp_path, pause="day-written")
    writer.wait_paused()
    writer.kill()
    assert not out.exists()  # a new dataset appears only complete
    assert list(tmp_path.glob(".ds.txn-*"))  # what the killed writer left, beside it
    _rerun_completes(out, tmp_path, new)


def test_a_half_made_dataset_of_an_older_writer_is_replaced_or_repaired(
    versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    """What a killed ingest of the previous, non-transactional writer left: ``options spot``
    without a catalog. The rerun used to refuse ("not a dataset folder ... and not empty")."""
    _, _, new = versions
    out = tmp_path / "ds"
    for kind in ("options", "spot"):
        folder = out / kind / "SPX" / "2019"
        folder.mkdir(parents=True)
        (folder / "2019-04-25.parquet").write_bytes(b"half a day file")
    rerun = start(_ingest_args(out), tmp_path, tag="first")
    assert rerun.finish() == 0, rerun.err()
    assert "unfinished dataset write" in rerun.err()
    _whole(out, new)
    shutil.rmtree(out)
    (out / "spot" / "SPX").mkdir(parents=True)
    repair = start(["data", "repair", str(out)], tmp_path, tag="repair")
    assert repair.finish() == 0, repair.err()
    assert "never published" in repair.out() and not out.exists()


def test_leftovers_of_killed_writers_are_swept_by_the_next_writer(
    versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    """Staging folders of a killed synth (``.ds.synth-*``, the older writer's name, and the
    transaction's ``.ds.txn-*``) go with the next write of the same dataset; those of another
    dataset in the same folder stay."""
    out = _dataset(versions, tmp_path)
    for name in (".ds.synth-k1ll3d0", ".ds.txn-k1ll3d0", ".ds.ingest-k1ll3d0", ".dsx.txn-other"):
        (tmp_path / name / "spot").mkdir(parents=True)
    ingest("cboe-eod", EXTENSION[:1], out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ds")) == [
        ".dsx.txn-other"
    ]


def test_a_killed_synth_is_cleaned_up_by_the_next_synth(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    args = ["data", "synth", "--days", "2", "--start", "2024-01-02", "--seed", "5", "--out",
            str(out), "--workers", "1", "--no-progress"]  # fmt: skip
    first = start(args, tmp_path, pause="day-written", tag="synth1")
    first.wait_paused()
    first.kill()
    assert not out.exists() and list(tmp_path.glob(".ds.txn-*"))
    second = start(args, tmp_path, tag="synth2")
    assert second.finish() == 0, second.err()
    assert verify_dataset(out, progress=False).ok
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ds")) == []


def test_a_killed_run_save_is_swept_by_the_next_save(tmp_path: Path) -> None:
    """``workbench run --out crash`` killed while its folder is complete but not yet renamed
    leaves ``.crash.<random>.tmp``; the next run into ``crash`` removes it."""
    from workbench.data.synth import generate

    data = tmp_path / "data"
    generate("nifty-intraday", data, seed=3, start="2024-01-02", days=1, progress=False, workers=1)
    out = tmp_path / "crash"
    args = ["run", "workbench.strategies.short_straddle:IntradayShortStraddle", "--data",
            str(data), "--out", str(out), "--executor", "serial", "--no-progress"]  # fmt: skip
    first = start(args, tmp_path, pause="folder-staged", tag="run1")
    first.wait_paused()
    first.kill()
    assert not out.exists() and len(list(tmp_path.glob(".crash.*.tmp"))) == 1
    second = start(args, tmp_path, tag="run2")
    assert second.finish() == 0, second.err()
    assert (out / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".crash")) == []
