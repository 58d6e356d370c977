"""Reading the research layer's files.

:func:`load_toml_model`: grids, walk-forward specs, event presets and strategy templates are
all TOML files a person edits, so they fail the same way: the path, then what is wrong
(unreadable, not TOML, or each invalid field as ``dotted.location: message``).
:func:`read_json_dict`: a run folder's ``metrics.json`` / ``manifest.json`` read leniently for
indexes (a missing or broken file is an empty dict, the run still listed).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

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
    return parse_toml_model(raw, str(path), model, error, what), raw


def parse_toml_model(
    raw: bytes | str, label: str, model: type[M], error: type[Exception], what: str
) -> M:
    """``model(**toml)`` of the TOML text ``raw`` (a file's bytes, a request body); errors as
    :func:`load_toml_model`, naming ``label`` instead of a path."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{label}: not valid TOML: {exc}") from None
    try:
        return model(**data)
    except ValidationError as exc:
        raise error(f"{label}: invalid {what}: {validation_problems(exc)}") from None


def validation_problems(exc: ValidationError, whole: str = "(file)") -> str:
    """Each invalid field of ``exc`` as ``dotted.location: message``, joined by ``; ``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or whole}: {err['msg']}" for err in exc.errors()
    )


def day_report_folder(reports: str | Path, kind: str, name: str) -> Path:
    """``<reports>/<today>/<kind>-<name>``: where a walk-forward, sweep or event comparison is
    written to be listed in the day's index (``name`` reduced to letters, digits, ``-``, ``_``)."""
    import re
    from datetime import date

    from workbench.model.names import check_name

    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or kind
    folder = check_name(f"{kind}-{safe}", f"{kind} folder name")
    return Path(reports) / date.today().isoformat() / folder


def read_json_dict(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, or ``{}`` if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
