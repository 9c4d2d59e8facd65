"""The app's alert evaluator, as its background runner holds it."""

from __future__ import annotations

from typing import Any

from mrs.monitoring.service import AlertEvaluator


def alert_evaluator(app: Any) -> AlertEvaluator:
    """The evaluator behind the "alerts" job of `app`."""
    evaluator = app.state.background.function("alerts")
    assert isinstance(evaluator, AlertEvaluator)
    return evaluator
