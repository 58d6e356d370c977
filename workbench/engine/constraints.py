"""Portfolio constraints the engine enforces before every opening fill (seed 003, 6.4).

A run's :class:`Constraints` (``run_backtest(..., constraints=Constraints(...) | {...})``,
``RunSpec.constraints``, a template's ``[constraints]`` table, ``workbench run --constraints
FILE.toml`` / ``--constraint KEY=VALUE``) is checked by the Simulator's one guard
(:meth:`~workbench.engine.simulator.Simulator.guard_opening`) on every OPENING order, after its
legs are priced and before anything is booked. An order a constraint refuses is not filled at
all (all-or-nothing, as every order); the refusal is recorded like any other
(``Strategy.refusals``, ``days.csv`` ``refusal_messages``) with its reason
``"<constraint>: <why>"``, and counted per constraint (``days.csv`` ``constraint_refusals``,
``metrics.json`` ``refused_by_constraint``, the tearsheet's notes). Closing fills, exits, the
end-of-day force close and settlements are never refused; a roll's new legs are checked as
part of the position they roll (not a new position). A resting order that would open legs is
checked when it would fill: refused, it keeps resting with the constraint in its
``last_reason`` (its ticks are not refusals and are not counted).

Definitions (money in the run's currency; fractions, 0.02 = 2 %):

position
    The legs opened together: a tradebook ``position_key`` ``"<position>/<leg>"`` names its
    position (studies: ``"<entry day>/<expiry>"``); otherwise the legs of one ``try_fill``
    order form one position (a roll or an exercise keeps the key's position).
max loss
    The worst loss at expiry of a position's legs at their entry prices (the new order: at its
    fill prices), before fees: :func:`workbench.execution.payoff.max_loss_at_expiry` (a credit
    vertical: ``(width - credit) x units``; ``inf`` for more calls sold than bought). Every leg
    is valued at its intrinsic value, so for legs on several expiries it is the loss if all of
    them expired together. A stock leg (physical settlement) counts as a zero-strike call.
equity
    The account's equity now, before the order (:mod:`workbench.engine.account`): ratio
    constraints need the run's ``capital`` (a :class:`~workbench.engine.errors.ConfigError`
    naming ``capital`` before the run otherwise).

Constraints (``None`` / ``False``: not checked); every limit is inclusive ("at most"):

``max_open_positions``
    Open positions after the fill <= the limit (with the limit already open, a new one is
    refused).
``max_open_positions_per_underlying``
    The same, counting only positions on the new position's underlying (each position's
    underlying is its contracts').
``max_risk_per_trade``
    The new position's max loss / equity <= the limit.
``max_portfolio_heat``
    (Sum of the open positions' max losses + the new one's) / equity <= the limit.
``max_correlation``
    For each open position on another underlying: the correlation of the two underlyings'
    daily close-to-close returns over the last ``correlation_window`` returns of sessions
    strictly before today (past closes only: today's close is not known yet) must be <= the
    limit. Positions on the new position's own underlying are not checked (that is
    ``max_open_positions_per_underlying``'s job), so with one underlying it is always met. When
    fewer than ``correlation_window`` common past returns exist the pair is not checked and
    the day warns.
``max_margin_utilisation``
    The run's margin model's requirement for the open positions (at their marks) plus the new
    order (at its fill prices), over equity, <= the limit. Needs a margin model; a requirement
    the model cannot compute refuses the order.
``one_position_per_expiry``
    No open position may hold a leg on an expiry the new order uses.

Intraday runs simulate each day on its own, from a flat book and the declared capital
(:mod:`workbench.engine.account`), so constraints there bind within each day.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.engine.errors import ConfigError

if TYPE_CHECKING:
    from workbench.engine.simulator import Simulator, _Priced
    from workbench.model.contracts import OptionContract

__all__ = [
    "CONSTRAINT_NAMES",
    "ConstraintGuard",
    "Constraints",
    "as_constraints",
    "load_constraints",
    "position_max_loss",
    "return_correlation",
]

#: Relative tolerance of the inclusive limits (a value equal to the limit up to float error
#: passes: 0.1 + 0.2 must not exceed 0.3).
TOLERANCE = 1e-9


class Constraints(BaseModel):
    """The run's portfolio constraints (see the module docstring for each definition)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    max_open_positions: int | None = Field(default=None, ge=0, description="open positions")
    max_open_positions_per_underlying: int | None = Field(
        default=None, ge=0, description="open positions on one underlying"
    )
    max_risk_per_trade: float | None = Field(
        default=None, gt=0, description="new position's max loss / equity (fraction)"
    )
    max_portfolio_heat: float | None = Field(
        default=None, gt=0, description="sum of open positions' max loss / equity (fraction)"
    )
    max_correlation: float | None = Field(
        default=None, ge=-1, le=1, description="correlation of daily returns with open underlyings"
    )
    correlation_window: int = Field(
        default=60, ge=2, description="daily returns (sessions before today) in the correlation"
    )
    max_margin_utilisation: float | None = Field(
        default=None, gt=0, description="margin after the fill / equity (fraction)"
    )
    one_position_per_expiry: bool = Field(
        default=False, description="refuse a position on an expiry an open position uses"
    )

    def active(self) -> list[str]:
        """The names of the constraints that are checked, in checking order."""
        out = []
        for name in CONSTRAINT_NAMES:
            value = getattr(self, name)
            if value is not None and value is not False:
                out.append(name)
        return out

    @property
    def needs_equity(self) -> bool:
        return any(
            getattr(self, n) is not None
            for n in ("max_risk_per_trade", "max_portfolio_heat", "max_margin_utilisation")
        )

    def describe(self) -> dict[str, Any]:
        """The active constraints (and the correlation window when correlation is checked)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.active()}
        if self.max_correlation is not None:
            out["correlation_window"] = self.correlation_window
        return out


#: Checking order (the first constraint an order breaks is the one recorded).
CONSTRAINT_NAMES: tuple[str, ...] = (
    "one_position_per_expiry",
    "max_open_positions",
    "max_open_positions_per_underlying",
    "max_risk_per_trade",
    "max_portfolio_heat",
    "max_correlation",
    "max_margin_utilisation",
)


def as_constraints(value: Any, what: str = "constraints") -> Constraints | None:
    """``None``, a :class:`Constraints`, a mapping of its fields, or a path to a TOML file (a
    ``[constraints]`` table or the fields at top level) -> ``Constraints | None`` (no active
    constraint -> ``None``). Errors are :class:`ConfigError` naming ``what`` and the field."""
    if value is None:
        return None
    if isinstance(value, str | Path):
        return load_constraints(value)
    if isinstance(value, Constraints):
        out = value
    elif isinstance(value, Mapping):
        try:
            out = Constraints(**dict(value))
        except ValidationError as exc:
            raise ConfigError(_problems(exc, what)) from None
    else:
        raise ConfigError(
            f"{what}: expected a Constraints, a mapping of its fields or a TOML file, got "
            f"{type(value).__name__}"
        )
    return out if out.active() else None


def load_constraints(path: str | Path) -> Constraints | None:
    """A TOML file's ``[constraints]`` table (or its top-level fields) as :class:`Constraints`."""
    file = Path(path).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"constraints file {file} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"constraints file {file}: not readable TOML ({exc})") from None
    table = data.get("constraints", data)
    if not isinstance(table, Mapping):
        raise ConfigError(f"constraints file {file}: [constraints] must be a table")
    return as_constraints(dict(table), what=str(file))


