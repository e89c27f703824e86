"""Small inline SVG charts (no plotting library): a scatter plot with optional axes."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

#: Matplotlib's tab20 colours; clusters cycle through them, unassigned faces are grey.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#393b79", "#637939",
)  # fmt: skip
UNASSIGNED_COLOUR = "#9e9e9e"
MARGIN = 48
#: Space between the axes and the outermost points.
INSET_X, INSET_Y = 28, 10


def cluster_colour(cluster: int) -> str:
    return UNASSIGNED_COLOUR if cluster < 0 else PALETTE[cluster % len(PALETTE)]


def scale(
    values: np.ndarray, low: float, high: float, domain: np.ndarray | None = None
) -> np.ndarray:
    """``values`` mapped linearly from the range of ``domain`` (default: their own) onto [low, high].

    >>> scale(np.array([0.0, 5.0, 10.0]), 0, 100).tolist()
    [0.0, 50.0, 100.0]
    """
    values = np.asarray(values, dtype=float)
    domain = values if domain is None else domain
    span = float(domain.max() - domain.min()) if len(domain) else 0.0
    if span == 0:
        return np.full(len(values), (low + high) / 2)
    return low + (values - domain.min()) / span * (high - low)


def scatter(
    x: Sequence[float], y: Sequence[float], colours: Sequence[str], titles: Sequence[str], *,
    width: int = 640, height: int = 420, x_label: str = "", y_label: str = "",
    axes: bool = True, x_ticks: Sequence[tuple[float, str]] | None = None, radius: float = 3.5,
) -> str:  # fmt: skip
    """SVG markup of one dot per point; each dot's title shows on hover.

    ``x_ticks`` (value, text) replaces the numeric ticks of the x axis, e.g. for categories.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    margin = MARGIN if axes else 8
    frame = (margin, width - 12, 12, height - margin)  # left, right, top, bottom
    inner = (frame[0] + INSET_X, frame[1] - INSET_X, frame[2] + INSET_Y, frame[3] - INSET_Y)
    px, py = scale(x, inner[0], inner[1]), scale(y, inner[3], inner[2])
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">'
        )
    ]
    if axes:
        parts += axis_marks(x, y, frame, inner, x_ticks)
        parts += axis_labels(frame, x_label, y_label)
    parts += [
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}" fill-opacity="0.8">'
        f"<title>{escape(title)}</title></circle>"
        for cx, cy, colour, title in zip(px, py, colours, titles)
    ]
    parts.append("</svg>")
    return "".join(parts)


def axis_marks(x, y, frame, inner, x_ticks) -> list[str]:
    """Axis lines on the frame; five ticks per axis (or the given x ticks) placed like the points."""
    left, right, top, bottom = frame
    parts = [f'<path d="M{left},{top} V{bottom} H{right}" stroke="#555" fill="none"/>']
    if x_ticks is None:
        x_ticks = [(v, f"{v:.3g}") for v in np.linspace(x.min(), x.max(), 5)]
    tick_x = scale(np.array([v for v, _ in x_ticks]), inner[0], inner[1], domain=x)
    parts += [
        f'<text x="{at:.1f}" y="{bottom + 16}" text-anchor="middle" class="tick">{escape(text)}</text>'
        for at, (_, text) in zip(tick_x, x_ticks)
    ]
    y_ticks = np.linspace(y.min(), y.max(), 5)
    parts += [
        f'<text x="{left - 6}" y="{at + 4:.1f}" text-anchor="end" class="tick">{value:.3g}</text>'
        for value, at in zip(y_ticks, scale(y_ticks, inner[3], inner[2], domain=y))
    ]
    return parts


def axis_labels(frame, x_label: str, y_label: str) -> list[str]:
    left, right, top, bottom = frame
    return [
        (
            f'<text x="{(left + right) / 2}" y="{bottom + 36}" text-anchor="middle" class="axis">'
            f"{escape(x_label)}</text>"
        ),
        (
            f'<text transform="translate(12,{(top + bottom) / 2}) rotate(-90)" text-anchor="middle" '
            f'class="axis">{escape(y_label)}</text>'
        ),
    ]
