"""Names that become file or folder names: one safe pattern, checked in one place.

Grid, walk-forward, event and template names, run ids and underlyings end up as path
components (``reports/<day>/grid-<name>.json``, ``<dataset>/spot/<UNDERLYING>/...``). A name
read from a file or typed by a user could otherwise hold ``/``, ``..`` or a leading dot and
write or read outside the folder meant for it. Every such name goes through
:func:`check_name` (or :func:`check_underlying`, its upper-case form for instrument names):

- letters, digits, ``.``, ``_`` and ``-`` only, starting with a letter or digit (so never
  ``.``, ``..`` or a hidden file), at most 128 characters (underlyings: 32, upper-case);
- a :class:`UnsafeNameError` (a ``ValueError``) names what the name is for and the value.

:func:`inside` checks that a resolved path stays inside a folder (symlinks followed), for paths
built from names that were already checked but live in folders other people can modify.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Any name that becomes one path component.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: An underlying (instrument) name: upper-case form of a safe name, at most 32 characters.
SAFE_UNDERLYING = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")


class UnsafeNameError(ValueError):
    """A name that cannot be used as a file or folder name; the message names its use."""


def check_name(value: object, what: str) -> str:
    """``value`` if it is a safe path component, else :class:`UnsafeNameError` naming ``what``.

    ``what`` says what the name is for (``"grid name"``, ``"run id"``).
    """
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise UnsafeNameError(
            f"{what} {value!r} is not a safe name: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit, at most 128 characters); it becomes a file name"
        )
    return value


def check_underlying(underlying: object) -> str:
    """The canonical (upper-case, stripped) underlying name; :class:`UnsafeNameError` if unusable.

    Underlyings become folder names of a dataset (``spot/<UNDERLYING>/``), so only
    ``A-Z 0-9 . _ -`` are allowed, starting with a letter or digit, at most 32 characters.
    """
    if not isinstance(underlying, str):
        raise UnsafeNameError(f"underlying must be a string, got {underlying!r}")
    name = underlying.strip().upper()
    if not SAFE_UNDERLYING.match(name):
        raise UnsafeNameError(
            f"underlying {underlying!r} is not a valid name (letters, digits, '.', '_', '-'; "
            "starting with a letter or digit, at most 32 characters)"
        )
    return name


def inside(path: Path | str, root: Path | str, what: str) -> Path:
    """``path`` resolved, if it lies inside ``root`` (resolved); :class:`UnsafeNameError` otherwise.

    Symlinks are followed, so a link inside ``root`` that points elsewhere is refused.
    """
    resolved = Path(path).resolve()
    base = Path(root).resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafeNameError(f"{what} {path} resolves to {resolved}, outside {base}")
    return resolved
