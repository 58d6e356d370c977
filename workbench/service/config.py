"""The service's settings: one frozen, validated value built by ``workbench serve``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ServiceConfig(BaseModel):
    """Everything ``workbench serve`` was started with.

    Limits bound what one request can ask for: ``max_days`` calendar days between ``start``
    and ``end``, ``max_grid`` combinations in a grid or a walk-forward grid, ``max_paths``
    Monte Carlo paths, ``max_templates`` templates in an event comparison, ``max_body_bytes``
    per request body. ``rate_limit`` submissions (POSTs that queue work or store a template) per
    client address per minute, in a burst of at most that many.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    reports: Path
    data_roots: tuple[Path, ...] = Field(min_length=1)
    workers: int = Field(default=2, ge=1, le=512)
    dask: str | None = None
    token: str | None = Field(default=None, min_length=8, max_length=512)
    strategies: tuple[str, ...] = ()
    templates_dir: Path | None = None
    events_dir: Path | None = None
    rate_limit: int = Field(default=120, ge=1, le=1_000_000)
    max_days: int = Field(default=12_000, ge=1)
    max_grid: int = Field(default=256, ge=1)
    max_paths: int = Field(default=100_000, ge=1, le=10_000_000)
    max_templates: int = Field(default=20, ge=1)
    max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    #: grids, walk-forwards and event comparisons driven at once (their runs share the workers)
    drivers: int = Field(default=2, ge=1, le=64)
    #: seconds a clean shutdown (SIGTERM) waits for running jobs to stop and be requeued
    shutdown_grace_s: float = Field(default=30.0, ge=0)

    @field_validator("reports", "templates_dir", "events_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(value).expanduser().resolve()

    @field_validator("data_roots")
    @classmethod
    def _roots(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        roots = []
        for root in value:
            resolved = Path(root).expanduser().resolve()
            if not resolved.is_dir():
                raise ValueError(f"data root {root} is not a folder")
            roots.append(resolved)
        return tuple(dict.fromkeys(roots))

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and (value != value.strip() or any(c.isspace() for c in value)):
            raise ValueError("the token must not contain whitespace")
        return value

    @model_validator(mode="after")
    def _exclusive(self) -> ServiceConfig:
        if self.dask is not None and not self.dask.strip():
            raise ValueError("dask: give the scheduler address, e.g. tcp://127.0.0.1:8786")
        return self

    @property
    def service_dir(self) -> Path:
        """``<reports>/service``: the server's lock, heartbeat and per-job working files."""
        return self.reports / "service"
