"""Read one TOML file into a validated pydantic model; every error names the file and field.

Grids, walk-forward specs, event presets and strategy templates are all files a person edits,
so they fail the same way: the path, then what is wrong (unreadable, not TOML, or each invalid
field as ``dotted.location: message``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_toml_model(
    path: Path, model: type[M], error: type[Exception], what: str
) -> tuple[M, bytes]:
    """``(model(**toml), raw bytes)`` of ``path``; ``error(f"{path}: ...")`` naming ``what``
    (``"grid file"``, ``"template"``, ...) when it cannot be read, parsed or validated."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    try:
        return model(**data), raw
    except ValidationError as exc:
        raise error(f"{path}: invalid {what}: {validation_problems(exc)}") from None


def validation_problems(exc: ValidationError, whole: str = "(file)") -> str:
    """Each invalid field of ``exc`` as ``dotted.location: message``, joined by ``; ``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or whole}: {err['msg']}" for err in exc.errors()
    )
