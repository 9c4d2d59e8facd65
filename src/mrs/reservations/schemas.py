"""Reservation request and response models."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from mrs.http.types import ClockTime, HourMinute, IsoDate


class ReservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: IsoDate
    start_time: HourMinute
    end_time: HourMinute


class ReservationRead(BaseModel):
    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: ClockTime
    end_time: ClockTime
    user_id: str
    user_name: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
