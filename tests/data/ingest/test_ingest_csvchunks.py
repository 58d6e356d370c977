"""CSV streaming: string chunks, physical line numbers, malformed and blank lines, BOM, gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data.ingest import csvchunks
from workbench.data.ingest.csvchunks import iter_csv_chunks
from workbench.data.ingest.errors import HeaderError, UnreadableFileError
from workbench.data.ingest.sources import check_header, read_header


def _all(path: Path) -> tuple[list[dict[str, str]], list[int], list[tuple[int, str]]]:
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    for chunk in iter_csv_chunks(path):
        rows += chunk.table.to_pylist()
        lines += chunk.lines.tolist()
        bad += [(m.line, m.text) for m in chunk.malformed]
    return rows, lines, bad


def test_lines_are_physical_and_malformed_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbfa, b\r\n1,2\r\n\r\n3\r\n4,5\r\n6,7,8\r\n9,")
    rows, lines, bad = _all(path)
    assert read_header(path) == ["a", "b"]  # BOM dropped, blanks stripped
    assert rows == [
        {"a": "1", "b": "2"},
        {"a": "", "b": ""},  # the blank line is a row of empty fields
        {"a": "4", "b": "5"},
        {"a": "9", "b": ""},  # a truncated last line
    ]
    assert lines == [2, 3, 5, 7]
    assert bad == [(4, "3"), (6, "6,7,8")]


def test_gzip_is_read_directly(tmp_path: Path) -> None:
    path = tmp_path / "x.csv.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        handle.write(b"a,b\n1,2\n3,4\n")
    rows, lines, _ = _all(path)
    assert rows == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert lines == [2, 3]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(0, 999), st.integers(0, 999)).map(lambda t: f"{t[0]},{t[1]}"),
            st.just("7"),
            st.just("1,2,3"),
        ),
        min_size=0,
        max_size=200,
    ),
    st.integers(1, 3),
)
def test_line_numbers_match_the_file_over_small_blocks(
    tmp_path_factory: pytest.TempPathFactory, body: list[str], block_kb: int
) -> None:
    """Whatever the mix of good and malformed lines and the block size, line numbers agree."""
    path = tmp_path_factory.mktemp("h") / "x.csv"
    path.write_text("\n".join(["a,b", *body]) + "\n")
    old = csvchunks.BLOCK_SIZE
    csvchunks.BLOCK_SIZE = block_kb * 64
    try:
        rows, lines, bad = _all(path)
    finally:
        csvchunks.BLOCK_SIZE = old
    good = [(i + 2, text) for i, text in enumerate(body) if text.count(",") == 1]
    assert lines == [n for n, _ in good]
    assert [f"{r['a']},{r['b']}" for r in rows] == [t for _, t in good]
    assert sorted(bad) == [(i + 2, t) for i, t in enumerate(body) if t.count(",") != 1]
    assert len(rows) + len(bad) == len(body)
    assert np.all(np.diff(lines) > 0) if lines else True


def test_empty_binary_and_bad_gzip_files_are_unreadable(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match=r"empty\.csv: empty file"):
        read_header(empty)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(UnreadableFileError, match=r"bin\.csv: binary content"):
        read_header(binary)
    broken = tmp_path / "broken.csv.gz"
    whole = gzip.compress(b"a,b\n" + b"1,2\n" * 5000, mtime=0)
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnreadableFileError, match=r"broken\.csv\.gz"):
        list(iter_csv_chunks(broken))


def test_check_header_names_missing_and_unexpected_columns(tmp_path: Path) -> None:
    with pytest.raises(HeaderError) as info:
        check_header(tmp_path / "f.csv", ["a", "zz", "a"], ["a", "b"], ["c"])
    text = str(info.value)
    assert "f.csv" in text and "missing column(s) ['b']" in text
    assert "unexpected column(s) ['zz']" in text and "duplicate column(s) ['a']" in text
