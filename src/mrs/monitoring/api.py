"""Health, metrics and alert routes (thin: the work is in health.py and service.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from mrs.background import BackgroundRunner
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.monitoring import health as health_checks
from mrs.monitoring import metrics, service
from mrs.monitoring.dependencies import ManagementAccess, RequiredManagement
from mrs.monitoring.schemas import AlertEventRead, AlertsRead
from mrs.ops.status import refresh_backup_metrics

router = APIRouter(tags=["monitoring"])
test_router = APIRouter(prefix="/api/test", tags=["test"], include_in_schema=False)


def _background(request: Request) -> BackgroundRunner | None:
    runner: BackgroundRunner | None = getattr(request.app.state, "background", None)
    return runner


@router.get("/health", responses={503: {"description": "A component is DOWN"}})
async def health(
    request: Request, db: DatabaseDep, settings: SettingsDep, now: NowDep, access: ManagementAccess
) -> JSONResponse:
    """The overall status for everyone; the components, with details, for admins and the
    management token (their names and states tell an outsider what runs here)."""
    status, components = await health_checks.health(db, settings, _background(request), now)
    body: dict[str, Any] = {"status": status.value}
    if access in ("admin", "token"):
        body["components"] = {
            name: part.as_dict(with_details=True) for name, part in components.items()
        }
    code = 503 if status == health_checks.Status.DOWN else 200
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


@router.get("/health/liveness")
async def liveness() -> JSONResponse:
    """The process answers (never touches the database)."""
    return JSONResponse({"status": "UP"}, headers={"Cache-Control": "no-store"})


@router.get("/health/readiness", responses={503: {"description": "Not ready"}})
async def readiness(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """Ready for traffic: the database answers and its schema is at head."""
    ready, components = await health_checks.readiness(db, settings)
    return JSONResponse(
        {"status": "UP" if ready else "DOWN", "components": components},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/metrics", response_class=Response)
async def prometheus_metrics(_access: RequiredManagement, db: DatabaseDep) -> Response:
    """Prometheus text exposition of every worker's metrics."""
    metrics.update_process_gauges(db)
    await refresh_backup_metrics(db)
    body, content_type = metrics.render_latest()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


@router.get("/api/admin/alerts", response_model=AlertsRead)
async def alerts(
    _access: RequiredManagement,
    db: DatabaseDep,
    limit: int = Query(default=100, ge=1, le=1000),
    rule: str | None = Query(default=None, max_length=64),
) -> AlertsRead:
    """Rules firing now and the alert history, newest first."""
    events = await service.alert_history(db, limit=limit, rule=rule)
    return AlertsRead(
        firing=await service.firing_rules(db),
        events=[AlertEventRead.model_validate(event) for event in events],
    )


@test_router.get("/slow")
async def slow(seconds: float = Query(default=1.0, ge=0, le=30)) -> dict[str, float]:
    """Answer after a delay: lets tests induce the slow-response alerts."""
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@test_router.get("/fail")
async def fail() -> None:
    """Fail with a server error: lets tests induce the error-rate alert."""
    raise RuntimeError("induced failure for a monitoring test")
