"""The end-of-day column cache (issue 13): the same arrays as the Parquet reads, never stale,
corruption detected, nothing half-written when the builder is killed, and runs that do not
depend on it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.eod_cache import DATASET_FILE, ENV, EodColumnCache, cache_root
from workbench.data.store import MarketStore
from workbench.data.synth import generate
from workbench.engine.eod import COLUMNS, ReadAhead, _spot_arrays
from workbench.engine.runner import run_backtest
from workbench.strategies.every_entry import EveryEntryPutSpread


@pytest.fixture(scope="module")
def eod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eodcache") / "spx"
    # three calendar months: March to early May 2019
    generate("spx-eod", path, seed=5, start="2019-03-20", days=30, progress=False, workers=1)
    return path


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _cache(data: Path, root: Path) -> EodColumnCache:
    store = MarketStore(data)
    return EodColumnCache(
        data,
        "SPXW",
        store.days("SPXW"),
        read_spot=lambda d: _spot_arrays(store, "SPXW", d),
        read_options=lambda d: store.day_columns("SPXW", d, COLUMNS),
        spot_path=lambda d: store.spot_path("SPX", d),
        options_path=lambda d: store.options_path("SPXW", d),
        columns=COLUMNS,
        root=root,
    )


def _files(root: Path) -> list[Path]:
    """The month files and build temporaries under ``root`` (not the folder's label)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != DATASET_FILE)


def test_cached_arrays_are_the_parquet_reads(eod: Path, tmp_path: Path) -> None:
    store = MarketStore(eod)
    days = store.days("SPXW")
    assert len({(d.year, d.month) for d in days}) == 3
    for attempt in ("built", "opened"):
        cache = _cache(eod, tmp_path)
        for day in days:
            got = cache.get(day)
            assert got is not None, day
            spot, options = got
            want = store.day_columns("SPXW", day, COLUMNS)
            want_spot = _spot_arrays(store, "SPXW", day)
            assert want_spot is not None and spot is not None and options is not None
            assert list(options) == list(want) and list(spot) == list(want_spot)
            for name in want:
                assert _same(options[name], want[name]), (attempt, day, name)
            for name in want_spot:
                assert _same(spot[name], want_spot[name]), (attempt, day, name)
        assert (cache.built, cache.opened) == ((3, 0) if attempt == "built" else (0, 3))
        cache.close()
    # one spot and one options file per month, nothing else (no temporaries)
    assert [p.name.split(".", 1)[1] for p in _files(tmp_path)] == 3 * [
        "options.arrow",
        "spot.arrow",
    ]
    # and the folder's label names the dataset (``workbench data cache``)
    (label,) = tmp_path.rglob(DATASET_FILE)
    assert label.read_text().strip() == str(eod)


def test_a_rewritten_day_is_never_served_stale(eod: Path, tmp_path: Path) -> None:
    data = tmp_path / "spx"
    shutil.copytree(eod, data)
    root = tmp_path / "cache"
    store = MarketStore(data)
    day = store.days("SPXW")[3]
    first = _cache(data, root)
    before = first.get(day)
    assert before is not None and first.built == 1
    first.close()
    old = {p.name for p in _files(root)}
    # the same bytes written again (a re-ingest): a new mtime is a new fingerprint
    path = store.options_path("SPXW", day)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    second = _cache(data, root)
    after = second.get(day)
    assert after is not None and second.built == 1 and second.opened == 0
    second.close()
    new = {p.name for p in _files(root)}
    month = f"SPXW-{day.year:04d}-{day.month:02d}-"
    assert {n for n in new if n.startswith(month)}.isdisjoint(old)  # the old month removed
    assert len(new) == len(old)
    # a changed file that no longer matches the catalog is not cached: the Parquet read
    # (which raises its error) is what the engine gets
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    third = _cache(data, root)
    assert third.get(day) is None
    assert third.built == 0


def test_a_damaged_cache_file_falls_back_to_parquet(eod: Path, tmp_path: Path) -> None:
    cache = _cache(eod, tmp_path)
    days = MarketStore(eod).days("SPXW")
    assert cache.get(days[0]) is not None
    cache.close()
    (options,) = [p for p in _files(tmp_path) if p.name.endswith("options.arrow")]
    raw = bytearray(options.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(64)  # zeros over some day's values
    options.write_bytes(bytes(raw))
    again = _cache(eod, tmp_path)
    served = [again.get(d) for d in days if (d.year, d.month) == (days[0].year, days[0].month)]
    assert any(x is None for x in served)  # the damaged day(s) are read from Parquet
    store = MarketStore(eod)
    for day, got in zip(days, served):
        if got is not None:  # what is still served is intact
            want = store.day_columns("SPXW", day, COLUMNS)
            assert all(_same(got[1][n], want[n]) for n in want)  # type: ignore[index]


def test_runs_are_the_same_with_and_without_the_cache(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = {}
    served = {}
    original = ReadAhead.close

    def spy(self: ReadAhead) -> None:
        served[key] = self.cached_days
        original(self)

    monkeypatch.setattr(ReadAhead, "close", spy)
    for key, env in (("off", "0"), ("building", str(tmp_path)), ("built", str(tmp_path))):
        monkeypatch.setenv(ENV, env)
        result = run_backtest(
            EveryEntryPutSpread, data=eod, params={"underlying": "SPXW"}, progress=False
        )
        frames[key] = (result.tradebook, result.daily)
    assert served["off"] == 0 and served["built"] == len(MarketStore(eod).days("SPXW"))
    assert len(frames["off"][0]) > 100
    for key in ("building", "built"):
        pd.testing.assert_frame_equal(frames[key][0], frames["off"][0])
        pd.testing.assert_frame_equal(frames[key][1], frames["off"][1])


def test_built_months_are_read_on_the_engine_thread_and_built_on_the_reader(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month the cache holds is read on the engine's thread (a thread handoff per day cost
    more than the read); a month it does not hold is built on the read-ahead's thread, never
    the engine's, and the runs are the same either way."""
    import threading

    from workbench.engine import eod as eod_module

    monkeypatch.setenv(ENV, str(tmp_path))
    builders: list[str] = []
    thread_reads: list[object] = []
    build, read = EodColumnCache._build, ReadAhead._read

    def spy_build(self: EodColumnCache, *args: object) -> None:
        builders.append(threading.current_thread().name)
        build(self, *args)  # type: ignore[arg-type]

    def spy_read(self: ReadAhead, day: object) -> object:
        thread_reads.append(day)
        return read(self, day)  # type: ignore[arg-type]

    monkeypatch.setattr(EodColumnCache, "_build", spy_build)
    monkeypatch.setattr(ReadAhead, "_read", spy_read)
    served: list[int] = []
    close = ReadAhead.close

    def spy_close(self: ReadAhead) -> None:
        served.append(self.cached_days)
        close(self)

    monkeypatch.setattr(ReadAhead, "close", spy_close)
    days = MarketStore(eod).days("SPXW")
    months = {(d.year, d.month) for d in days}
    books = []
    for _ in range(2):
        result = run_backtest(
            EveryEntryPutSpread, data=eod, params={"underlying": "SPXW"}, progress=False
        )
        books.append(result.tradebook)
        if len(books) == 1:
            assert len(builders) == len(months) == 3
            assert all(name.startswith("eod-read-ahead") for name in builders), builders
            assert served == [len(days)]  # every day from the cache once built
            builders.clear()
            thread_reads.clear()
    assert builders == [] and thread_reads == []  # all read here, nothing handed over
    assert served[1] == len(days)
    assert eod_module.DEPTH >= 1
    pd.testing.assert_frame_equal(books[0], books[1])


def test_an_open_only_cache_serves_built_months_and_never_builds(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.data import eod_cache

    store = MarketStore(eod)
    days = store.days("SPXW")
    here = _cache(eod, tmp_path)
    here.build = False
    assert here.get(days[0]) is None and not here.ready(days[0])
    assert _files(tmp_path) == []  # looked, built nothing
    builder = _cache(eod, tmp_path)
    for d in days:
        builder.get(d)
    monkeypatch.setattr(eod_cache, "OPEN_MONTHS", 1)
    for d in [*days, days[0]]:  # the first month again after it was closed: opened again
        got = here.get(d)
        assert got is not None
        want = store.day_columns("SPXW", d, COLUMNS)
        assert all(_same(got[1][n], want[n]) for n in want)  # type: ignore[index]
        assert sum(m is not None for m in here._months.values()) == 1
    assert here.built == 0


def test_cache_root_and_an_unwritable_folder(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "0")
    assert cache_root() is None
    monkeypatch.setenv(ENV, str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x"
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "workbench" / "eod"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    cache = _cache(eod, blocked)
    assert cache.get(MarketStore(eod).days("SPXW")[0]) is None  # not cached, no error
    assert blocked.read_text() == "not a folder"


BUILDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from workbench.data.store import MarketStore
    from workbench.engine.eod import COLUMNS, _spot_arrays
    from workbench.data.eod_cache import EodColumnCache

    data, root = Path(sys.argv[1]), Path(sys.argv[2])
    store = MarketStore(data)

    def read_options(d):
        print("read", d, flush=True)
        time.sleep(0.05)
        return store.day_columns("SPXW", d, COLUMNS)

    cache = EodColumnCache(
        data, "SPXW", store.days("SPXW"),
        read_spot=lambda d: _spot_arrays(store, "SPXW", d), read_options=read_options,
        spot_path=lambda d: store.spot_path("SPX", d),
        options_path=lambda d: store.options_path("SPXW", d), columns=COLUMNS, root=root,
    )
    for d in store.days("SPXW"):
        cache.get(d)
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("after_reads", [1, 8, 14])
def test_a_builder_killed_leaves_no_month_file(eod: Path, tmp_path: Path, after_reads: int) -> None:
    root = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(eod), str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    reads = 0
    deadline = time.monotonic() + 300
    while reads < after_reads and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reads += line.startswith("read")
    assert reads == after_reads
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    names = [p.name for p in _files(root)]
    # a month counts once both its files are in place; a file being written is a temporary
    # (``.<name>.<random>.tmp``), never a partial ``.arrow``
    months = {tuple(n.split("-")[1:3]) for n in names if n.endswith(".arrow")}
    complete = {m for m in months if sum(n.startswith(f"SPXW-{m[0]}-{m[1]}-") for n in names) == 2}
    assert all(n.endswith(".arrow") or n.endswith(".tmp") for n in names), names
    store = MarketStore(eod)
    cache = _cache(eod, root)
    for day in store.days("SPXW"):  # the next run builds what was missing and serves it all
        got = cache.get(day)
        assert got is not None
        want = store.day_columns("SPXW", day, COLUMNS)
        assert all(_same(got[1][n], want[n]) for n in want)  # type: ignore[index]
    assert (cache.opened, cache.built) == (len(complete), 3 - len(complete))
    assert after_reads < 10 or complete  # the first month (9-10 days) was done by then
    # an hour later, the next build of the killed month removes its temporary
    left = [p for p in _files(root) if p.name.endswith(".tmp")]
    for tmp in left:
        os.utime(tmp, (time.time() - 7200, time.time() - 7200))
        month = tmp.name.lstrip(".").split("-")[1:3]
        for path in _files(root):
            if path.name.startswith(f"SPXW-{month[0]}-{month[1]}-"):
                path.unlink()
    again = _cache(eod, root)
    for day in store.days("SPXW"):
        assert again.get(day) is not None
    assert not [p for p in _files(root) if p.name.endswith(".tmp")]


def test_two_processes_building_at_once(eod: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(eod), str(root)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert all(out.rstrip().endswith("done") for out in outs)
    # one file per month and kind is left, whole (a process may have used the other's month)
    names = sorted(p.name for p in _files(root))
    assert len(names) == 6 and all(n.endswith(".arrow") for n in names), names
    store = MarketStore(eod)
    cache = _cache(eod, root)
    for day in store.days("SPXW"):
        got = cache.get(day)
        assert got is not None
        want = store.day_columns("SPXW", day, COLUMNS)
        assert all(_same(got[1][n], want[n]) for n in want)  # type: ignore[index]
    assert (cache.opened, cache.built) == (3, 0)


def test_data_cache_command_shows_and_clears_one_dataset(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli.main import main

    root = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(root))
    other = tmp_path / "other"
    shutil.copytree(eod, other)
    for data in (eod, other):
        cache = _cache(data, root)
        assert cache.get(MarketStore(data).days("SPXW")[0]) is not None
    stranger = root / ("a" * 16) / "notes.txt"  # a file the cache did not write
    stranger.parent.mkdir(parents=True)
    stranger.write_text("keep me")

    assert main(["data", "cache"]) == 0
    shown = capsys.readouterr().out
    assert str(root) in shown
    assert f"{eod.resolve()}: 1 month(s)" in shown and f"{other.resolve()}: 1 month(s)" in shown

    assert main(["data", "cache", "--clear", str(other)]) == 0
    assert "removed 3 file(s)" in capsys.readouterr().out  # options, spot, label
    assert main(["data", "cache"]) == 0
    shown = capsys.readouterr().out
    assert str(eod.resolve()) in shown and str(other.resolve()) not in shown
    assert stranger.read_text() == "keep me"
    # a run after clearing rebuilds what it needs, and the remaining dataset is untouched
    assert _cache(other, root).get(MarketStore(other).days("SPXW")[0]) is not None

    assert main(["data", "cache", "--clear", str(other)]) == 0  # the rebuilt files go again
    assert capsys.readouterr().out.startswith(f"removed 3 file(s) of {other}")
    assert main(["data", "cache", "--clear", str(other)]) == 0  # already gone: said so
    assert capsys.readouterr().out.startswith(f"nothing cached for {other}")
    assert main(["data", "cache", "--clear"]) == 0
    capsys.readouterr()
    assert not [p for p in root.rglob("*.arrow")]
    assert stranger.read_text() == "keep me"

    monkeypatch.setenv(ENV, "0")
    assert main(["data", "cache"]) == 0
    assert "off" in capsys.readouterr().out


def test_the_engine_thread_looks_for_a_month_not_yet_built_once(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run (nothing cached): the engine's thread looks for a month the read-ahead is
    building once, and again only when the read-ahead has it -- not once a day for every day
    ahead (each look hashes the month's source files)."""
    import threading

    monkeypatch.setenv(ENV, str(tmp_path))
    looks: dict[str, list[tuple[int, int]]] = {}
    fingerprint = EodColumnCache._fingerprint

    def spy(self: EodColumnCache, days: list[object]) -> object:
        name = "engine" if threading.current_thread() is threading.main_thread() else "reader"
        first = days[0]
        looks.setdefault(name, []).append((first.year, first.month))  # type: ignore[attr-defined]
        return fingerprint(self, days)  # type: ignore[arg-type]

    monkeypatch.setattr(EodColumnCache, "_fingerprint", spy)
    months = {(d.year, d.month) for d in MarketStore(eod).days("SPXW")}
    cold = run_backtest(
        EveryEntryPutSpread, data=eod, params={"underlying": "SPXW"}, progress=False
    )
    assert sorted(set(looks["reader"])) == sorted(months)
    engine = looks["engine"]
    assert set(engine) <= months
    for month in months:  # a miss while it is built, then the hit
        assert engine.count(month) <= 2, (month, engine)
    looks.clear()
    warm = run_backtest(
        EveryEntryPutSpread, data=eod, params={"underlying": "SPXW"}, progress=False
    )
    assert sorted(looks["engine"]) == sorted(months) and "reader" not in looks
    pd.testing.assert_frame_equal(cold.tradebook, warm.tradebook)


def test_a_batch_is_checked_once_per_file_as_it_is_on_disk(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later cache in the same process serves a month file's days without hashing them
    again; the file replaced whole (a new inode), or rewritten in place (a new modification
    time), is checked afresh and its damaged days are not served."""
    import os

    from workbench.data import eod_cache

    hashed: list[int] = []
    crc = eod_cache._crc

    def spy(arrays: dict[str, np.ndarray]) -> int:
        hashed.append(1)
        return crc(arrays)

    monkeypatch.setattr(eod_cache, "_crc", spy)
    days = MarketStore(eod).days("SPXW")
    month = [d for d in days if (d.year, d.month) == (days[0].year, days[0].month)]
    first = _cache(eod, tmp_path)
    served = [first.get(d) for d in month]
    first.close()
    assert all(x is not None for x in served)
    built = len(hashed)
    assert built >= 2 * len(month)  # written and read: each day's batch hashed
    hashed.clear()
    again = _cache(eod, tmp_path)
    repeat = [again.get(d) for d in month]
    again.close()
    assert hashed == []  # the same files: not hashed again
    for x, y in zip(served, repeat, strict=True):
        for a, b in zip(x, y, strict=True):  # type: ignore[arg-type]
            assert a.keys() == b.keys() and all(_same(a[n], b[n]) for n in a)

    (options,) = [p for p in _files(tmp_path) if p.name.endswith("options.arrow")]
    raw = bytearray(options.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(64)
    for how in ("replaced", "rewritten"):
        if how == "replaced":  # a new file renamed over the old one: a new inode
            copy = options.with_name(".damaged")
            copy.write_bytes(bytes(raw))
            os.replace(copy, options)
        else:  # the same inode written over, later
            options.write_bytes(bytes(raw))
            st = options.stat()
            os.utime(options, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        hashed.clear()
        damaged = _cache(eod, tmp_path)
        got = [damaged.get(d) for d in month]
        damaged.close()
        assert hashed, how  # checked afresh
        assert any(x is None for x in got), how  # the damaged day(s) go to Parquet


def test_the_files_known_intact_are_bounded(
    eod: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-lived process (a kernel, the service) remembers at most ``VERIFIED_FILES`` month
    files; one it forgot is checked again when next opened, and still served."""
    from workbench.data import eod_cache

    monkeypatch.setattr(eod_cache, "_VERIFIED", {})
    monkeypatch.setattr(eod_cache, "VERIFIED_FILES", 3)
    hashed: list[int] = []
    crc = eod_cache._crc

    def spy(arrays: dict[str, np.ndarray]) -> int:
        hashed.append(1)
        return crc(arrays)

    monkeypatch.setattr(eod_cache, "_crc", spy)
    days = MarketStore(eod).days("SPXW")
    first_month = (days[0].year, days[0].month)
    months = sorted({(d.year, d.month) for d in days})[:3]  # 3 months: 6 files
    wanted = [d for d in days if (d.year, d.month) in months]
    cache = _cache(eod, tmp_path)
    assert all(cache.get(d) is not None for d in wanted)
    cache.close()
    assert len(eod_cache._VERIFIED) == 3  # the last three files opened
    assert not any(
        f"{first_month[0]:04d}-{first_month[1]:02d}" in k[0] for k in eod_cache._VERIFIED
    )
    hashed.clear()
    again = _cache(eod, tmp_path)
    day = next(d for d in days if (d.year, d.month) == first_month)
    assert again.get(day) is not None  # forgotten: checked again, served
    again.close()
    assert hashed
    assert len(eod_cache._VERIFIED) == 3
