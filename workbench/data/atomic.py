"""Atomic file writes: a killed write leaves either the old file or the new one, never a part.

The new content goes to a temporary file in the destination's own folder (same filesystem, so
the final rename is atomic), is flushed and fsynced, then ``os.replace``-d over the destination;
the folder is fsynced so the rename itself survives a crash. Temporary files are named
``.<name>.<random>.tmp`` (a leading dot): readers never list them as data files, and a
temporary file left by a kill is ignored until :func:`sweep_temporaries` removes it (the
dataset writer does so in ``finalize``, when no other writer is active).
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def is_temporary(path: Path) -> bool:
    """True for a temporary file this module creates (``.<name>.<random>.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX)


@functools.cache
def _umask() -> int:
    # read once per process (os.umask can only be read by setting it)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(path: Path | str) -> None:
    """Give ``path`` the permissions ``open``/``mkdir`` would under the process umask.

    ``tempfile.mkstemp``/``mkdtemp`` create 0600 files and 0700 folders; a temporary renamed
    into place keeps them, which makes shared datasets and reports unreadable to others.
    Call it on the temporary before the rename.
    """
    base = 0o777 if Path(path).is_dir() else 0o666
    os.chmod(path, base & ~_umask())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit it replaces ``path`` atomically.

    The caller writes the complete file to the yielded path (any writer that takes a path:
    ``pyarrow.parquet.write_table``, ``Path.write_bytes``). On an exception the temporary file
    is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        default_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` atomically with ``write(temporary_path)``."""
    with atomic_path(path) as tmp:
        write(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def sweep_temporaries(folder: Path) -> list[Path]:
    """Remove temporary files a killed write left in ``folder`` (not recursive); return them."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.is_file() and is_temporary(entry):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
            removed.append(entry)
    return removed
