"""Named, versioned strategy templates (``templates/strategies/*.toml``).

A template names a strategy class and its parameters::

    name = "short-straddle"
    version = 1
    strategy = "workbench.strategies.short_straddle:ShortStraddle"
    description = "Intraday ATM short straddle with a combined stop loss."
    tags = ["intraday", "short-vol"]

    [params]
    entry = "09:20"
    stop_loss = 0.25

Templates are immutable once a report references them: every report records the template's
name, version and content hash in ``<reports>/template-refs.json``; loading a template whose
file changed while its version stayed the same raises :class:`TemplateVersionError`. Bump the
version to change a referenced template.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.data.atomic import default_mode
from workbench.model.names import check_name
from workbench.research.files import load_toml_model

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "strategies"
REFS_FILE = "template-refs.json"


class TemplateError(ValueError):
    """A template file is missing, unreadable or invalid; the message names the file and field."""


class TemplateVersionError(TemplateError):
    """A referenced template changed without a version bump."""


class StrategyTemplate(BaseModel):
    """One template file, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", description="slug, unique in the folder")
    version: int = Field(ge=1)
    strategy: str = Field(
        pattern=r"^([A-Za-z_][\w.]*|[^:]+\.py):[A-Za-z_]\w*$",
        description="module:Class, or path/to/file.py:Class (relative to the template's folder)",
    )
    description: str = ""
    tags: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)
    sha256: str = Field(default="", exclude=True)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def strategy_spec(self) -> str:
        """``strategy`` with a relative file path made absolute from the template's folder."""
        from workbench.engine.usercode import is_file_spec

        if is_file_spec(self.strategy) and self.path is not None:
            target, _, attr = self.strategy.rpartition(":")
            file = Path(target).expanduser()
            if not file.is_absolute():
                file = self.path.parent / file
            return f"{file}:{attr}"
        return self.strategy

    def strategy_class(self) -> type:
        """The strategy class named by ``strategy`` (imported, or loaded from its file)."""
        from workbench.engine.resolve import resolve_strategy

        try:
            return resolve_strategy(self.strategy_spec)
        except ValueError as exc:
            raise TemplateError(f"{self.path}: {exc}") from None

    def resolved_params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Template parameters with ``overrides`` applied (unknown override keys are an error)."""
        params = dict(self.params)
        for key, value in (overrides or {}).items():
            params[key] = value
        return params

    def validate_params(self, overrides: dict[str, Any] | None = None) -> Any:
        """Validate parameters against the strategy's ``Config``; returns the Config instance."""
        cls = self.strategy_class()
        config_cls = getattr(cls, "Config", None)
        if config_cls is None:
            raise TemplateError(f"{self.path}: {self.strategy} has no Config class")
        try:
            return config_cls(**self.resolved_params(overrides))
        except ValidationError as exc:
            given = overrides or {}

            def where(loc: tuple[Any, ...]) -> str:
                field = ".".join(str(p) for p in loc) or "(config)"
                key = loc[0] if loc else None
                # a value the caller gave (--set, a grid) is named as such, not blamed on the file
                return f"override {key}={given[key]!r}, {field}" if key in given else field

            problems = "; ".join(
                f"{where(err['loc'])}: {_problem(err, config_cls)}" for err in exc.errors()
            )
            raise TemplateError(
                f"{self.path}: params do not fit {self.strategy}.Config: {problems}"
            ) from None


def _problem(err: Any, config_cls: Any) -> str:
    """A validation error's message; an unknown parameter gets the close names and the known
    ones (pydantic alone says only "Extra inputs are not permitted")."""
    if err.get("type") != "extra_forbidden":
        return str(err["msg"])
    from workbench.model.suggest import did_you_mean

    name = str(err["loc"][0]) if err.get("loc") else ""
    known = sorted(config_cls.model_fields)
    return f"unknown parameter{did_you_mean(name, known)} (known: {', '.join(known)})"


def load_template_file(path: Path) -> StrategyTemplate:
    """Parse and validate one template file."""
    path = Path(path)
    template, raw = load_toml_model(path, StrategyTemplate, TemplateError, "template")
    if path.stem != template.name:
        raise TemplateError(f"{path}: file name must be the template name ({template.name}.toml)")
    return template.model_copy(update={"path": path, "sha256": hashlib.sha256(raw).hexdigest()})


class TemplateRepository:
    """The templates in a folder, checked against the references recorded by reports.

    Parameters
    ----------
    root
        Folder of ``*.toml`` templates (default: the repository's ``templates/strategies``).
    refs_dir
        Folder holding ``template-refs.json`` (the reports folder); ``None`` disables the
        immutability check.
    """

    def __init__(
        self, root: Path | str | None = None, *, refs_dir: Path | str | None = None
    ) -> None:
        self.root = Path(root) if root is not None else DEFAULT_TEMPLATES_DIR
        if not self.root.is_dir():
            raise TemplateError(f"templates folder {self.root} does not exist")
        self.refs_path = Path(refs_dir) / REFS_FILE if refs_dir is not None else None

    def __iter__(self) -> Iterator[StrategyTemplate]:
        return iter(self.list())

    def list(self) -> list[StrategyTemplate]:
        """All templates, sorted by name; duplicates and invalid files raise."""
        templates: dict[str, StrategyTemplate] = {}
        for path in sorted(self.root.glob("*.toml")):
            template = load_template_file(path)
            templates[template.name] = template
        for template in templates.values():
            self._check_refs(template)
        return [templates[name] for name in sorted(templates)]

    def names(self) -> builtins.list[str]:
        """The template names in the folder (file stems), sorted; nothing is parsed."""
        return sorted(p.stem for p in self.root.glob("*.toml"))

    def get(self, name: str) -> StrategyTemplate:
        """The template called ``name`` (its file is ``<root>/<name>.toml``)."""
        from workbench.model.suggest import did_you_mean

        try:
            check_name(name, "template name")
        except ValueError as exc:
            raise TemplateError(str(exc)) from None
        path = self.root / f"{name}.toml"
        if not path.is_file():
            names = self.names()
            raise TemplateError(
                f"unknown template {name!r}{did_you_mean(name, names)} "
                f"(known: {', '.join(names) or 'none'}; folder {self.root})"
            )
        template = load_template_file(path)
        self._check_refs(template)
        return template

    # -- immutability ---------------------------------------------------------------------
    def _refs(self) -> dict[str, str]:
        if self.refs_path is None or not self.refs_path.exists():
            return {}
        try:
            data = json.loads(self.refs_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TemplateError(
                f"{self.refs_path}: unreadable template references: {exc}"
            ) from None
        if not isinstance(data, dict):
            raise TemplateError(f"{self.refs_path}: expected a JSON object of name@version -> hash")
        return {str(k): str(v) for k, v in data.items()}

    def _check_refs(self, template: StrategyTemplate) -> None:
        recorded = self._refs().get(template.ref)
        if recorded is not None and recorded != template.sha256:
            raise TemplateVersionError(
                f"{template.path}: template {template.ref} changed after a report referenced it "
                f"(recorded hash {recorded[:12]}, file hash {template.sha256[:12]}); bump `version`"
            )

    def record_reference(self, template: StrategyTemplate) -> None:
        """Record that a report used ``template`` (atomic update of the references file)."""
        if self.refs_path is None:
            return
        self._check_refs(template)
        refs = self._refs()
        refs[template.ref] = template.sha256
        self.refs_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.refs_path.parent, prefix=".refs-", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(sorted(refs.items())), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        default_mode(tmp)
        os.replace(tmp, self.refs_path)
