"""One run specification: what a backtest runs on and with which models.

:class:`RunSpec` is the value that ``run_backtest``, ``sweep``, ``walk_forward``, event
comparisons and template runs all accept (``spec=``), instead of the same keywords repeated in
each signature. It is frozen and validated when built: a bad date, an end before the start, a
fill, fee or margin spec that does not parse, a non-finite rate or a non-positive capital is a
:class:`~workbench.engine.errors.ConfigError` naming the field. The strategy, its parameters and
where the run executes are not part of it (they vary across a sweep; the executor does not change
the result).

>>> spec = RunSpec(data="data/nifty-demo", start="2024-01-01", end="2024-01-31", fees="india")
>>> spec.replace(end="2024-02-29").end
datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from workbench.engine.errors import ConfigError

Mode = Literal["intraday", "positional"]

_FIELDS = (
    "data", "start", "end", "fill", "fees", "margin", "capital", "rate", "mode", "constraints",
    "series",
)  # fmt: skip


class RunSpec(BaseModel):
    """A backtest's data, date range and models (frozen, validated; see the module docstring).

    Attributes
    ----------
    data
        Dataset folder (canonical layout).
    start, end
        Inclusive first and last day (``date`` or ``YYYY-MM-DD``); ``None``: the dataset's.
    fill
        Fill models: a spec (``"orats"``, ``"mid"``, ``"mid/cross"`` for entry/exit), a
        ``FillPolicy``, a fill model or ``{"entry": ..., "exit": ...}``; ``None``: ORATS slippage.
    fees
        A fee model or spec (``"india"``, ``"per-contract:0.65,min=1"``); ``None``: the venue's
        default (:func:`workbench.engine.resolve.default_fees`).
    margin
        A margin model or spec (``"span"``, ``"reg-t"``, ``"defined-risk"``); ``None``: no
        margin column.
    capital
        Capital base for return metrics, money (> 0); recorded in the manifest.
    rate
        Risk-free rate, continuous, per year, for implied vol and Greeks.
    mode
        ``"intraday"`` or ``"positional"``; ``None``: the strategy's own ``mode``.
    constraints
        Portfolio constraints checked before every opening fill
        (:class:`~workbench.engine.constraints.Constraints`, a mapping of its fields or a TOML
        file); ``None``: none.
    series
        Extra dataset folders whose series (VIX, INDIAVIX, an index) the strategy reads with
        ``bar.series(name)`` (:mod:`workbench.engine.market_series`), searched after ``data``
        in this order; recorded with their content versions in the manifest and the run id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    data: Path
    start: date | None = None
    end: date | None = None
    fill: Any = None
    fees: Any = None
    margin: Any = None
    capital: float | None = None
    rate: float = 0.0
    mode: Mode | None = None
    constraints: Any = None
    series: tuple[Path, ...] = ()

    @field_validator("data", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("a dataset folder is required")
        if not isinstance(value, str | Path):
            raise ValueError(f"expected a folder path, got {type(value).__name__}")
        return Path(value).expanduser().resolve()

    @field_validator("series", mode="before")
    @classmethod
    def _series(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str | Path):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a list of dataset folders, got {type(value).__name__}")
        out: list[Path] = []
        for item in value:
            if not isinstance(item, str | Path) or not str(item).strip():
                raise ValueError(f"expected dataset folders, got {item!r}")
            path = Path(item).expanduser().resolve()
            if not (path / "catalog.json").is_file():
                raise ValueError(f"{item}: not a dataset folder (no catalog.json in {path})")
            if path not in out:
                out.append(path)
        return tuple(out)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        from workbench.model.dates import as_date

        return None if value is None else as_date(value, "date")

    @field_validator("capital", mode="before")
    @classmethod
    def _capital(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a positive amount of money, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"must be a positive, finite amount, got {value!r}")
        return float(value)

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"expected a finite number (e.g. 0.05 for 5 %), got {value!r}")
        return float(value)

    @field_validator("fill")
    @classmethod
    def _fill(cls, value: Any) -> Any:
        from workbench.engine.resolve import resolve_fills

        resolve_fills(value)
        return value

    @field_validator("fees")
    @classmethod
    def _fees(cls, value: Any) -> Any:
        from workbench.engine.resolve import resolve_fees

        resolve_fees(value, "NSE")  # the venue only matters for the default (None)
        return value

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, value: Any) -> Any:
        from workbench.engine.constraints import as_constraints

        try:
            return as_constraints(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("margin")
    @classmethod
    def _margin(cls, value: Any) -> Any:
        from workbench.engine.resolve import resolve_margin

        resolve_margin(value)
        return value

    @model_validator(mode="after")
    def _in_order(self) -> RunSpec:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with ``changes`` applied and validated again."""
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise ConfigError(
                f"run spec: unknown field(s) {', '.join(unknown)} (fields: {', '.join(_FIELDS)})"
            )
        values = {name: getattr(self, name) for name in _FIELDS}
        values.update(changes)
        return RunSpec(**values)

    @classmethod
    def build(cls, spec: RunSpec | None = None, **options: Any) -> RunSpec:
        """``spec`` with every option that is not ``None`` applied (or a new spec from the
        options alone). What ``run_backtest(strategy, spec, data=..., ...)`` and the other
        entry points do with their keyword arguments."""
        given = {k: v for k, v in options.items() if v is not None}
        if spec is None:
            return cls(**given)
        if not isinstance(spec, RunSpec):
            raise ConfigError(f"spec must be a RunSpec, got {type(spec).__name__}")
        return spec.replace(**given) if given else spec

    def describe(self) -> dict[str, Any]:
        """JSON-friendly fields (models by their spec text or description)."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if isinstance(value, Path | date):
                value = str(value)
            elif name == "series":
                value = [str(p) for p in value]
            elif value is not None and not isinstance(value, str | int | float | dict):
                describe = getattr(value, "describe", None)
                value = describe() if callable(describe) else repr(value)
            out[name] = value
        return out


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "spec"
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "run spec: " + "; ".join(problems)
