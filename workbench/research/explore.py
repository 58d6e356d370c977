"""Interactive exploration for ``notebooks/explore.ipynb``: chains, smiles, payoffs, day replays.

The functions return DataFrames and matplotlib figures (testable without a browser);
:func:`explorer` wires them into an ipywidgets panel: pick the underlying, day, time and expiry,
see the chain with bid/ask and implied vol and the smile, add legs to a payoff diagram, and
replay one day of a saved run against the spot path.

Everything reads the dataset as of the chosen minute: a quote shown at 10:30 is the last bar at
or before 10:30 (its age in minutes is the ``lag`` column), never a later one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from workbench.analytics.units import chain_for_display
from workbench.data.store import MarketStore
from workbench.execution.payoff import PositionLeg, expiry_pnl, pnl_at, price_grid
from workbench.model.instruments import get_instrument
from workbench.pricing import enrich_chain

#: Columns of :func:`chain_at`'s table, one row per instrument.
CHAIN_COLUMNS = (
    "expiry",
    "strike",
    "right",
    "bid",
    "ask",
    "mid",
    "close",
    "volume",
    "oi",
    "lag_min",
)


def _at(day: date, when: time) -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(day, when))


def spot_at(store: MarketStore, underlying: str, day: date, when: time) -> float:
    """Last spot close at or before ``when`` on ``day`` (NaN before the first bar)."""
    spot = store.read_spot(underlying, day).to_pandas()
    seen = spot[spot["ts"] <= _at(day, when)]
    return float(seen["close"].iloc[-1]) if len(seen) else float("nan")


def chain_at(
    store: MarketStore,
    underlying: str,
    day: date,
    when: time,
    expiry: date | None = None,
    *,
    rate: float = 0.0,
) -> pd.DataFrame:
    """The chain as seen at ``when``: each instrument's last bar at or before it, with its lag
    in minutes, mid, implied vol and Greeks (recomputed from the mid, else the close).

    Columns: expiry, strike, right, bid, ask, mid, close, volume, oi, lag_min, iv, delta, gamma,
    vega, theta (units of :func:`workbench.pricing.enrich_chain`), sorted by expiry, strike, right.
    """
    table = store.read_chain(underlying, day, expiry).to_pandas()
    now = _at(day, when)
    seen = table[table["ts"] <= now]
    if seen.empty:
        return pd.DataFrame(columns=list(CHAIN_COLUMNS))
    last = seen.sort_values("ts").groupby(["expiry", "strike", "right"], sort=True).tail(1).copy()
    last["lag_min"] = ((now - last["ts"]).dt.total_seconds() // 60).astype(int)
    last["mid"] = np.where(
        (last["bid"] > 0) & (last["ask"] >= last["bid"]), (last["bid"] + last["ask"]) / 2, np.nan
    )
    keep = [*CHAIN_COLUMNS, "ts"]
    last = last[keep].drop(
        columns=[c for c in ("iv", "delta", "gamma", "vega", "theta") if c in last.columns]
    )
    spot = spot_at(store, underlying, day, when)
    enriched = enrich_chain(last, spot=spot, r=rate, valuation_ts=now, underlying=underlying)
    return (
        enriched.drop(columns=["ts"])
        .sort_values(["expiry", "strike", "right"])
        .reset_index(drop=True)
    )


def smile_figure(chain: pd.DataFrame, spot: float, *, title: str = "") -> Figure:
    """Implied vol by strike for one expiry: calls and puts, out-of-the-money side solid."""
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    for right, colour in (("C", "tab:blue"), ("P", "tab:red")):
        side = chain[(chain["right"] == right) & np.isfinite(chain["iv"])]
        otm = side["strike"] >= spot if right == "C" else side["strike"] <= spot
        ax.plot(side["strike"], side["iv"] * 100, color=colour, alpha=0.35, lw=1)
        ax.plot(
            side.loc[otm, "strike"],
            side.loc[otm, "iv"] * 100,
            "o-",
            color=colour,
            ms=3,
            label=f"{right} (OTM)",
        )
    ax.axvline(spot, color="grey", ls="--", lw=1, label=f"spot {spot:,.2f}")
    ax.set_xlabel("strike")
    ax.set_ylabel("implied vol (%)")
    ax.set_title(title or "volatility smile")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@dataclass
class PayoffBook:
    """Legs added in the explorer; prices are premiums per unit, quantities in contracts."""

    underlying: str
    day: date
    legs: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, strike: float, right: str, side: str, qty: int, price: float, expiry: date, iv: float
    ) -> None:
        if qty <= 0:
            raise ValueError(f"qty must be a positive number of contracts, got {qty}")
        if side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, got {side!r}")
        self.legs.append(
            {
                "strike": strike,
                "right": right,
                "side": side,
                "qty": qty,
                "price": price,
                "expiry": expiry,
                "iv": iv,
            }
        )

    def position_legs(self, when: time) -> list[PositionLeg]:
        lot = get_instrument(self.underlying).lot_size(self.day)
        now = datetime.combine(self.day, when)
        out = []
        for leg in self.legs:
            close = datetime.combine(
                leg["expiry"], get_instrument(self.underlying).settlement_clock
            )
            years = max((close - now).total_seconds(), 0.0) / (365.0 * 86400.0)
            sign = 1 if leg["side"] == "BUY" else -1
            out.append(
                PositionLeg(
                    strike=leg["strike"],
                    is_call=leg["right"] == "C",
                    units=sign * leg["qty"] * lot,
                    price=leg["price"],
                    years=years,
                    sigma=leg["iv"] if np.isfinite(leg["iv"]) else 0.2,
                )
            )
        return out


def payoff_figure(book: PayoffBook, spot: float, when: time, *, width: float = 0.1) -> Figure:
    """PnL of the book over underlying prices: at expiry and now (Black-Scholes at each leg's iv)."""
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    if not book.legs:
        ax.text(
            0.5, 0.5, "add legs to see the payoff", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return fig
    legs = book.position_legs(when)
    grid = price_grid(spot, down=width, up=width, n=241)
    ax.plot(grid, expiry_pnl(legs, grid), color="black", lw=1.5, label="at expiry")
    ax.plot(grid, pnl_at(legs, grid), color="tab:orange", lw=1.2, label="now")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(spot, color="grey", ls="--", lw=1, label=f"spot {spot:,.2f}")
    ax.set_xlabel(f"{book.underlying} price")
    ax.set_ylabel("PnL (money)")
    ax.set_title("payoff of the added legs")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def replay_figure(store: MarketStore, run_folder: str | Path, day: date) -> Figure:
    """One day of a saved run: the spot path with every fill marked, and the day's cumulative cash."""
    book = pd.read_parquet(Path(run_folder) / "tradebook.parquet")
    book = book[pd.to_datetime(book["ts"]).dt.date == day]
    if book.empty:
        raise ValueError(f"{run_folder}: the run has no fills on {day}")
    underlying = str(book["underlying"].iloc[0])
    spot_underlying = get_instrument(underlying).spot_underlying
    spot = store.read_spot(spot_underlying, day).to_pandas()
    fig = Figure(figsize=(9, 5.5))
    ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    ax.plot(spot["ts"], spot["close"], color="black", lw=1)
    for side, marker, colour in (("BUY", "^", "tab:green"), ("SELL", "v", "tab:red")):
        fills = book[book["side"] == side]
        ax.scatter(
            pd.to_datetime(fills["ts"]),
            fills["spot"],
            marker=marker,
            color=colour,
            s=50,
            label=side,
            zorder=3,
        )
    for _, fill in book.iterrows():
        ax.annotate(
            f"{fill['symbol']} {fill['reason']}",
            (pd.Timestamp(fill["ts"]), fill["spot"]),
            fontsize=6,
            xytext=(3, 6),
            textcoords="offset points",
        )
    ax.set_ylabel(f"{spot_underlying} spot")
    ax.set_title(f"replay {day}: {Path(run_folder).name}")
    ax.legend(fontsize=8)
    cash = book.sort_values("ts")["cash"].cumsum()
    ax2.step(pd.to_datetime(book.sort_values("ts")["ts"]), cash, where="post", color="tab:blue")
    ax2.set_ylabel("cumulative cash")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _show(out: Any, thing: Any) -> None:
    """Replace an Output widget's content with ``thing``.

    Sets the widget's outputs directly rather than capturing with ``with out: display(...)``:
    capture routes messages through the kernel's parent header, which headless executors
    (papermill/nbclient) handle unreliably; setting the state renders the same in JupyterLab.
    """
    if isinstance(thing, Figure):  # as PNG whatever the matplotlib backend
        from IPython.display import Image

        buffer = io.BytesIO()
        thing.savefig(buffer, format="png", dpi=100)
        thing = Image(data=buffer.getvalue(), format="png")
    out.outputs = ()
    out.append_display_data(thing)


def explorer(data: str | Path, run_folder: str | Path | None = None) -> Any:
    """The ipywidgets panel for ``notebooks/explore.ipynb``."""
    import ipywidgets as w

    store = MarketStore(data)
    underlyings = store.underlyings()
    u = w.Dropdown(options=underlyings, description="underlying")
    d = w.Dropdown(description="day")
    t = w.SelectionSlider(
        options=["10:30"], value="10:30", description="minute", continuous_update=False
    )
    e = w.Dropdown(description="expiry")
    strike = w.FloatText(description="strike")
    right = w.ToggleButtons(options=["C", "P"], value="C")
    side = w.ToggleButtons(options=["BUY", "SELL"], value="SELL")
    qty = w.BoundedIntText(value=1, min=1, max=10_000, description="lots")
    add = w.Button(description="add leg")
    clear = w.Button(description="clear legs")
    run_box = w.Text(value=str(run_folder or ""), description="run folder")
    chain_out, smile_out, payoff_out, replay_out = (w.Output() for _ in range(4))
    state: dict[str, Any] = {"chain": None, "book": None}

    def when() -> time:
        return time.fromisoformat(str(t.value))

    def minutes(day: Any) -> list[str]:
        """The day's spot bar times, HH:MM (the slider's stops)."""
        ts = store.read_spot(u.value, day).column("ts").to_pylist()
        return sorted({stamp.strftime("%H:%M") for stamp in ts})

    def on_underlying(*_: Any) -> None:
        days = store.days(u.value)
        d.options = days
        d.value = days[0] if days else None

    def on_day(*_: Any) -> None:
        if d.value is None:
            return
        state["book"] = PayoffBook(u.value, d.value)
        stops = minutes(d.value) or ["10:30"]
        keep = (
            str(t.value)
            if str(t.value) in stops
            else min(stops, key=lambda m: abs(int(m[:2]) * 60 + int(m[3:]) - 630))
        )
        state["quiet"] = True  # one redraw for the new day, not one per slider change
        try:
            t.options = stops
            t.value = keep
        finally:
            state["quiet"] = False
        expiries = store.expiries(u.value, d.value)
        e.options = expiries
        if expiries and e.value not in expiries:
            e.value = expiries[0]  # refreshes through the observer
        else:
            refresh()

    def refresh(*_: Any) -> None:
        if state.get("quiet") or d.value is None or e.value is None:
            return
        try:
            now = when()
        except ValueError:
            return
        chain = chain_at(store, u.value, d.value, now, e.value)
        state["chain"] = chain
        spot = spot_at(store, u.value, d.value, now)
        for out, thing in (
            (chain_out, chain_for_display(chain).round(4)),
            (smile_out, smile_figure(chain, spot, title=f"{u.value} {e.value} at {now}")),
            (payoff_out, payoff_figure(state["book"], spot, now)),
        ):
            _show(out, thing)

    def on_add(*_: Any) -> None:
        chain = state["chain"]
        row = chain[(chain["strike"] == strike.value) & (chain["right"] == right.value)]
        if row.empty:
            payoff_out.append_stdout(f"no {right.value} at strike {strike.value} in this expiry\n")
            return
        price = (
            float(row["mid"].iloc[0])
            if np.isfinite(row["mid"].iloc[0])
            else float(row["close"].iloc[0])
        )
        state["book"].add(
            strike.value,
            right.value,
            side.value,
            qty.value,
            price,
            e.value,
            float(row["iv"].iloc[0]),
        )
        refresh()

    def on_clear(*_: Any) -> None:
        state["book"] = PayoffBook(u.value, d.value)
        refresh()

    def on_replay(*_: Any) -> None:
        if run_box.value.strip():
            _show(replay_out, replay_figure(store, run_box.value.strip(), d.value))
        else:
            replay_out.outputs = ()

    u.observe(on_underlying, "value")
    d.observe(on_day, "value")
    for widget in (t, e):
        widget.observe(refresh, "value")
    add.on_click(on_add)
    clear.on_click(on_clear)
    run_box.observe(on_replay, "value")
    on_underlying()
    tabs = w.Tab(
        children=[
            chain_out,
            smile_out,
            w.VBox([w.HBox([strike, right, side, qty, add, clear]), payoff_out]),
            w.VBox([run_box, replay_out]),
        ]
    )
    for i, title in enumerate(["chain", "smile", "payoff", "replay"]):
        tabs.set_title(i, title)
    on_replay()
    return w.VBox([w.HBox([u, d, t, e]), tabs])
