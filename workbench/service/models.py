"""Request bodies: pydantic models with limits (a bad body is a 422 naming the field).

The limits that depend on the server's settings (``--max-days`` and friends) are checked by the
app after a body parses, with the same 422 shape; the hard caps here keep any body small.
Grid and walk-forward specs are the research layer's own models
(:class:`~workbench.research.grid.GridSpec`, :class:`~workbench.research.walkforward.WalkForwardSpec`),
reached through the adapter.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.engine.constraints import Constraints

TEMPLATE_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,63}(@[1-9][0-9]{0,8})?$"
STRATEGY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
RECORD_PATTERN = r"^\d{8}-\d{6}-[0-9a-f]{8}$"
SPEC = Field(default=None, max_length=200, description="a model spec, e.g. orats, mid/cross")


class BacktestRequest(BaseModel):
    """``POST /api/backtests``: one backtest of a template or an allowed strategy class."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str | None = Field(
        default=None,
        pattern=TEMPLATE_PATTERN,
        description="template name or name@version (exactly one of template and strategy)",
    )
    strategy: str | None = Field(
        default=None,
        pattern=STRATEGY_PATTERN,
        max_length=200,
        description="module:Class from a module the server allows (--strategies)",
    )
    data: str = Field(min_length=1, max_length=1024, description="dataset folder under a data root")
    start: date | None = Field(default=None, description="first day (inclusive)")
    end: date | None = Field(default=None, description="last day (inclusive)")
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=64,
        description="strategy parameters (with a template: overrides of its params)",
    )
    fill: str | None = SPEC
    fees: str | None = SPEC
    margin: str | None = SPEC
    capital: float | None = Field(default=None, gt=0, lt=1e15, description="capital base (money)")
    mode: Literal["intraday", "positional"] | None = Field(
        default=None, description="intraday or positional; default the strategy's own mode"
    )
    constraints: Constraints | None = Field(
        default=None,
        description="portfolio constraints checked before every opening fill (the fields of "
        "workbench run --constraints), over the template's own field by field",
    )
    series: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="dataset folders under a data root whose series (VIX, an index) the "
        "strategy reads inside the run (bar.series), as workbench run --series",
    )

    @model_validator(mode="after")
    def _one_strategy(self) -> BacktestRequest:
        if (self.template is None) == (self.strategy is None):
            raise ValueError("give exactly one of template and strategy")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class MonteCarloRequest(BaseModel):
    """``POST /api/montecarlo``: resample a finished run's daily or per-trade PnL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: str = Field(pattern=RECORD_PATTERN, description="id of a completed backtest")
    method: Literal["bootstrap", "shuffle", "parametric"] = "bootstrap"
    paths: int = Field(default=1000, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    source: Literal["daily", "trades"] = Field(
        default="daily", description="daily PnL, or the PnL of each closed trade"
    )
    distribution: Literal["normal", "t"] = Field(
        default="normal", description="parametric method only"
    )
    capital: float | None = Field(
        default=None, gt=0, lt=1e15, description="ruin capital; default the run's capital"
    )
    ruin_fraction: float = Field(default=1.0, gt=0, le=1)


class PortfolioRequest(BaseModel):
    """The holding and the loan the hedges of an event comparison protect (seed 002)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    underlying_units: float = Field(gt=0, lt=1e12)
    loan_amount: float = Field(ge=0, lt=1e15)
    margin_call_ltv: float = Field(gt=0, le=10)
    financing_rate: float = Field(default=0.0, ge=0, le=1)
    cash_balance: float = Field(default=0.0, ge=0, lt=1e15)


class EventCompareRequest(BaseModel):
    """``POST /api/events/{preset}/compare``: the preset's (or the given) templates over it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str = Field(min_length=1, max_length=1024)
    templates: list[str] | None = Field(default=None, min_length=1, max_length=64)
    capital: float | None = Field(default=None, gt=0, lt=1e15)
    fill: str | None = SPEC
    fees: str | None = SPEC
    margin: str | None = SPEC
    overrides: dict[str, dict[str, Any]] | None = Field(default=None, max_length=64)
    portfolio: PortfolioRequest | None = None


class TemplateRequest(BaseModel):
    """``POST /api/templates`` as JSON fields (TOML text is accepted too)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,63}$")
    version: int = Field(ge=1, le=999_999_999)
    strategy: str = Field(pattern=STRATEGY_PATTERN, max_length=200)
    description: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, max_length=64)
    status: Literal["draft", "active", "archived"] = "active"


class TemplateStatusRequest(BaseModel):
    """``PATCH /api/templates/{name}/{version}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["draft", "active", "archived"]
