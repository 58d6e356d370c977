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
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
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


def check_replaceable(
    out: Path | str, markers: Sequence[str], what: str, *, label: str = "out"
) -> None:
    """Raise ``ValueError`` naming ``out`` unless it may be replaced by a folder of ``what``.

    Results are saved by renaming a finished temporary folder over ``out``, which removes what
    was there; that is allowed only when ``out`` is absent, an empty folder, or a folder holding
    every one of ``markers`` (the same kind of output written before). A file, a dataset or a
    folder of other things is refused before anything is written.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise ValueError(f"{label} {out}: is a file, not {what}; choose a new or empty folder")
    entries = sorted(p.name for p in out.iterdir())
    if not entries or all((out / m).is_file() for m in markers):
        return
    shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
    raise ValueError(
        f"{label} {out}: not {what} (it holds {shown}); it would be replaced, so choose a new or "
        "empty folder"
    )


def stale_siblings(out: Path) -> list[Path]:
    """Temporary folders (and files) :func:`replace_folder` and :func:`atomic_path` create for
    ``out`` (``.<name>.<8 random>.tmp``, ``.<name>.old-<pid>.tmp``) that exist beside it."""
    out = Path(out).absolute()
    if not out.parent.is_dir():
        return []
    pattern = re.compile(
        rf"^\.{re.escape(out.name)}\.(?:[a-z0-9_]{{8}}|old-\d+){re.escape(TEMP_SUFFIX)}$"
    )
    return sorted(p for p in out.parent.iterdir() if pattern.match(p.name))


@contextlib.contextmanager
def replace_folder(out: Path | str, markers: Sequence[str], what: str) -> Iterator[Path]:
    """Write a folder atomically: yields a temporary folder beside ``out``; when the block ends
    without an error its files are fsynced, it gets the umask's permissions and is renamed over
    ``out`` (the old folder removed); on an error it is removed and ``out`` is untouched.
    ``out`` must pass :func:`check_replaceable`.

    One writer at a time: it holds ``out``'s lock (:mod:`workbench.data.locks`) from the check
    to the rename, and first removes the temporary folders killed writers of ``out`` left
    (:func:`stale_siblings`; safe, since no other writer of ``out`` can be running).
    """
    from workbench.data.locks import FolderLock

    out = Path(out)
    with FolderLock(out, purpose=f"writing {what}"):
        check_replaceable(out, markers, what)
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_siblings(out):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        with _replace_folder(out) as tmp:
            yield tmp


@contextlib.contextmanager
def _replace_folder(out: Path) -> Iterator[Path]:
    from workbench.data.faults import checkpoint

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=TEMP_SUFFIX, dir=out.parent))
    try:
        yield tmp
        checkpoint("folder-staged")
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
                default_mode(path)
        default_mode(tmp)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}{TEMP_SUFFIX}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
