"""Everyone's own quota and how much of it their reservations use."""

from __future__ import annotations

from fastapi import APIRouter

from mrs.accounts.dependencies import CurrentUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.policies.schemas import MyQuotaRead, QuotaLimits, QuotaUsage
from mrs.reservations import quota_usage

router = APIRouter(prefix="/api", tags=["policies"])


@router.get("/me/quota", response_model=MyQuotaRead)
async def my_quota(
    user: CurrentUser, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> MyQuotaRead:
    """My limits (null: no limit) and usage: reservations to come, hours booked this week."""
    quota, used = await quota_usage.my_quota(db, settings=settings, user_id=user.user_id, now=now)
    return MyQuotaRead(
        limits=QuotaLimits.of(quota),
        usage=QuotaUsage(
            future_reservations=used.future_reservations,
            week_start=used.week_start,
            hours_this_week=round(used.minutes_this_week / 60, 2),
        ),
    )
