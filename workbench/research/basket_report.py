"""Basket report folder: the combined portfolio saved like a run, its tearsheet, and a basket view.

``write_basket(basket, out, capital=...)`` writes ``out/`` atomically with:

- ``tradebook.parquet``, ``daily.csv``, ``metrics.json``, ``manifest.json`` — the combined
  portfolio in the run-folder format (so the day's index lists it and baskets can nest);
- ``tearsheet.html`` — the analytics tearsheet of the combined portfolio;
- ``basket.html`` — the basket view: sleeves with weights and contribution, correlation matrix of
  daily PnL, sleeve and combined equity, combined drawdown and margin, links to each sleeve.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from workbench.data.atomic import replace_folder
from workbench.engine.metrics import sharpe
from workbench.research.basket import Basket

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "report"


def _png(fig: Figure) -> str:
    from workbench.analytics.charts import figure_png_base64

    return figure_png_base64(fig, 100)


def correlation_figure(basket: Basket) -> Figure:
    """The sleeves' correlation of daily PnL as a heat map (for notebooks; the basket page shows
    the same matrix as a coloured table). Laid out so that long sleeve names, the title and the
    colour bar never run into each other."""
    from workbench.analytics.charts import Margins, new_figure

    corr = basket.correlation
    values = corr.to_numpy(dtype=float)
    n = len(corr)
    names = [str(c) for c in corr.columns]
    longest = max((len(x) for x in names), default=4)
    label_in = 0.3 + 0.07 * longest  # inches for the longest name at 8 pt
    side = max(0.55 * n, 1.6)
    width = label_in + side + 1.6
    height = side + label_in + 0.9
    fig, axes = new_figure(
        height=height,
        margins=Margins(left=label_in, right=1.4, top=0.55, bottom=label_in + 0.1),
    )
    fig.set_size_inches(max(width, 4.5), height)
    ax = axes[0, 0]
    ax.grid(False)
    image = ax.imshow(values, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(n), names, rotation=90, fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    for i in range(n):
        for j in range(n):
            value = values[i, j]
            ink = "white" if np.isfinite(value) and abs(value) > 0.6 else "black"
            ax.text(
                j,
                i,
                "" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color=ink,
            )
    bar = fig.add_axes(
        (
            1.0 - 1.15 / fig.get_figwidth(),
            ax.get_position().y0,
            0.12 / fig.get_figwidth(),
            ax.get_position().height,
        )
    )
    fig.colorbar(image, cax=bar, label="correlation")
    fig.suptitle("Correlation of the sleeves' daily PnL", fontsize=10)
    return fig


def basket_inputs(basket: Basket) -> Any:
    """What the basket's tearsheet reads from the datasets: buy-and-hold and a VIX-like series
    when every sleeve trades one underlying from one dataset in one currency (those of the first
    sleeve); each day's intraday path as the sleeves' paths, weighted and summed on their common
    clock, when every sleeve is intraday (:mod:`workbench.research.run_report`)."""
    from workbench.analytics.inputs import run_mode
    from workbench.research.run_report import ReportInputs, report_inputs

    found = ReportInputs()
    if not basket.sleeves:
        return found

    def dataset_of(manifest: dict[str, Any]) -> str:
        dataset = manifest.get("dataset")
        return str(dataset.get("path")) if isinstance(dataset, dict) else str(dataset)

    keys = {
        (dataset_of(s.manifest), str(s.manifest.get("underlying")), s.currency)
        for s in basket.sleeves
    }
    modes = {str(run_mode(s.manifest, s.tradebook)) for s in basket.sleeves}
    converted = bool(basket.manifest.get("fx"))
    per_sleeve = [report_inputs(s.folder) for s in basket.sleeves]
    if len(keys) == 1 and not converted:
        found.benchmark = per_sleeve[0].benchmark
        found.vix = per_sleeve[0].vix
    else:
        found.notes.append(
            "no benchmark or VIX-like series: the sleeves trade different underlyings, "
            "datasets or currencies"
        )
    if modes == {"intraday"} and not converted:
        paths: list[tuple[float, pd.DataFrame]] = []
        for sleeve, inputs in zip(basket.sleeves, per_sleeve, strict=True):
            if inputs.intraday is None:
                found.notes.append(
                    f"intraday paths not drawn: none for sleeve {sleeve.name} "
                    f"({'; '.join(inputs.notes) or 'no dataset'})"
                )
                paths = []
                break
            paths.append((basket.weights[sleeve.name], inputs.intraday))
        if paths:
            found.intraday = _sum_paths(paths)
    return found


def _sum_paths(weighted: list[tuple[float, pd.DataFrame]]) -> pd.DataFrame:
    """Intraday paths added up: on each day, at every tick of any sleeve, the sum of each
    sleeve's weighted PnL held from its last tick (0 before its first that day)."""
    frames = []
    for k, (weight, paths) in enumerate(weighted):
        frames.append(paths.assign(pnl=paths["pnl"] * weight, sleeve=k))
    both = pd.concat(frames, ignore_index=True)
    wide = both.pivot_table(index=["day", "ts"], columns="sleeve", values="pnl", aggfunc="last")
    wide = wide.groupby(level="day").ffill().fillna(0.0)
    out = wide.sum(axis=1).rename("pnl").reset_index()
    return out[["day", "ts", "pnl"]]


def correlation_table(basket: Basket) -> dict[str, Any]:
    """The correlation matrix as a coloured table for the page (:mod:`workbench.research.pages`)."""
    from workbench.research import pages as pg

    corr = basket.correlation
    return pg.heat_table(
        corr,
        corner="sleeve",
        fmt=lambda v: f"{v:.2f}",
        center=0.0,
        scale=1.0,
        titles=corr.map(lambda v: f"correlation {v:.3f}" if np.isfinite(v) else "undefined"),
    )


