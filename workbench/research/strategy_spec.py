"""A strategy as the research layer names it: a template, or a class of the researcher's own.

Everywhere the research layer and the command line take a strategy (``workbench run``, grid and
walk-forward files, event comparisons, sweeps, the backtest notebook), it may be:

* a template name (``short-straddle``), looked up in the templates folder -- the repository's
  ``templates/strategies`` or one given with ``--templates DIR`` / ``templates_dir``;
* ``"package.module:ClassName"`` or ``"path/to/file.py:ClassName"``;
* a :class:`~workbench.engine.strategy.Strategy` subclass (defined anywhere, a notebook cell
  included) or a :class:`~workbench.research.templates.StrategyTemplate`.

:func:`resolve_strategy_spec` turns any of them into a :class:`StrategySpec`: the class, the
base parameters (a template's ``params``; none for a class) and the template when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from workbench.research.templates import StrategyTemplate, TemplateError, TemplateRepository

if TYPE_CHECKING:
    from workbench.engine.config import StrategyConfig
    from workbench.engine.spec import RunSpec
    from workbench.engine.strategy import Strategy


@dataclass(frozen=True)
class StrategySpec:
    """A resolved strategy: its class, base parameters and template (if named by one)."""

    cls: type[Strategy]
    #: what the caller named: ``short-straddle@1``, ``path.py:Class``, ``module:Class``
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    template: StrategyTemplate | None = None

    def resolved_params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The base parameters with ``overrides`` applied."""
        return {**self.params, **dict(overrides or {})}

    def validate(self, overrides: Mapping[str, Any] | None = None) -> StrategyConfig:
        """The strategy's Config for these parameters; errors name the parameter at fault
        (and, for a template, its file)."""
        if self.template is not None:
            return self.template.validate_params(dict(overrides or {}))  # type: ignore[no-any-return]
        from workbench.engine.config import build_config

        return build_config(self.cls.Config, self.resolved_params(overrides))

    def run_spec(self, spec: RunSpec) -> RunSpec:
        """``spec`` with the template's ``[constraints]`` applied under its own: a field the
        run gives (``RunSpec.constraints``, ``--constraint``) wins over the template's."""
        table = self.template.constraints if self.template is not None else None
        if not table:
            return spec
        merged = dict(table)
        if spec.constraints is not None:
            merged.update(spec.constraints.model_dump(exclude_unset=True))
        return spec.replace(constraints=merged)

    def manifest_entry(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The manifest's ``template`` record (``None`` for a class)."""
        if self.template is None:
            return None
        return {
            "name": self.template.name,
            "version": self.template.version,
            "sha256": self.template.sha256,
            "path": None if self.template.path is None else str(self.template.path),
            "overrides": dict(overrides or {}),
        }

    @property
    def template_folder(self) -> Path | None:
        """The folder the template was read from (``None`` for a class)."""
        if self.template is None:
            return None
        if self.template.folder is not None:  # a stored version: its repository's folder
            return self.template.folder
        return None if self.template.path is None else self.template.path.parent

    def record_reference(self, refs_dir: str | Path | None) -> None:
        """For a template: record in ``refs_dir`` that a report used it (immutable from now
        on, :class:`~workbench.research.templates.TemplateRepository`); nothing for a class."""
        if self.template is not None and refs_dir is not None:
            repo = TemplateRepository(self.template_folder, refs_dir=refs_dir)
            repo.record_reference(self.template)

    @property
    def slug(self) -> str:
        """A short name for folders and run ids: the template's name or the class's name."""
        if self.template is not None:
            return self.template.name
        return self.cls.__name__


def is_class_spec(text: str) -> bool:
    """``module:Class`` or ``path/to/file.py:Class`` rather than a template name."""
    return ":" in text


def resolve_strategy_spec(
    strategy: Any,
    *,
    templates: TemplateRepository | str | Path | None = None,
    refs_dir: str | Path | None = None,
) -> StrategySpec:
    """Resolve ``strategy`` (see the module docstring). ``templates`` is the template folder
    (or a repository) for template names; ``refs_dir`` the reports folder whose recorded
    template references are checked. Errors (``ValueError``) name the spec and suggest close
    template names."""
    from workbench.engine.resolve import resolve_strategy, strategy_ref
    from workbench.engine.strategy import Strategy

    if isinstance(strategy, StrategySpec):
        return strategy
    if isinstance(strategy, StrategyTemplate):
        return StrategySpec(
            strategy.strategy_class(), strategy.ref, dict(strategy.params), strategy
        )
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return StrategySpec(strategy, strategy_ref(strategy))
    if not isinstance(strategy, str) or not strategy.strip():
        raise ValueError(
            "strategy must be a template name, 'module:Class', 'path/to/file.py:Class', a "
            f"Strategy class or a StrategyTemplate, got {strategy!r}"
        )
    text = strategy.strip()
    if is_class_spec(text):
        cls = resolve_strategy(text)
        return StrategySpec(cls, text)
    repo = (
        templates
        if isinstance(templates, TemplateRepository)
        else TemplateRepository(templates, refs_dir=refs_dir)
    )
    try:
        template = repo.get(text)
    except TemplateError:
        raise
    return StrategySpec(template.strategy_class(), template.ref, dict(template.params), template)


class ConstraintsField(BaseModel):
    """A spec file's (grid, walk-forward) ``[constraints]`` table: portfolio constraints
    (:class:`~workbench.engine.constraints.Constraints`) applied to every run the file makes,
    over the template's own field by field (as ``workbench run --constraints``). Checked when
    the file is read: a bad field is an error naming the file and the field."""

    constraints: dict[str, Any] | None = None

    @field_validator("constraints")
    @classmethod
    def _known_constraints(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        from workbench.engine.constraints import as_constraints

        if value is not None:
            try:
                as_constraints(value, what="constraints")
            except ValueError as exc:
                raise ValueError(str(exc).removeprefix("constraints: ")) from None
        return value

    def with_constraints(self, given: dict[str, Any] | None) -> Any:
        """This spec with ``given`` (``--constraints``/``--constraint``, already checked) over
        its own table, field by field."""
        if not given:
            return self
        return self.model_copy(update={"constraints": {**(self.constraints or {}), **given}})


class StrategyFields(BaseModel):
    """The keys of a spec file (grid, walk-forward) that name its strategy: exactly one of
    ``template`` (a template name) and ``strategy`` (``module:Class`` or
    ``path/to/file.py:Class``, relative paths from the current folder, as ``data``), and
    optionally ``templates`` (a folder of templates of one's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str | None = None
    strategy: str | None = None
    templates: str | None = None

    @model_validator(mode="after")
    def _one_strategy(self) -> StrategyFields:
        if (self.template is None) == (self.strategy is None):
            raise ValueError(
                "give exactly one of template (a template name) and strategy "
                "('module:Class' or 'path/to/file.py:Class')"
            )
        if self.strategy is not None and not is_class_spec(self.strategy):
            raise ValueError(
                f"strategy {self.strategy!r}: expected 'module:Class' or 'path/to/file.py:Class' "
                "(a template name goes in template)"
            )
        return self

    @property
    def strategy_label(self) -> str:
        return str(self.template or self.strategy)

    def strategy_spec(
        self,
        *,
        templates_dir: str | Path | None = None,
        refs_dir: str | Path | None = None,
    ) -> StrategySpec:
        """The resolved strategy; ``templates_dir`` (e.g. ``--templates``) wins over the
        file's ``templates`` key."""
        folder = templates_dir if templates_dir is not None else self.templates
        return resolve_strategy_spec(
            self.template or self.strategy, templates=folder, refs_dir=refs_dir
        )
