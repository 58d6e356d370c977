"""What a reader would call a clipped or cluttered chart, found in a drawn matplotlib figure.

``text_problems(fig)`` draws the figure and lists:

* a visible text (title, label, tick label, legend entry, annotation) that reaches outside the
  figure: it is cut in the PNG;
* an axes title that overlaps another axes (a colour bar, a neighbouring panel);
* two tick labels of one axis that overlap each other;
* an axis label that overlaps the tick labels of a neighbouring axes.

A tolerance of 1 pixel absorbs rounding.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

TOL = 1.0


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return (
        inner.x0 >= outer.x0 - TOL
        and inner.y0 >= outer.y0 - TOL
        and inner.x1 <= outer.x1 + TOL
        and inner.y1 <= outer.y1 + TOL
    )


def _overlap(a: Bbox, b: Bbox) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > TOL and min(a.y1, b.y1) - max(a.y0, b.y0) > TOL


def _drawn_ticklabels(axis: Any) -> list[Text]:
    """The tick labels matplotlib draws: those of ticks inside the view interval."""
    lo, hi = sorted(axis.get_view_interval())
    span = max(hi - lo, 1e-12)
    out = []
    for tick in axis.get_major_ticks():
        loc = tick.get_loc()
        if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                out.append(label)
    return out


def _visible_texts(fig: Figure) -> list[Text]:
    ticklabels = {
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (tick.label1, tick.label2)
    }
    out = []
    for artist in fig.findobj(Text):
        if id(artist) in ticklabels:
            continue
        if not artist.get_visible() or not artist.get_text().strip():
            continue
        parent = artist.axes
        if parent is not None and not parent.get_visible():
            continue
        out.append(artist)
    for ax in fig.axes:
        if ax.get_visible():
            for axis in (ax.xaxis, ax.yaxis):
                out.extend(_drawn_ticklabels(axis))
    return out


def text_problems(fig: Figure) -> list[str]:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer: Any = canvas.get_renderer()
    frame = fig.bbox
    problems: list[str] = []
    for text in _visible_texts(fig):
        box = text.get_window_extent(renderer)
        if not _inside(box, frame):
            where = f"x {box.x0:.0f}..{box.x1:.0f}, y {box.y0:.0f}..{box.y1:.0f}"
            problems.append(
                f"text {text.get_text()!r} leaves the figure ({where} of "
                f"{frame.width:.0f} x {frame.height:.0f})"
            )
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for ax in axes:
        for title in (ax.title, ax._left_title, ax._right_title):  # type: ignore[attr-defined]
            if not title.get_text().strip():
                continue
            box = title.get_window_extent(renderer)
            for other in axes:
                if other is ax:
                    continue
                if _overlap(box, other.get_window_extent(renderer)):
                    problems.append(f"title {title.get_text()!r} runs over another axes")
        for axis in (ax.xaxis, ax.yaxis):
            labels = _drawn_ticklabels(axis)
            boxes = [t.get_window_extent(renderer) for t in labels]
            for i in range(len(boxes) - 1):
                for j in range(i + 1, len(boxes)):
                    if _overlap(boxes[i], boxes[j]):
                        problems.append(
                            f"tick labels {labels[i].get_text()!r} and "
                            f"{labels[j].get_text()!r} overlap"
                        )
        label_boxes = [
            lab.get_window_extent(renderer)
            for lab in (ax.xaxis.label, ax.yaxis.label)
            if lab.get_visible() and lab.get_text()
        ]
        for other in axes:
            if other is ax:
                continue
            ticks = [
                t.get_window_extent(renderer)
                for axis in (other.xaxis, other.yaxis)
                for t in _drawn_ticklabels(axis)
            ]
            for lb in label_boxes:
                if any(_overlap(lb, tb) for tb in ticks):
                    problems.append(f"an axis label of {ax} runs over tick labels of {other}")
                    break
    return problems
