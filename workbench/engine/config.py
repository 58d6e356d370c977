"""Strategy configuration: a frozen, validated, hashable pydantic model.

Every strategy declares ``class Config(StrategyConfig)`` with its parameters as typed fields.
A config is immutable (``frozen``), rejects unknown parameters (``extra="forbid"``) and has a
stable content hash (:meth:`StrategyConfig.config_hash`, SHA-256 over the canonical JSON of its
fields) that is part of the run id: the same parameters always give the same hash, in any
process.

The base class carries the engine-facing parameters every strategy has:

``underlying``
    The underlying traded (``None``: the dataset's only underlying).
``underlyings``
    A universe traded in one book (``["SPY", "QQQ", "IWM"]``): one clock, one cash account,
    one equity path, one tradebook (:mod:`workbench.engine.universe`). Give ``underlying`` or
    ``underlyings``, not both. Unqualified accessors (``bar.spot``, ``bar.atm()``,
    ``self.add(strike, ...)``) refer to the first one; name the others (``bar.spot("QQQ")``,
    ``bar.atm(underlying="QQQ")``, ``self.add(..., underlying="QQQ")``).
``max_cycles``
    How many entry/exit cycles a strategy may run per day (intraday) or per run (positional).
    ``None`` (the default) means the mode's natural bound: one cycle per day intraday, and
    "until the data ends" in positional mode (no cap; a positional strategy re-enters whenever
    it is idle and its rules say so).
``max_fill_lag``
    The staleness tolerated at a fill, in clock ticks: ``0`` (default) needs a bar at the fill
    tick itself; ``n`` accepts the last bar up to ``n`` ticks old.
``max_spot_lag``
    The staleness of the spot tolerated by anything that reads it, in clock ticks (default 1:
    one missing spot bar). Beyond it, selection that depends on spot (``bar.select``,
    ``bar.atm``) refuses with the reason and the day's ``days.csv`` row warns.
``mark_bounds``
    Positional mode: a leg whose day-end bar has no two-sided quote (0/0) is marked at its last
    trade, which may be stale; with ``mark_bounds`` (the default) that mark is moved into its
    no-arbitrage bounds against the quoted neighbour strikes of the same expiry
    (:mod:`workbench.engine.markbounds`), and the day's warnings say so.
"""

from __future__ import annotations

import hashlib
import json
import math
import types
import typing
from datetime import time
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workbench.engine.errors import ConfigError
from workbench.model.dates import as_time_of_day


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (``time | None`` -> {time, NoneType})."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return {k for arg in typing.get_args(annotation) for k in _kinds(arg)}
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    return {annotation}


class StrategyConfig(BaseModel):
    """Base of every strategy's ``Config`` (frozen, ``extra="forbid"``, hashable)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    underlying: str | None = Field(
        default=None, description="underlying name; None = the dataset's only one"
    )
    underlyings: list[str] | None = Field(
        default=None,
        description="several underlyings traded in one book (the first is the default one); "
        "None = one underlying (see 'underlying')",
    )
    max_cycles: int | None = Field(
        default=None,
        ge=1,
        description="entry/exit cycles allowed per day (intraday; default 1) or per run "
        "(positional; default: until the data ends)",
    )
    max_fill_lag: int = Field(
        default=0, ge=0, description="max staleness of a fill price, in clock ticks"
    )
    max_spot_lag: int = Field(
        default=1,
        ge=0,
        description="max staleness of the spot, in clock ticks, before selection by spot "
        "refuses and the day warns",
    )
    mark_bounds: bool = Field(
        default=True,
        description="positional: bound the day-end mark of a leg without a two-sided quote by "
        "no-arbitrage against its quoted neighbour strikes",
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        """Times of day as people write them (``9:30``, ``09:30``, ``0930``; never a number of
        seconds nor a time zone), and no boolean or non-finite number where a number is
        expected (pydantic alone takes ``true`` as 1 and ``9.30`` as 9.3 seconds past
        midnight UTC)."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or value is None:
            return value
        kinds = _kinds(field.annotation)
        if time in kinds and not (isinstance(value, str) and str in kinds):
            return as_time_of_day(value, "")
        if kinds & {int, float} and bool not in kinds and isinstance(value, bool):
            raise ValueError(f"expected a number, got the boolean {value!r}")
        if float in kinds and isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return value

    @field_validator("underlyings", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """``"SPY,QQQ,IWM"`` (a command line's ``--set underlyings=SPY,QQQ,IWM``) as a list."""
        if isinstance(value, str):
            return value.split(",")
        return value

    @field_validator("underlyings")
    @classmethod
    def _universe(cls, value: list[str] | None) -> list[str] | None:
        """Names upper-cased and stripped; at least one; no repeats."""
        if value is None:
            return None
        names = [str(v).strip().upper() for v in value]
        if not names or any(not n for n in names):
            raise ValueError("give at least one underlying name, none empty")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"underlying(s) named twice: {', '.join(repeated)}")
        return names

    @model_validator(mode="after")
    def _one_or_many(self) -> StrategyConfig:
        if self.underlying is not None and self.underlyings is not None:
            raise ValueError(
                f"give 'underlying' ({self.underlying!r}) or 'underlyings' "
                f"({self.underlyings!r}), not both"
            )
        return self

    @property
    def universe(self) -> list[str] | None:
        """The underlyings this config names: ``underlyings``, else ``[underlying]``, else
        ``None`` (the dataset's only one)."""
        if self.underlyings is not None:
            return list(self.underlyings)
        if self.underlying is not None:
            return [self.underlying.strip().upper()]
        return None

    def canonical_json(self) -> str:
        """The parameters as canonical JSON (sorted keys, no whitespace): the hashed text.
        ``underlyings`` is left out when unset, so single-underlying configs hash as before."""
        fields = self.model_dump(mode="json")
        if fields.get("underlyings", 0) is None:
            del fields["underlyings"]
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def config_hash(self) -> str:
        """SHA-256 hex digest of :meth:`canonical_json` (stable across processes and runs)."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self.canonical_json()))


def build_config(config_cls: type[StrategyConfig], params: dict[str, Any] | None) -> StrategyConfig:
    """Validate ``params`` into ``config_cls``; errors name every parameter at fault.

    Raises :class:`ConfigError` (a ``ValueError``) such as
    ``parameter 'stop_loss': Input should be a valid number (got 'abc')``.
    """
    if params is not None and not isinstance(params, dict):
        raise ConfigError(
            f"params must be a dict of parameter name -> value, got {type(params).__name__}"
        )
    try:
        return config_cls(**(params or {}))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "<config>"
            if err["type"] == "extra_forbidden":
                from workbench.model.suggest import did_you_mean

                fields = sorted(config_cls.model_fields)
                problems.append(
                    f"parameter {name!r}: unknown parameter{did_you_mean(name, fields)} "
                    f"(known: {', '.join(fields)})"
                )
            else:
                message = str(err["msg"]).removeprefix("Value error, ")
                problems.append(f"parameter {name!r}: {message} (got {err.get('input')!r})")
        raise ConfigError(f"{config_cls.__qualname__}: " + "; ".join(problems)) from None


#: The cap a positional run uses when ``max_cycles`` is None: no practical limit.
UNTIL_DATA_ENDS = 2**62


def cycle_limit(max_cycles: int | None, mode: str) -> int:
    """The cycle cap a run enforces: ``max_cycles`` when given, else one per day intraday and
    "until the data ends" positionally."""
    if max_cycles is not None:
        return int(max_cycles)
    return UNTIL_DATA_ENDS if mode == "positional" else 1
