"""Registration and login figures, counted from the database (not from process metrics),
so every process and restart agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import LoginAttempt, RegistrationAttempt, User, UserStatus
from mrs.accounts.schemas import AccountStats
from mrs.db.engine import Database


def _rate(good: int, total: int) -> float | None:
    return round(good / total, 4) if total else None


async def _counts(session: AsyncSession, column: object, when: object) -> dict[str, int]:
    rows = await session.execute(
        select(column, func.count()).where(when).group_by(column)  # type: ignore[call-overload]
    )
    return {str(key): int(count) for key, count in rows.all()}


async def account_stats(db: Database, *, since: datetime) -> AccountStats:
    """Registration and login counts since `since`."""
    async with db.snapshot() as session:
        registrations = await _counts(
            session, RegistrationAttempt.outcome, RegistrationAttempt.attempted_at >= since
        )
        decided = await _counts(
            session, User.status, (User.decided_at >= since) & User.decided_by.is_not(None)
        )
        pending = await session.scalar(
            select(func.count()).where(User.status == UserStatus.PENDING.value)
        )
        logins = await _counts(session, LoginAttempt.outcome, LoginAttempt.attempted_at >= since)
    # An approved user may have been disabled since; they were still approved.
    rejected = decided.get(UserStatus.REJECTED.value, 0)
    approved = sum(decided.values()) - rejected
    submitted = registrations.get("SUBMITTED", 0)
    invalid, duplicate = registrations.get("INVALID", 0), registrations.get("DUPLICATE", 0)
    succeeded, failed = (
        logins.get("SUCCEEDED", 0),
        logins.get("FAILED", 0) + logins.get("CHECKING", 0),
    )
    refused, throttled = logins.get("REFUSED", 0), logins.get("THROTTLED", 0)
    return AccountStats(
        since=since,
        registrations_submitted=submitted,
        registrations_invalid=invalid,
        registrations_duplicate=duplicate,
        registration_success_rate=_rate(submitted, submitted + invalid + duplicate),
        registrations_approved=approved,
        registrations_rejected=rejected,
        registrations_pending=int(pending or 0),
        logins_succeeded=succeeded,
        logins_failed=failed,
        logins_refused=refused,
        logins_throttled=throttled,
        login_success_rate=_rate(succeeded, succeeded + failed + refused + throttled),
    )
