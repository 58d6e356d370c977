"""The walk-forward report page (``walk_forward.html``, written by ``WalkForwardResult.save``).

What a researcher reads to decide whether a parameter choice survives out of sample: the
stitched out-of-sample equity with the windows marked; per window the periods, the chosen
parameters and the objective, Sharpe and trades in sample (train, validate) and out of sample
(test); how stable the choice is; and the alpha-decay fit of test Sharpe on window index. With
a VIX-like series, the out-of-sample days by volatility regime (each day by the close before it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.research import pages as pg

if TYPE_CHECKING:
    from workbench.research.walkforward import WalkForwardResult

PAGE = "walk_forward.html"


def _equity_figure(result: WalkForwardResult) -> Any:
    from matplotlib.ticker import FuncFormatter

    from workbench.analytics.charts import PALETTE, ChartUnavailable, Margins, new_figure

    oos = result.oos_daily
    if oos.empty:
        raise ChartUnavailable("no window produced an out-of-sample day")
    dates = pd.to_datetime(oos["date"])
    fig, axes = new_figure(height=3.4, margins=Margins(top=0.5))
    ax = axes[0, 0]
    for k, (window, group) in enumerate(oos.groupby("window", sort=True)):
        lo, hi = pd.to_datetime(group["date"]).min(), pd.to_datetime(group["date"]).max()
        ax.axvspan(
            lo, hi + pd.Timedelta(hours=12), color="#eef3f9" if k % 2 else "#f9f6ee", zorder=0
        )
        ax.text(
            lo,
            1.0,
            f"w{window}",
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="bottom",
            color="#666",
        )
    ax.plot(
        dates,
        oos["equity"].to_numpy(dtype=float),
        color=PALETTE["main"],
        linewidth=1.5,
        drawstyle="steps-post",
    )
    ax.axhline(0, color="black", linewidth=0.6)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    ax.set_ylabel("cumulative out-of-sample PnL")
    ax.set_xlabel("date (test periods, windows shaded)")
    ax.set_title(
        "Stitched out-of-sample equity: each window's test period with its chosen parameters",
        fontsize=10,
        pad=14,
    )
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    return fig


def _decay_figure(result: WalkForwardResult) -> Any:
    from workbench.analytics.charts import PALETTE, ChartUnavailable, Margins, new_figure

    windows = result.windows
    objective = result.config["objective"]
    if windows.empty:
        raise ChartUnavailable("no window")
    fig, axes = new_figure(1, 2, height=3.2, margins=Margins(wspace=0.9, top=0.5))
    ax = axes[0, 0]
    idx = windows["window"].to_numpy(dtype=int)
    width = 0.27
    for offset, phase, color in (
        (-width, "train", PALETTE["fill"]),
        (0.0, "validate", PALETTE["neutral"]),
        (width, "test", PALETTE["main"]),
    ):
        values = pd.to_numeric(windows[f"{phase}_{objective}"], errors="coerce").to_numpy(
            dtype=float
        )
        ax.bar(idx + offset, np.nan_to_num(values), width=width, color=color, label=phase)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(idx, [f"w{i}" for i in idx])
    ax.set_xlabel("window")
    ax.set_ylabel(objective)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(f"{objective} in and out of sample", fontsize=10)
    ax2 = axes[0, 1]
    sharpe = pd.to_numeric(windows["test_sharpe"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(sharpe)
    ax2.scatter(idx[ok], sharpe[ok], color=PALETTE["main"], zorder=3, label="test Sharpe")
    decay = result.decay
    if math.isfinite(decay.slope):
        xs = np.linspace(idx.min(), idx.max(), 50)
        ax2.plot(xs, decay.intercept + decay.slope * xs, color=PALETTE["second"], label="fit")
    ax2.axhline(0, color="black", linewidth=0.6)
    ax2.set_xticks(idx, [f"w{i}" for i in idx])
    ax2.set_xlabel("window")
    ax2.set_ylabel("test Sharpe")
    half = f", half-life {decay.half_life:.1f} windows" if decay.half_life is not None else ""
    ax2.set_title(f"Alpha decay: slope {pg.num(decay.slope, 3)} a window{half}", fontsize=10)
    ax2.legend(frameon=False, fontsize=8)
    return fig


def _params_figure(result: WalkForwardResult) -> Any:
    from workbench.analytics.charts import PALETTE, ChartUnavailable, Margins, new_figure

    names = list(result.config.get("grid", {}))
    windows = result.windows
    chosen = windows[windows["params"].notna()]
    if not names or chosen.empty:
        raise ChartUnavailable("no window chose parameters")
    shown = names[:4]
    fig, axes = new_figure(1, len(shown), height=2.8, margins=Margins(wspace=1.0, left=1.0))
    for ax, name in zip(axes[0, :], shown, strict=True):
        grid_values = list(result.config["grid"][name])
        labels = [pg.text(v) for v in grid_values]
        pos = {label: i for i, label in enumerate(labels)}
        y = [pos.get(pg.text(p.get(name)), np.nan) for p in chosen["params"]]
        x = chosen["window"].to_numpy(dtype=int)
        ax.step(x, y, where="mid", color=PALETTE["main"], linewidth=1.2)
        ax.scatter(x, y, color=PALETTE["main"], s=16, zorder=3)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(-0.5, len(labels) - 0.5)
        ax.set_xticks(x, [f"w{i}" for i in x], fontsize=7)
        ax.set_title(name, fontsize=9)
    fig.suptitle("Chosen value of each parameter, window by window", fontsize=10)
    return fig


def _phase_cell(row: dict[str, Any], name: str, digits: int) -> list[str]:
    return [pg.num(row.get(f"{phase}_{name}"), digits) for phase in ("train", "validate", "test")]


def _window_rows(result: WalkForwardResult) -> list[dict[str, Any]]:
    objective = result.config["objective"]
    rows = []
    for record in result.windows.to_dict(orient="records"):
        row = {str(k): v for k, v in record.items()}
        params = row.get("params")
        rows.append(
            {
                "window": f"w{int(row['window'])}",
                "periods": [
                    f"train {pg.text(row['train_start'])} .. {pg.text(row['train_end'])}",
                    f"validate {pg.text(row['validate_start'])} .. {pg.text(row['validate_end'])}",
                    f"test {pg.text(row['test_start'])} .. {pg.text(row['test_end'])}",
                ],
                "params": [f"{k} = {pg.text(v)}" for k, v in params.items()]
                if isinstance(params, dict)
                else [],
                "objective": _phase_cell(row, objective, 3),
                "sharpe": _phase_cell(row, "sharpe", 2),
                "trades": _phase_cell(row, "trades", 0),
                "test_pnl": pg.money(row.get("test_pnl")),
                "pnl_cls": pg.sign_class(row.get("test_pnl")),
                "error": row.get("error") if isinstance(row.get("error"), str) else "",
                "run_id": row.get("test_run_id") or "",
            }
        )
    return rows


def _stability_rows(result: WalkForwardResult) -> list[dict[str, Any]]:
    out = []
    for name, entry in result.stability.get("parameters", {}).items():
        spread = ""
        if "mean" in entry:
            spread = (
                f"mean {pg.num(entry['mean'], 3)}, std {pg.num(entry['std'], 3)}, "
                f"{pg.num(entry['min'], 3)} .. {pg.num(entry['max'], 3)}"
            )
        out.append(
            {
                "name": name,
                "changes": entry["changes"],
                "distinct": entry["distinct"],
                "mode": entry["mode"],
                "counts": ", ".join(f"{k}: {v}" for k, v in entry["counts"].items()),
                "spread": spread,
            }
        )
    return out


def _vix_table(result: WalkForwardResult) -> dict[str, Any] | None:
    series = getattr(result, "vix", None)
    if series is None or result.oos_daily.empty:
        return None
    from workbench.analytics.breakdowns import by_vix_regime_days

    pnl = result.oos_daily.set_index(pd.to_datetime(result.oos_daily["date"]))["pnl"].astype(float)
    table = by_vix_regime_days(pnl, series.closes)
    return {
        "source": series.source,
        "rows": [
            (
                str(label),
                int(r["count"]),
                pg.money(r["pnl"]),
                pg.sign_class(r["pnl"]),
                pg.money(r["mean"]),
                pg.pct(r["win_rate"]),
            )
            for label, r in table.iterrows()
        ],
    }


def render_walkforward(result: WalkForwardResult) -> str:
    """The page as HTML."""
    cfg = result.config
    summary = result.summary()
    decay = result.decay
    stab = result.stability
    strategy = cfg.get("template") or cfg.get("strategy")
    lengths = cfg.get("lengths") or {}
    subtitle = (
        f"{strategy} on {cfg.get('data')} · objective {cfg['objective']} (top {cfg.get('top_n')} "
        f"from train to validate) · windows of train {lengths.get('train')}, validate "
        f"{lengths.get('validate')}, test {lengths.get('test')}, step {lengths.get('step')} "
        f"{cfg.get('unit')}"
    )
    kpis = [
        ("Out-of-sample PnL", pg.money(summary["oos_total_pnl"])),
        ("Out-of-sample Sharpe", pg.num(summary["oos_sharpe"])),
        ("Mean test Sharpe", pg.num(summary["mean_test_sharpe"])),
        ("Windows", f"{summary['windows']} ({summary['failed_windows']} failed)"),
        ("Choice changed", f"{stab['changes']} of {max(stab['windows'] - 1, 0)}"),
        ("Decay slope (Sharpe/window)", pg.num(decay.slope, 3)),
    ]
    decay_rows = [
        ("slope (test Sharpe per window)", pg.num(decay.slope, 4)),
        ("intercept (fitted window-0 Sharpe)", pg.num(decay.intercept, 3)),
        ("R²", pg.num(decay.r_squared, 3)),
        ("p-value (slope = 0)", pg.num(decay.p_value, 3)),
        ("windows in the fit", str(decay.n)),
        (
            "half-life",
            f"{decay.half_life:.1f} windows"
            if decay.half_life is not None
            else "none (no decay fitted)",
        ),
    ]
    figures = [
        pg.figure_entry("oos-equity", "Out-of-sample equity", lambda: _equity_figure(result)),
        pg.figure_entry(
            "decay", "Objective by window and alpha decay", lambda: _decay_figure(result)
        ),
        pg.figure_entry(
            "parameters", "Chosen parameters by window", lambda: _params_figure(result)
        ),
    ]
    return pg.render(
        "walkforward.html.j2",
        title=f"Walk-forward: {strategy}",
        subtitle=subtitle,
        kpis=kpis,
        figures=figures,
        objective=cfg["objective"],
        windows=_window_rows(result),
        stability=_stability_rows(result),
        change_rate=pg.pct(stab.get("change_rate")),
        decay_rows=decay_rows,
        vix=_vix_table(result),
        config_rows=[
            (k, pg.text(v) if not isinstance(v, dict | list) else str(v))
            for k, v in cfg.items()
            if k not in ("code",)
        ],
    )


def write_walkforward_page(result: WalkForwardResult, folder: str | Path) -> Path:
    """Write :data:`PAGE` into ``folder`` (the caller makes it atomic); returns its path."""
    path = Path(folder) / PAGE
    path.write_text(render_walkforward(result), encoding="utf-8")
    return path
