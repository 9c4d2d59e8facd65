"""Response models of the monitoring API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AlertEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: int
    rule: str
    kind: str
    severity: str
    message: str
    value: float | None
    created_at: datetime
    channels: list[str]


class AlertsRead(BaseModel):
    firing: list[str]
    events: list[AlertEventRead]
