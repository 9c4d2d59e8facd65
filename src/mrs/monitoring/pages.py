"""The monitoring dashboard `/admin/monitoring` (admins only): one page of the site.

Rendered like every other page (mrs.web.rendering: the site header, ja/en, local times,
the page guard and its 403/login answers). No inline script or style (strict CSP): the
page refreshes itself with a meta refresh, its charts are inline SVG drawn with
presentation attributes, its own CSS is a static file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.monitoring import health as health_checks
from mrs.monitoring import metrics, rules, service
from mrs.web.dependencies import PageAdmin, mark_page
from mrs.web.i18n import N_
from mrs.web.rendering import render

STATIC_DIR = Path(__file__).parent / "static"
REFRESH_SECONDS = 30
WINDOWS = (("5 min", 300), ("15 min", 900), ("1 h", 3600))
CHART_WIDTH, CHART_HEIGHT = 300, 80

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    points: str  # an SVG polyline "x,y x,y ..."
    latest: str
    peak: str


def _chart(title: str, unit: str, values: list[float], fmt: str = "{:.2f}") -> Chart:
    if not values:
        return Chart(title, unit, "", "–", "–")
    peak = max(values) or 1.0
    step = CHART_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{CHART_HEIGHT - (v / peak) * (CHART_HEIGHT - 4):.1f}"
        for i, v in enumerate(values)
    )
    return Chart(title, unit, points, fmt.format(values[-1]), fmt.format(max(values)))


def _series(samples: list[Any]) -> list[tuple[datetime, rules.WindowStats]]:
    return [
        (
            newer.taken_at,
            service.window_between(older, newer, (newer.taken_at - older.taken_at).total_seconds()),
        )
        for older, newer in itertools.pairwise(samples)
    ]


_BYTE_KEYS = {"processRss", "hostTotal", "hostAvailable", "total", "free"}


def _human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _display(details: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a component's details into (label, text) rows for people."""
    rows: list[tuple[str, str]] = []
    for key, value in details.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_display(value, f"{label} · "))
        elif key in _BYTE_KEYS and isinstance(value, int | float):
            rows.append((label, _human_bytes(float(value))))
        elif isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
            rows.append((label, value[:19].replace("T", " ")))  # an ISO timestamp
        else:
            rows.append((label, "–" if value is None else str(value)))
    return rows


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f} ms"


@router.get("/admin/monitoring", response_class=HTMLResponse)
async def dashboard(
    request: Request, _admin: PageAdmin, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> HTMLResponse:
    status, components = await health_checks.health(
        db, settings, getattr(request.app.state, "background", None), now
    )
    current = metrics.request_totals()
    windows = []
    for label, seconds in WINDOWS:
        window = await service.recent_window(db, now=now, seconds=seconds, current=current)
        windows.append(
            {
                "label": label,
                "rate": f"{window.requests_per_second:.2f}/s" if window else "–",
                "requests": f"{window.requests:.0f}" if window else "–",
                "errors": f"{window.error_rate * 100:.2f} %" if window else "–",
                "p50": _ms(window.p50 if window else None),
                "p95": _ms(window.p95 if window else None),
                "p99": _ms(window.p99 if window else None),
            }
        )
    series = _series(await service.sample_series(db, now=now, hours=1))
    charts = [
        _chart(N_("Requests per second"), "req/s", [w.requests_per_second for _, w in series]),
        _chart(N_("Error rate"), "%", [w.error_rate * 100 for _, w in series]),
        _chart(N_("p95 response time"), "ms", [(w.p95 or 0.0) * 1000 for _, w in series], "{:.0f}"),
    ]
    context = {
        "status": status.value,
        "components": {
            name: {"status": part.status.value, "rows": _display(part.details)}
            for name, part in components.items()
        },
        "windows": windows,
        "charts": charts,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "today": await service.reservation_counts_today(db, now=now, settings=settings),
        "firing": await service.firing_rules(db),
        "alerts": await service.alert_history(db, limit=20),
        "now": now,
        "since": now - timedelta(hours=1),
        "refresh": REFRESH_SECONDS,
    }
    return render(request, "admin/monitoring.html", context)
