"""Bar charts drawn on the server as SVG geometry: pages stay readable without JavaScript,
and each chart's numbers are also in a table beside it (the SVG carries title and desc)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 160
VALUE_WIDTH = 80
PLOT_WIDTH = 400


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: int
    width: float  # of the bar, in the plot's units


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per (label, value), scaled so the largest value (or `scale`)
    fills the plot."""

    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    label_width: int = LABEL_WIDTH
    plot_width: int = PLOT_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(items: Sequence[tuple[str, float, str]], *, scale: float | None = None) -> BarChart:
    """`items` are (label, value, value as shown). Values below 0 draw nothing; with
    nothing to draw (all zero) every bar is empty, never a division by zero."""
    top = scale if scale is not None else max((value for _, value, _ in items), default=0)
    bars = [
        Bar(
            label=label,
            value_text=shown,
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=round(PLOT_WIDTH * min(max(value, 0) / top, 1), 1) if top > 0 else 0.0,
        )
        for index, (label, value, shown) in enumerate(items)
    ]
    return BarChart(bars=bars, height=max(len(bars) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT))
