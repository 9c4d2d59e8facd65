"""Everyone's own delegates (代理予約): whom I let book for me, and for whom I may."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from mrs.accounts.dependencies import CurrentUser
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep
from mrs.reservations import delegation

router = APIRouter(prefix="/api", tags=["reservations"])


class PersonRead(BaseModel):
    user_id: str
    name: str = Field(description="The person's name in the reader's language.")


class DelegatesRead(BaseModel):
    delegates: list[PersonRead] = Field(description="The users I let book, edit and cancel for me.")
    principals: list[PersonRead] = Field(
        description="The active users who named me as their delegate (I may book for them)."
    )


class DelegatesWrite(BaseModel):
    """My complete delegate list (user ids); it replaces the current one."""

    model_config = ConfigDict(extra="forbid")

    user_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        max_length=100,
        description=f"Active users other than me, at most {delegation.MAX_DELEGATES} "
        "(repeats are left out).",
    )


def _read(found: delegation.Delegation) -> DelegatesRead:
    return DelegatesRead(
        delegates=[PersonRead(user_id=p.user_id, name=p.name) for p in found.delegates],
        principals=[PersonRead(user_id=p.user_id, name=p.name) for p in found.principals],
    )


@router.get("/me/delegates", response_model=DelegatesRead)
async def my_delegates(user: CurrentUser, db: DatabaseDep, locale: LocaleDep) -> DelegatesRead:
    """My delegates, and whom I act for (`principals`)."""
    return _read(await delegation.delegation_of(db, user_id=user.user_id, locale=locale))


@router.put(
    "/me/delegates",
    response_model=DelegatesRead,
    responses={
        422: {
            "description": "An id is not an active user or is me (invalid_delegates, "
            "details.user_ids names them), or more than "
            f"{delegation.MAX_DELEGATES} (too_many_delegates)"
        }
    },
)
async def set_my_delegates(
    body: DelegatesWrite, user: CurrentUser, db: DatabaseDep, now: NowDep, locale: LocaleDep
) -> DelegatesRead:
    """Replace my delegates; a removed delegate loses the right at once."""
    found = await delegation.replace_delegates(
        db, principal_id=user.user_id, user_ids=body.user_ids, now=now, locale=locale
    )
    return _read(found)