def equity_figure(basket: Basket, currency: str) -> Figure:
    fig = Figure(figsize=(10, 6.2))
    ax, dd, margin = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 1.3]})
    cumulative = basket.sleeve_pnl.cumsum()
    for name in cumulative.columns:
        ax.plot(
            cumulative.index,
            cumulative[name],
            lw=1,
            alpha=0.8,
            label=f"{name} (x{basket.weights[name]:g})",
        )
    daily = basket.daily.set_index("date")
    ax.plot(daily.index, daily["equity"], color="black", lw=2, label="basket")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel(f"cumulative PnL ({currency})")
    ax.set_title("sleeves and basket equity")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    drawdown = basket.drawdown
    dd.fill_between(drawdown.index, drawdown.to_numpy(dtype=float), 0, color="tab:red", alpha=0.4)
    dd.set_ylabel(f"drawdown ({currency})")
    dd.grid(alpha=0.3)
    if "margin" in daily.columns:
        margin.plot(daily.index, daily["margin"], color="tab:purple", label="at the close")
    if "peak_margin" in daily.columns and bool(
        (daily["peak_margin"].fillna(0) > daily["margin"].fillna(0) + 0.005).any()
    ):  # intraday sleeves hold margin during the day and none at the close
        margin.plot(
            daily.index,
            daily["peak_margin"],
            color="tab:purple",
            lw=0.8,
            ls="--",
            label="largest during the day",
        )
        margin.legend(fontsize=7, loc="upper left")
    margin.set_ylabel(f"margin ({currency})")
    margin.set_xlabel("date")
    margin.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _sleeve_rows(basket: Basket, out: Path) -> list[dict[str, Any]]:
    contribution = basket.contribution
    pnl_by = contribution["pnl"].astype(float).to_dict()
    share_by = contribution["share"].astype(float).to_dict()
    rows = []
    for sleeve in basket.sleeves:
        pnl = basket.sleeve_pnl[sleeve.name]
        equity = pnl.cumsum()
        template = sleeve.manifest.get("template") or {}
        tearsheet = sleeve.folder / "tearsheet.html"
        rows.append(
            {
                "name": sleeve.name,
                "template": f"{template.get('name')}@{template.get('version')}" if template else "",
                "weight": basket.weights[sleeve.name],
                "pnl": pnl_by[sleeve.name],
                "share": share_by[sleeve.name],
                "sharpe": sharpe(pnl.to_numpy(dtype=float)),
                "max_drawdown": float((equity - equity.cummax()).min()),
                "link": os.path.relpath(tearsheet, out) if tearsheet.exists() else None,
            }
        )
    return rows


def write_basket(basket: Basket, out: str | Path, *, capital: float, title: str = "Basket") -> Path:
    """Write the basket folder ``out`` (replaced atomically); returns it."""
    from workbench.analytics.analysis import analyse, jsonable
    from workbench.analytics.tearsheet import render_tearsheet

    out = Path(out)
    with replace_folder(out, ("basket.html", "manifest.json"), "a basket folder") as tmp:
        manifest = {**basket.manifest, "capital": capital, "title": title}
        inputs = basket_inputs(basket)
        analysis = analyse(
            basket,
            capital=capital,
            vix=inputs.vix.closes if inputs.vix is not None else None,
            vix_source=inputs.vix.source if inputs.vix is not None else "",
            benchmark=inputs.benchmark.closes if inputs.benchmark is not None else None,
            benchmark_name=inputs.benchmark.name if inputs.benchmark is not None else None,
            intraday=inputs.intraday,
        )
        analysis.notes.extend(inputs.notes)
        metrics = jsonable({**analysis.metrics, **analysis.trade_metrics, **basket.metrics})
        basket.tradebook.to_parquet(tmp / "tradebook.parquet", index=False)
        basket.daily.to_csv(tmp / "daily.csv", index=False, lineterminator="\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str))
        (tmp / "manifest.json").write_text(json.dumps(jsonable(manifest), indent=2, default=str))
        render_tearsheet(
            basket, tmp / "tearsheet.html", analysis=analysis, title=f"{title}: combined portfolio"
        )
        currency = str(basket.manifest.get("currency") or "money")
        fx = basket.manifest.get("fx")
        fx_note = (
            f"Sleeves converted to {currency} with {fx['pair']} at {fx['rule']}: "
            + ", ".join(f"{n} ({c})" for n, c in fx["converted"].items())
            + (
                f"; {fx['days_on_an_earlier_close']} day(s) used an earlier close"
                if fx["days_on_an_earlier_close"]
                else ""
            )
            + "."
            if fx
            else ""
        )
        from workbench.research import pages

        start = str(pd.Timestamp(basket.daily["date"].min()).date()) if len(basket.daily) else ""
        end = str(pd.Timestamp(basket.daily["date"].max()).date()) if len(basket.daily) else ""
        html = pages.render(
            "basket.html.j2",
            title=title,
            subtitle=f"{len(basket.sleeves)} sleeves, {start} to {end}; capital base "
            f"{capital:,.0f} {currency}",
            metrics=basket.metrics,
            capital=capital,
            currency=currency,
            fx_note=fx_note,
            sleeves=_sleeve_rows(basket, out),
            correlation=correlation_table(basket) if len(basket.sleeves) > 1 else None,
            equity_png=_png(equity_figure(basket, currency)),
        )
        (tmp / "basket.html").write_text(html, encoding="utf-8")
    return out