def _problems(exc: ValidationError, what: str) -> str:
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "constraints"
        if err["type"] == "extra_forbidden":
            from workbench.model.suggest import did_you_mean

            known = sorted(Constraints.model_fields)
            parts.append(
                f"{name!r}: unknown constraint{did_you_mean(name, known)} (known: {', '.join(known)})"
            )
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{name!r}: {message} (got {err.get('input')!r})")
    return f"{what}: " + "; ".join(parts)


# -- max loss ---------------------------------------------------------------------------------
LegTerms = tuple["OptionContract | None", float, float]
"""``(contract or None for stock, signed units, price per unit)``."""

_STOCK_STRIKE = 1e-12  # a stock leg is a call struck at (almost) zero


def position_max_loss(legs: Iterable[LegTerms]) -> float:
    """The worst expiry loss (money, >= 0; ``inf`` unbounded) of legs at their prices
    (:func:`~workbench.execution.payoff.max_loss_at_expiry`, every leg at intrinsic value)."""
    from workbench.execution.payoff import PositionLeg, max_loss_at_expiry

    items = []
    for contract, units, price in legs:
        if contract is None:
            items.append(PositionLeg(_STOCK_STRIKE, True, units, price))
        else:
            items.append(PositionLeg(contract.strike, contract.is_call, units, price))
    return float(max_loss_at_expiry(items)) if items else 0.0


