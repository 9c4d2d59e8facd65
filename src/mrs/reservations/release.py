"""The auto-release job: bookings nobody checked in to by start + grace free their slot.

Every minute the leader (one process across all that share the database: the job names a
lock, `mrs.db.leader`) reads the ACTIVE bookings of check-in rooms not checked in whose
deadline (`checkin.checkin_window`, in the site's wall time) has passed, and sets them
RELEASED in one conditional UPDATE per batch (`status = 'ACTIVE' AND checked_in_at IS
NULL`, RETURNING the rows it changed). Only the rows that UPDATE returned are audited
(`reservation.released`, actor the system) and mailed (a CANCELLED change for the
invitation job, which tells the owner in their language with a calendar CANCEL). So a
check-in racing the job either wins (the row is no longer "not checked in") or loses,
and a second runner finds nothing left to change: each no-show is released once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from mrs.background import Job, JobContext
from mrs.db.engine import Database
from mrs.policies.models import RoomPolicy
from mrs.reservations import changes, checkin
from mrs.reservations.models import ChangeKind, Reservation, ReservationStatus
from mrs.settings import Settings

logger = logging.getLogger(__name__)

JOB_NAME = "checkin-release"
RELEASED_ACTION = "reservation.released"
BATCH_SIZE = 200
# Start (≤ 24:00) + grace (≤ one day): a deadline falls at most two days after the date.
_LOOKBACK_DAYS = 2


async def overdue(db: Database, *, settings: Settings, now: datetime) -> dict[int, int]:
    """ACTIVE bookings in check-in rooms not checked in by start + grace: id → version
    (the version read, so a booking moved meanwhile is left for the next round)."""
    today = now.astimezone(settings.tz).date()
    async with db.snapshot() as session:
        rows = (
            await session.execute(
                select(
                    Reservation.reservation_id,
                    Reservation.version,
                    Reservation.reserved_date,
                    Reservation.start_minute,
                    RoomPolicy.checkin_grace_minutes,
                )
                .join(RoomPolicy, RoomPolicy.room_id == Reservation.room_id)
                .where(
                    RoomPolicy.checkin_required.is_(True),
                    checkin.awaiting_checkin(),
                    Reservation.reserved_date >= today - timedelta(days=_LOOKBACK_DAYS),
                    Reservation.reserved_date <= today,
                )
                .order_by(Reservation.reservation_id)
            )
        ).all()
    return {
        row.reservation_id: row.version
        for row in rows
        if checkin.checkin_window(
            row.reserved_date,
            row.start_minute,
            grace_minutes=checkin.grace_of(settings, row.checkin_grace_minutes),
            opens_minutes=settings.checkin_opens_minutes,
            tz=settings.tz,
        ).closes_at
        < now
    }


async def release_batch(db: Database, candidates: Mapping[int, int], *, now: datetime) -> list[int]:
    """Release those of `candidates` (id → version read) still ACTIVE, not checked in and
    unchanged, in one UPDATE; audit and mail each one released. The ids released."""
    if not candidates:
        return []
    async with db.transaction() as session:
        released = (
            await session.execute(
                update(Reservation)
                .where(
                    Reservation.reservation_id.in_(list(candidates)),
                    # Moved or changed since it was read: its deadline may be another now.
                    or_(
                        *(
                            and_(Reservation.reservation_id == each, Reservation.version == version)
                            for each, version in candidates.items()
                        )
                    ),
                    checkin.awaiting_checkin(),
                )
                .values(status=ReservationStatus.RELEASED.value, released_at=now)
                .returning(Reservation.reservation_id, Reservation.user_id, Reservation.series_id)
            )
        ).all()
        for row in sorted(released, key=lambda each: each.reservation_id):
            await changes.record(
                session,
                ChangeKind.CANCELLED,
                now=now,
                actor_id=None,
                reservation_id=row.reservation_id,
                owner_id=row.user_id,
                before={"status": ReservationStatus.ACTIVE.value},
                after={"status": ReservationStatus.RELEASED.value},
                occurrence=row.series_id is not None,
                action=RELEASED_ACTION,
            )
    return sorted(row.reservation_id for row in released)


async def release_no_shows(db: Database, *, settings: Settings, now: datetime) -> list[int]:
    """One round of the job: release every overdue booking, batch by batch."""
    found = await overdue(db, settings=settings, now=now)
    ids = sorted(found)
    released: list[int] = []
    for start in range(0, len(ids), BATCH_SIZE):
        batch = {each: found[each] for each in ids[start : start + BATCH_SIZE]}
        released += await release_batch(db, batch, now=now)
    if released:
        logger.info("check-in: released %s booking(s) nobody checked in to", len(released))
    return released


def jobs(context: JobContext) -> list[Job]:
    """Release no-shows every minute, in the leader process only."""
    db, settings, clock = context.db, context.settings, context.clock

    async def release() -> None:
        await release_no_shows(db, settings=settings, now=clock())

    return [Job(JOB_NAME, release, interval_seconds=60, leader_lock=JOB_NAME)]
