"""``workbench validate TEMPLATE``: check a strategy template without running it.

:func:`check_template` takes a template name (``name`` or ``name@version``, looked up as
``workbench run`` does) or a template file (``.toml``, or a JSON object of the same fields) and
collects every problem it finds instead of stopping at the first, each with the field at fault:

1. the file parses (TOML/JSON) and its fields are a template's (``name``, ``version``,
   ``strategy``, ``params``...; a file's name must be ``<name>.toml``);
2. its ``strategy`` exists (the module or file imports and names a Strategy class);
3. its parameters (with ``overrides``, as ``--set`` gives them) validate against the strategy's
   ``Config``: one problem per parameter (``params.scan.short_delta: ...``), unknown names with
   the close known ones.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.research.templates import (
    StrategyTemplate,
    TemplateError,
    TemplateRepository,
    _problem,
)

__all__ = ["Problem", "TemplateCheck", "check_template"]


@dataclass(frozen=True)
class Problem:
    """One fault: the field (``name``, ``strategy``, ``params.qty``, ``(file)``...) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class TemplateCheck:
    """What :func:`check_template` found about ``label`` (a path or a template reference)."""

    label: str
    template: StrategyTemplate | None = None
    strategy: type | None = None
    config: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """One ``OK ...`` line, or one line per problem naming the template and the field."""
        if self.ok and self.template is not None and self.config is not None:
            n = len(type(self.config).model_fields)
            return [f"OK {self.template.ref} ({self.template.strategy}, {n} parameters valid)"]
        return [f"{self.label}: {p}" for p in self.problems]


def _is_file(ref: str) -> bool:
    return ref.endswith((".toml", ".json")) or "/" in ref or Path(ref).is_file()


def _fields(data: Any, label: str, check: TemplateCheck) -> StrategyTemplate | None:
    if not isinstance(data, dict):
        check.problems.append(Problem("(file)", "expected a table of template fields"))
        return None
    try:
        return StrategyTemplate(**data)
    except ValidationError as exc:
        bad = set()
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(file)"
            bad.add(str(err["loc"][0]) if err["loc"] else "(file)")
            check.problems.append(Problem(where, str(err["msg"])))
        if bad & {"strategy", "params", "(file)"} or not isinstance(data.get("params", {}), dict):
            return None
        # the other fields are wrong, but the strategy and its parameters can still be checked
        return StrategyTemplate.model_construct(
            name=str(data.get("name", "")), version=data.get("version", 0),
            strategy=data["strategy"], params=dict(data.get("params", {})),
            description="", tags=(),
        )  # fmt: skip


def _from_file(path: Path, check: TemplateCheck) -> StrategyTemplate | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        check.problems.append(Problem("(file)", "no such template file"))
        return None
    except OSError as exc:
        check.problems.append(Problem("(file)", f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        check.problems.append(Problem("(file)", f"not UTF-8 text: {exc}"))
        return None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "JSON" if text.lstrip().startswith("{") else "TOML"
        check.problems.append(Problem("(file)", f"not valid {kind}: {exc}"))
        return None
    template = _fields(data, str(path), check)
    if template is None:
        return None
    if path.suffix == ".toml" and path.stem != template.name:
        check.problems.append(
            Problem("name", f"{template.name!r}: the file must be named {template.name}.toml")
        )
    import hashlib

    return template.model_copy(
        update={
            "path": path,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "text": text,
            "folder": path.parent,
        }
    )


def check_template(
    ref: str | Path,
    *,
    templates_dir: str | Path | None = None,
    refs_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> TemplateCheck:
    """Every problem of the template ``ref`` (a name, ``name@version`` or a file); see the
    module docstring. Never raises for a fault of the template: it is in ``.problems``."""
    label = str(ref)
    check = TemplateCheck(label=label)
    if isinstance(ref, Path) or _is_file(label):
        template = _from_file(Path(label).expanduser(), check)
    else:
        try:
            template = TemplateRepository(templates_dir, refs_dir=refs_dir).get(label)
        except TemplateError as exc:
            check.problems.append(Problem("template", str(exc)))
            return check
    if template is None:
        return check
    check.template = template
    try:
        cls = template.strategy_class()
    except (TemplateError, ValueError, ImportError) as exc:
        message = str(exc)
        if template.path is not None:
            message = message.removeprefix(f"{template.path}: ")
        check.problems.append(Problem("strategy", message))
        return check
    check.strategy = cls
    config_cls = getattr(cls, "Config", None)
    if config_cls is None:
        check.problems.append(Problem("strategy", f"{template.strategy} has no Config class"))
        return check
    try:
        check.config = config_cls(**template.resolved_params(overrides))
    except ValidationError as exc:
        given = overrides or {}
        for err in exc.errors():
            loc = err["loc"]
            where = "params." + ".".join(str(p) for p in loc) if loc else "params"
            if loc and loc[0] in given:
                where = f"override {loc[0]}={given[loc[0]]!r}, {where}"
            check.problems.append(Problem(where, _problem(err, config_cls)))
    return check
