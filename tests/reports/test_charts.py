"""The server-drawn bar charts' geometry (no database)."""

from __future__ import annotations

from mrs.web.charts import PLOT_WIDTH, bar_chart


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart([("a", 30, "30"), ("b", 60, "60"), ("c", 0, "0")])
    assert [bar.width for bar in chart.bars] == [PLOT_WIDTH / 2, PLOT_WIDTH, 0.0]
    assert [bar.y for bar in chart.bars] == [0, 30, 60]


def test_a_fixed_scale_caps_the_bars() -> None:
    chart = bar_chart([("a", 0.25, "25%"), ("b", 1.5, "150%")], scale=1.0)
    assert [bar.width for bar in chart.bars] == [PLOT_WIDTH / 4, PLOT_WIDTH]


def test_nothing_to_draw_is_empty_bars_not_an_error() -> None:
    assert [bar.width for bar in bar_chart([("a", 0, "0")]).bars] == [0.0]
    assert bar_chart([]).bars == []
