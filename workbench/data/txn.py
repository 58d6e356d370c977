"""Dataset transactions: a new version is built beside the old one and published in one step.

A writer never changes the files of a published dataset. :class:`DatasetTransaction`:

1. takes the dataset's lock (:class:`~workbench.data.locks.FolderLock`: one writer at a time),
   finishes or removes what an interrupted writer left (:func:`recover`);
2. creates ``<parent>/.<name>.txn-<random>`` and, to extend, links every file of the current
   version into it (hard links: no data is copied, and files are only ever replaced, never
   modified in place, so the old version keeps its bytes);
3. the writer writes new and replaced day files, rejects and finally ``catalog.json`` there;
4. :meth:`commit` publishes it: on Linux one ``renameat2(RENAME_EXCHANGE)`` swaps the new folder
   with the dataset atomically (readers see the old version or the new one, never a mix, and
   the dataset path never disappears), then the old version, now at the staging path, is
   removed and the lock released.

Where the exchange is not available the publish is two renames (dataset aside, new version in),
with a ``.commit`` marker in the new version first: a kill between them leaves no dataset at the
path, and :func:`recover` (run by the next writer and by ``workbench data repair``) moves the
marked version into place. A kill at any other point leaves the old version published and the
staging folder behind, which the next writer of the same dataset removes.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

from workbench.data.atomic import _fsync_dir, default_mode
from workbench.data.errors import DatasetError
from workbench.data.faults import checkpoint
from workbench.data.layout import CATALOG_FILE
from workbench.data.locks import DEFAULT_LOCK_TIMEOUT, FolderLock

#: Marker of a complete staged version being published by the two-rename fallback.
COMMIT_MARKER = ".commit"
#: Set to ``1`` to force the two-rename publish (tests of its recovery).
NO_EXCHANGE_ENV = "WORKBENCH_NO_RENAME_EXCHANGE"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_LEFTOVER_KINDS = ("txn", "old", "synth", "ingest")


def leftover_pattern(name: str) -> re.Pattern[str]:
    """Sibling folders writers of dataset ``name`` create: ``.<name>.txn-*``, ``.old-*``,
    ``.synth-*`` (synthetic generator), ``.ingest-*`` (ingest spill)."""
    return re.compile(rf"^\.{re.escape(name)}\.(?:{'|'.join(_LEFTOVER_KINDS)})-[A-Za-z0-9_]+$")


def leftovers(root: Path) -> list[Path]:
    """Staging and spill folders interrupted writers of ``root`` left beside it."""
    root = Path(root).absolute()
    if not root.parent.is_dir():
        return []
    pattern = leftover_pattern(root.name)
    return sorted(p for p in root.parent.iterdir() if pattern.match(p.name))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the paths ``a`` and ``b`` (Linux ``renameat2``); False if unsupported."""
    if os.environ.get(NO_EXCHANGE_ENV) == "1":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(code, f"cannot swap {a} and {b}: {os.strerror(code)}")


def recover(root: Path) -> list[str]:
    """Finish or clean up after interrupted writers of ``root``; return what was done.

    Call it holding ``root``'s lock. A staged version marked complete (:data:`COMMIT_MARKER`)
    while no dataset is at ``root`` is moved into place (a two-rename publish killed between
    its renames); a marker left in the published dataset is removed; every other leftover
    staging, old-version and spill folder is deleted.
    """
    root = Path(root).absolute()
    done: list[str] = []
    found = leftovers(root)
    if not root.exists():
        complete = [
            p for p in found if (p / COMMIT_MARKER).is_file() and (p / CATALOG_FILE).is_file()
        ]
        if complete:
            newest = max(complete, key=lambda p: (p / COMMIT_MARKER).stat().st_mtime_ns)
            os.replace(newest, root)
            _fsync_dir(root.parent)
            done.append(f"published the interrupted write's complete new version ({newest.name})")
            found = [p for p in found if p != newest]
    marker = root / COMMIT_MARKER
    if marker.is_file():
        marker.unlink()
        done.append(f"removed {COMMIT_MARKER} left in {root}")
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"removed {path.name} (left by an interrupted writer)")
    return done


def interrupted_publish(root: Path) -> Path | None:
    """A complete staged version of ``root`` waiting to be published (``root`` missing), if any."""
    root = Path(root).absolute()
    if root.exists():
        return None
    for path in leftovers(root):
        if (path / COMMIT_MARKER).is_file() and (path / CATALOG_FILE).is_file():
            return path
    return None


def link_tree(src: Path, dst: Path) -> int:
    """Hard-link every file of ``src`` into ``dst`` (same relative paths); copy where links are
    not possible. Returns the number of files."""
    n = 0
    for folder, dirs, files in os.walk(src):
        rel = Path(folder).relative_to(src)
        target = dst / rel
        target.mkdir(parents=True, exist_ok=True)
        # hidden folders are no part of a version (an older ingest's spill folder inside it)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # a killed write's temporary file: not part of the version
            if name == COMMIT_MARKER and rel == Path("."):
                continue
            a, b = Path(folder) / name, target / name
            try:
                os.link(a, b)
            except OSError:
                shutil.copy2(a, b)
            n += 1
    return n


class DatasetTransaction:
    """Stage a new version of the dataset at ``root`` and publish it (see the module docstring).

    ``link=True`` starts the new version from links to the current version's files (call
    :func:`link_tree` later to decide after looking at the dataset under the lock); otherwise it
    starts empty. ``purpose`` is shown to waiting writers. Use :meth:`commit` or :meth:`abort`
    exactly once.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        purpose: str,
        link: bool = False,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.root = Path(root).absolute()
        if self.root.exists() and not self.root.is_dir():
            raise DatasetError(f"{self.root}: is a file, not a dataset folder")
        self.lock = FolderLock(self.root, purpose=purpose, timeout=lock_timeout).acquire()
        try:
            self.recovered = recover(self.root)
            self.stage = Path(
                tempfile.mkdtemp(prefix=f".{self.root.name}.txn-", dir=self.root.parent)
            )
            if link and (self.root / CATALOG_FILE).is_file():
                link_tree(self.root, self.stage)
            checkpoint("stage-ready")
        except BaseException:
            self.lock.release()
            raise
        self.open = True

    def commit(self) -> None:
        """Publish the staged folder at ``root`` and release the lock."""
        self._check_open()
        stage, root = self.stage, self.root
        try:
            default_mode(stage)
            _fsync_dir(stage)
            checkpoint("catalog-staged")
            if not root.exists():
                os.replace(stage, root)
                _fsync_dir(root.parent)
            elif _exchange(stage, root):
                _fsync_dir(root.parent)
                checkpoint("published")
                shutil.rmtree(stage, ignore_errors=True)  # the old version
            else:
                (stage / COMMIT_MARKER).write_bytes(b"")
                _fsync_dir(stage)
                old = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
                os.rmdir(old)
                os.replace(root, old)
                checkpoint("between-renames")
                os.replace(stage, root)
                (root / COMMIT_MARKER).unlink()
                _fsync_dir(root.parent)
                checkpoint("published")
                shutil.rmtree(old, ignore_errors=True)
        finally:
            self.open = False
            self.lock.release()

    def abort(self) -> None:
        """Drop the staged folder and release the lock; the dataset is untouched."""
        if not self.open:
            return
        self.open = False
        try:
            shutil.rmtree(self.stage, ignore_errors=True)
        finally:
            self.lock.release()

    def _check_open(self) -> None:
        if not self.open:
            raise DatasetError(f"{self.root}: this write was already committed or aborted")
