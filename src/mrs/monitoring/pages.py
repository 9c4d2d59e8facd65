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

from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.i18n import translate
from mrs.monitoring import health as health_checks
from mrs.monitoring import metrics, rules, service
from mrs.web.dependencies import PageAdmin, mark_page
from mrs.web.i18n import N_
from mrs.web.rendering import render

STATIC_DIR = Path(__file__).parent / "static"
REFRESH_SECONDS = 30
WINDOWS = ((N_("5 min"), 300), (N_("15 min"), 900), (N_("1 h"), 3600))
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

# The health components and the keys of their details (the API's names) as people read
# them; a key not listed (a job's name) is shown as it is.
COMPONENT_LABELS = {
    "db": N_("Database"),
    "diskSpace": N_("Disk space"),
    "memory": N_("Memory"),
    "backup": N_("Backup"),
    "reservations": N_("Reservations"),
}
DETAIL_LABELS = {
    "database": N_("Database"),
    "pool": N_("Connection pool"),
    "requestPool": N_("Request pool"),
    "size": N_("Size"),
    "inUse": N_("In use"),
    "idle": N_("Idle"),
    "overflow": N_("Overflow"),
    "max": N_("Maximum"),
    "open": N_("Open"),
    "waiting": N_("Waiting"),
    "error": N_("Error"),
    "latencyMs": N_("Latency (ms)"),
    "thresholdPercent": N_("Threshold (%)"),
    "data": N_("Data"),
    "backups": N_("Backups"),
    "path": N_("Path"),
    "total": N_("Total"),
    "free": N_("Free"),
    "freePercent": N_("Free (%)"),
    "processRss": N_("Process memory"),
    "pid": N_("Process ID"),
    "hostTotal": N_("Host memory"),
    "hostAvailable": N_("Host memory available"),
    "hostUsedPercent": N_("Host memory used (%)"),
    "reason": N_("Reason"),
    "lastSuccessAt": N_("Last success"),
    "lastFailureAt": N_("Last failure"),
    "maxAgeHours": N_("Maximum age (hours)"),
    "ageHours": N_("Age (hours)"),
    "lastError": N_("Last error"),
    "backgroundWorker": N_("Background jobs"),
    "running": N_("Running"),
    "jobs": N_("Jobs"),
    "lastFinishedAt": N_("Last finished"),
    "runs": N_("Runs"),
    "late": N_("Late"),
    "migrationsAtHead": N_("Schema up to date"),
    "mailOutbox": N_("Mail outbox"),
    "pending": N_("Pending"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "retried": N_("Retried"),
    "unclear": N_("Unclear"),
    "oldest_pending_seconds": N_("Oldest pending (s)"),
}
# Health states, alert rules and alert events (stored English constants) as people read them.
STATUS_LABELS = {
    "UP": N_("UP"),
    "WARN": N_("WARN"),
    "DOWN": N_("DOWN"),
    "UNKNOWN": N_("UNKNOWN"),
}
RULE_LABELS = {
    "db_connection": N_("Database connection"),
    "memory": N_("Memory"),
    "slow_requests": N_("Slow requests"),
    "response_time_p95": N_("Response time (p95)"),
    "error_rate": N_("Error rate"),
    "disk_space": N_("Disk space"),
    "backup": N_("Backup"),
}
EVENT_LABELS = {
    "FIRING": N_("Firing"),
    "REMINDER": N_("Reminder"),
    "RESOLVED": N_("Resolved"),
}
_YES_NO = {True: N_("Yes"), False: N_("No")}
# The health checks' own fixed explanations, translated when shown (the API keeps English).
_DETAIL_TEXTS = (
    N_("cannot read"),
    N_("backups are not set up in this build"),
    N_("no backup has run yet"),
    N_("the database is down"),
)


def _human_bytes(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _display(locale: str, details: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a component's details into (label, text) rows for people, in `locale`."""
    rows: list[tuple[str, str]] = []
    for key, value in details.items():
        name = DETAIL_LABELS.get(key)
        label = prefix + (translate(locale, name) if name else key)
        if isinstance(value, dict):
            rows.extend(_display(locale, value, f"{label} · "))
        elif isinstance(value, bool):
            rows.append((label, translate(locale, _YES_NO[value])))
        elif key in _BYTE_KEYS and isinstance(value, int | float):
            rows.append((label, _human_bytes(float(value))))
        elif isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
            rows.append((label, value[:19].replace("T", " ")))  # an ISO timestamp
        elif value in _DETAIL_TEXTS:
            rows.append((label, translate(locale, value)))
        else:
            rows.append((label, "–" if value is None else str(value)))
    return rows


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f} ms"


@router.get("/admin/monitoring", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    _admin: PageAdmin,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
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
                "rate": f"{window.requests_per_second:.2f}" if window else "–",
                "requests": f"{window.requests:.0f}" if window else "–",
                "errors": f"{window.error_rate * 100:.2f} %" if window else "–",
                "p50": _ms(window.p50 if window else None),
                "p95": _ms(window.p95 if window else None),
                "p99": _ms(window.p99 if window else None),
            }
        )
    series = _series(await service.sample_series(db, now=now, hours=1))
    charts = [
        _chart(N_("Requests per second"), N_("req/s"), [w.requests_per_second for _, w in series]),
        _chart(N_("Error rate"), "%", [w.error_rate * 100 for _, w in series]),
        _chart(N_("p95 response time"), "ms", [(w.p95 or 0.0) * 1000 for _, w in series], "{:.0f}"),
    ]
    context = {
        "status": status.value,
        "components": {
            name: {
                "label": COMPONENT_LABELS.get(name, name),
                "status": part.status.value,
                "rows": _display(locale, part.details),
            }
            for name, part in components.items()
        },
        "windows": windows,
        "charts": charts,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "today": await service.reservation_counts_today(db, now=now, settings=settings),
        "firing": [
            translate(locale, RULE_LABELS.get(rule, rule))
            for rule in await service.firing_rules(db)
        ],
        "alerts": await service.alert_history(db, limit=20),
        "now": now,
        "since": now - timedelta(hours=1),
        "refresh": REFRESH_SECONDS,
        "status_labels": STATUS_LABELS,
        "rule_labels": RULE_LABELS,
        "event_labels": EVENT_LABELS,
    }
    return render(request, "admin/monitoring.html", context)
