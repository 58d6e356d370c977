"""Two real ingest processes into the same ``--out``: one writer at a time, nothing lost.

Before the fix, a second ingest started a second after a first one into the same folder swept
the other's temporary files; the failing process deleted the folder it had created, and the
dataset ended up absent although the second process printed a content version and exit 0.
Now the second waits for the first (naming it), then extends what it wrote, and every process
that reports success has its data in the final dataset.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from fault_helpers import start, until
from ingest_builders import SET1

from workbench.data.catalog import Catalog
from workbench.data.locks import owner_path
from workbench.data.verify import verify_dataset

APRIL = SET1 / "SPX_20190425.csv.gz"
JULY = SET1 / "SPX_20190703.csv.gz"


def _args(src: Path, out: Path, *extra: str) -> list[str]:
    return ["data", "ingest", "--format", "cboe-eod", str(src), "--out", str(out),
            "--no-progress", *extra]  # fmt: skip


def _printed_version(text: str) -> str:
    match = re.search(r"content version\s+(sha256:[0-9a-f]{64})", text)
    assert match is not None, text
    return match[1]


def test_a_second_ingest_waits_for_the_first_and_both_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    first = start(_args(APRIL, out), tmp_path, pause="day-written", tag="first")
    first.wait_paused()  # holds the lock, half-way through its writes

    refused = start(_args(JULY, out, "--lock-timeout", "0"), tmp_path, tag="refused")
    assert refused.finish() == 2
    assert f"pid {first.pid}" in refused.err() and "data ingest" in refused.err()
    assert "another writer holds it" in refused.err()

    second = start(_args(JULY, out), tmp_path, tag="second")
    until(lambda: f"pid {first.pid}" in second.err(), "the second ingest to name the first")
    assert "waiting up to 600 s" in second.err() and second.proc.poll() is None

    first.resume()
    assert first.finish() == 0, first.err()
    assert second.finish() == 0, second.err()
    final = Catalog.load(out)
    # the later writer printed the catalog's version; the earlier one's data is in it too
    assert _printed_version(second.out()) == final.content_version
    assert _printed_version(first.out()) != final.content_version
    assert final.underlying_days("SPXW") == [date(2019, 4, 25), date(2019, 7, 3)]
    assert verify_dataset(out, progress=False).ok
    assert not owner_path(out).exists()


def test_a_killed_lock_holder_does_not_block_the_next_writer(tmp_path: Path) -> None:
    """The kernel drops a SIGKILLed holder's lock: a waiting ingest goes on at once."""
    out = tmp_path / "ds"
    first = start(_args(APRIL, out), tmp_path, pause="catalog-staged", tag="first")
    first.wait_paused()
    second = start(_args(JULY, out), tmp_path, tag="second")
    until(lambda: f"pid {first.pid}" in second.err(), "the second ingest to name the first")
    first.kill()
    assert second.finish() == 0, second.err()
    final = Catalog.load(out)
    assert _printed_version(second.out()) == final.content_version
    assert final.underlying_days("SPXW") == [date(2019, 7, 3)]  # the killed one published nothing
    assert verify_dataset(out, progress=False).ok


@pytest.mark.realdata
def test_twenty_files_and_seven_others_into_one_dataset(real_data: Path, tmp_path: Path) -> None:
    """The reproduction: 20 SPX chain files, and 7 others started while the first ingest holds
    the dataset. Both exit 0 and the dataset holds all 27 files' days."""
    files = sorted((real_data / "us_spx_eod_chains_2019").glob("SPX_2019*.csv.gz"))
    trading = [f for f in files if f.name not in ("SPX_20190527.csv.gz", "SPX_20190704.csv.gz")]
    big, small = trading[:20], trading[20:27]
    out = tmp_path / "ds"
    args = ["data", "ingest", "--format", "cboe-eod", "--out", str(out), "--no-progress"]
    first = start([*args, *map(str, big)], tmp_path, tag="first")
    until(lambda: owner_path(out).exists() or first.proc.poll() is not None, "the first lock")
    second = start([*args, *map(str, small)], tmp_path, tag="second")
    assert first.finish() == 0, first.err()
    assert second.finish() == 0, second.err()
    final = Catalog.load(out)
    assert final.days == 27  # every day of both ingests
    # the second waited for the first, so it published last: its version is the catalog's
    assert _printed_version(second.out()) == final.content_version
    assert verify_dataset(out, progress=False).ok
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith((".ds", "ds"))) == ["ds"]