# -- correlation --------------------------------------------------------------------------------
def return_correlation(a: Mapping[date, float], b: Mapping[date, float], window: int) -> float:
    """Pearson correlation of the close-to-close returns of two daily close series over their
    last ``window`` common returns (consecutive common sessions). NaN when fewer exist or a
    series does not move."""
    days = sorted(set(a) & set(b))
    if len(days) < window + 1:
        return math.nan
    days = days[-(window + 1) :]
    xa = np.array([a[d] for d in days], dtype=float)
    xb = np.array([b[d] for d in days], dtype=float)
    ra = xa[1:] / xa[:-1] - 1.0
    rb = xb[1:] / xb[:-1] - 1.0
    if not (np.isfinite(ra).all() and np.isfinite(rb).all()):
        return math.nan
    if np.std(ra) == 0 or np.std(rb) == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


class _Closes:
    """Daily closes of underlyings from the run's dataset, sessions strictly before a day."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, date], float] = {}

    def before(self, store: Any, underlying: str, day: date, n: int) -> dict[date, float]:
        days = [d for d in store.days(underlying) if d < day][-n:]
        out = {}
        for d in days:
            key = (underlying, d)
            if key not in self._cache:
                spot = store.read_spot(underlying, d)
                closes = spot.column("close").to_numpy(zero_copy_only=False)
                finite = closes[np.isfinite(closes)]
                self._cache[key] = float(finite[-1]) if finite.size else math.nan
            value = self._cache[key]
            if math.isfinite(value):
                out[d] = value
        return out


# -- the guard --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Held:
    """What the guard keeps of a held position (see :meth:`ConstraintGuard._summary`)."""

    stamp: int
    loss: float
    underlyings: frozenset[str]
    expiries: frozenset[date]


class ConstraintGuard:
    """Checks :class:`Constraints` on an opening order for one simulator."""

    def __init__(self, constraints: Constraints) -> None:
        self.constraints = constraints
        self._closes = _Closes()
        self._warned: set[tuple[date, str, str]] = set()
        self._held: dict[str, _Held] = {}

    def check(
        self,
        sim: Simulator,
        priced: Sequence[_Priced],
        positions: Sequence[str],
        closing: Sequence[str] = (),
    ) -> tuple[str, str] | None:
        """``(constraint, why)`` for the first constraint the order breaks, else ``None``.

        ``priced`` are the order's opening legs, ``positions`` the position each joins (a new
        one, or for a roll the position of the key it replaces), ``closing`` the keys the
        same order closes (a roll's old legs). Everything is checked on the book as it would
        be after the order."""
        c = self.constraints
        by = sim.open_by_position
        gone = set(closing)
        open_trades = sim.book.open
        changed: list[str] = []
        mine: dict[str, list[LegTerms]] = {}  # the changed positions' legs after the order
        new_expiries: dict[str, set[date]] = {}
        for pid, p in zip(positions, priced, strict=True):
            if pid not in mine:
                changed.append(pid)
                mine[pid] = [
                    (t.contract, t.signed_units, t.entry_price)
                    for k in by.get(pid, ())
                    if k not in gone
                    for t in (open_trades[k],)
                ]
                new_expiries[pid] = set()
            mine[pid].append((p.contract, p.side.sign * p.qty * p.lot, p.price))
            if p.contract is not None:
                new_expiries[pid].add(p.contract.expiry)
        fresh = [pid for pid in changed if pid not in by]  # positions the order opens
        held = [pid for pid in by if pid not in mine]
        default = sim.market.underlying
        mine_under = {
            pid: {t[0].underlying if t[0] is not None else default for t in legs}
            for pid, legs in mine.items()
        }
        if c.one_position_per_expiry:
            for pid in changed:
                for other in held:
                    both = sorted(new_expiries[pid] & self._summary(sim, other).expiries)
                    if both:
                        return (
                            "one_position_per_expiry",
                            f"position {other} already holds expiry {both[0]}",
                        )
                for other in changed:
                    if other != pid:
                        theirs = {t[0].expiry for t in mine[other] if t[0] is not None}
                        both = sorted(new_expiries[pid] & theirs)
                        if both:
                            return (
                                "one_position_per_expiry",
                                f"position {other} already holds expiry {both[0]}",
                            )
        n_after = len(by) + len(fresh)
        if c.max_open_positions is not None and fresh and n_after > c.max_open_positions:
            return (
                "max_open_positions",
                f"{len(by)} open, at most {c.max_open_positions} allowed",
            )
        if c.max_open_positions_per_underlying is not None and fresh:
            limit = c.max_open_positions_per_underlying
            for underlying in sorted({u for pid in fresh for u in mine_under[pid]}):
                others = sum(1 for pid in held if underlying in self._summary(sim, pid).underlyings)
                existing = sum(
                    1 for pid in changed if pid not in fresh and underlying in mine_under[pid]
                )
                ours = sum(1 for pid in fresh if underlying in mine_under[pid])
                if others + existing + ours > limit:
                    return (
                        "max_open_positions_per_underlying",
                        f"{others + existing} open on {underlying}, at most {limit} allowed",
                    )
        equity = math.nan
        if c.needs_equity:
            equity = sim.account.equity
            if not equity > 0:
                name = next(
                    n
                    for n in ("max_risk_per_trade", "max_portfolio_heat", "max_margin_utilisation")
                    if getattr(c, n) is not None
                )
                return (name, f"account equity {equity:,.2f} is not positive")
        losses: dict[str, float] = {}
        if c.max_risk_per_trade is not None or c.max_portfolio_heat is not None:
            losses = {pid: position_max_loss(legs) for pid, legs in mine.items()}
        if c.max_risk_per_trade is not None:
            for pid in changed:
                share = losses[pid] / equity
                if _over(share, c.max_risk_per_trade):
                    return (
                        "max_risk_per_trade",
                        f"max loss {_money(losses[pid])} is {share:.4%} of equity "
                        f"{equity:,.2f}, above {c.max_risk_per_trade:.4%}",
                    )
        if c.max_portfolio_heat is not None:
            new_loss = math.fsum(losses.values())
            held_loss = math.fsum(self._summary(sim, pid).loss for pid in held)
            heat = _heat([held_loss, new_loss], equity)
            if _over(heat, c.max_portfolio_heat):
                return (
                    "max_portfolio_heat",
                    f"open max loss {_money(held_loss)} + new {_money(new_loss)} is {heat:.4%} "
                    f"of equity {equity:,.2f}, above {c.max_portfolio_heat:.4%}",
                )
        if c.max_correlation is not None and fresh:
            new_underlyings = {u for pid in fresh for u in mine_under[pid]}
            held_under = {u for pid in held for u in self._summary(sim, pid).underlyings}
            held_under |= {u for pid in changed if pid not in fresh for u in mine_under[pid]}
            found = self._correlated(sim, new_underlyings, held_under)
            if found is not None:
                return ("max_correlation", found)
        if c.max_margin_utilisation is not None:
            margin = sim.margin_with(priced, without=closing)
            if not math.isfinite(margin):
                return (
                    "max_margin_utilisation",
                    "the margin model cannot price the book with this order (see the warnings)",
                )
            use = margin / equity
            if _over(use, c.max_margin_utilisation):
                return (
                    "max_margin_utilisation",
                    f"margin after the fill {margin:,.2f} is {use:.4%} of equity "
                    f"{equity:,.2f}, above {c.max_margin_utilisation:.4%}",
                )
        return None

    def _summary(self, sim: Simulator, pid: str) -> _Held:
        """A held position's max loss (its legs at their entry prices), underlyings and
        expiries, computed once per state of its legs (``Simulator.position_stamp``)."""
        stamp = sim.position_stamp[pid]
        cached = self._held.get(pid)
        if cached is not None and cached.stamp == stamp:
            return cached
        trades = [sim.book.open[k] for k in sim.open_by_position[pid]]
        out = _Held(
            stamp,
            position_max_loss((t.contract, t.signed_units, t.entry_price) for t in trades),
            frozenset(
                t.contract.underlying if t.contract is not None else t.underlying for t in trades
            ),
            frozenset(t.contract.expiry for t in trades if t.contract is not None),
        )
        self._held[pid] = out
        if len(self._held) > 4 * max(len(sim.open_by_position), 1000):  # closed positions
            for gone in [p for p in self._held if p not in sim.open_by_position]:
                del self._held[gone]
        return out

    def _correlated(self, sim: Simulator, new: set[str], others: set[str]) -> str | None:
        """Why the new underlyings are too correlated with the open positions' underlyings
        ``others`` (pairs of different underlyings), else ``None``."""
        c = self.constraints
        assert c.max_correlation is not None
        held = sorted(others - new)
        if not held:
            return None
        market = sim.market
        today, n = market.day, c.correlation_window + 1
        for a in sorted(new):
            closes_a = self._closes.before(_store_of(market, a), a, today, n)
            for b in held:
                closes_b = self._closes.before(_store_of(market, b), b, today, n)
                rho = return_correlation(closes_a, closes_b, c.correlation_window)
                if math.isnan(rho):
                    if (today, a, b) not in self._warned:
                        self._warned.add((today, a, b))
                        sim.warnings.append(
                            f"max_correlation: fewer than {c.correlation_window} common past "
                            f"daily returns of {a} and {b} (or one does not move): not checked"
                        )
                    continue
                if rho > c.max_correlation * (1 + TOLERANCE) + TOLERANCE:
                    return (
                        f"correlation of {a} with open {b} is {rho:.4f} over "
                        f"{c.correlation_window} daily returns, above {c.max_correlation:g}"
                    )
        return None


def _store_of(market: Any, underlying: str) -> Any:
    """The store holding ``underlying``'s data: its own market's today, else the run's."""
    from workbench.engine.universe import UniverseMarket, has_market, market_of

    if isinstance(market, UniverseMarket) and has_market(market, underlying):
        return market_of(market, underlying).store
    return market.store


def _heat(losses: Sequence[float], equity: float) -> float:
    """Portfolio heat (:func:`workbench.execution.heat.portfolio_heat`); ``inf`` when a
    position's loss is unbounded."""
    from workbench.execution.heat import portfolio_heat

    if any(math.isinf(x) for x in losses):
        return math.inf
    return portfolio_heat(losses, equity)


def _over(value: float, limit: float) -> bool:
    """``value`` above the inclusive ``limit`` (NaN and ``inf`` are above any limit)."""
    if value != value:
        return True
    return value > limit * (1 + TOLERANCE)


def _money(x: float) -> str:
    return "unlimited" if math.isinf(x) else f"{x:,.2f}"
