"""Delegates (代理予約): a user (the principal) names delegates who may book, edit and
cancel for them.

The permission itself is one pure rule, `rules.may_act_for` (owner, administrator, or a
delegate of the owner); this module owns the delegate list and the one lookup that tells
the rule whether an actor is the owner's delegate (`acting_for`), asked inside the
transaction that makes the change, so a removed delegate loses the right at once.

A booking made for someone is theirs: `user_id` is the principal (their policies, groups
and quota apply), `booked_by` the caller (`booking_owner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts import users
from mrs.accounts.models import User, UserStatus
from mrs.accounts.rules import normalize_user_id
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.i18n import DEFAULT_LOCALE, display_name
from mrs.reservations import rules
from mrs.reservations.errors import (
    InvalidDelegates,
    NotADelegate,
    PersonAmbiguous,
    PersonNotFound,
    TooManyDelegates,
    UnknownPrincipal,
)
from mrs.reservations.models import ReservationDelegate

# Enough for a secretary's team; a list longer than this is a group, not delegates.
MAX_DELEGATES = 20
AUDIT_ACTION = "user.delegates"


# --- pure rules ---


def wanted_delegates(principal_id: str, requested: Iterable[str]) -> list[str]:
    """The delegate ids to store: normalised, each once, in the order given; refused when
    more than MAX_DELEGATES or naming the principal (nobody is their own delegate)."""
    wanted: dict[str, None] = {}
    for user_id in requested:
        normal = normalize_user_id(user_id)
        if normal:
            wanted.setdefault(normal, None)
    if len(wanted) > MAX_DELEGATES:
        raise TooManyDelegates(
            details={"field": "user_ids", "count": len(wanted)}, max_delegates=MAX_DELEGATES
        )
    return list(wanted)


def invalid_delegates(bad: Sequence[str]) -> InvalidDelegates:
    return InvalidDelegates(
        details={"field": "user_ids", "user_ids": list(bad)}, user_ids=", ".join(bad)
    )


# --- reading and replacing the list ---


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


@dataclass(frozen=True)
class Delegation:
    """Whom a user named as delegates, and for whom they are one (`principals`)."""

    delegates: list[Person]
    principals: list[Person]


async def _people(
    session: AsyncSession, column: object, where: object, locale: str
) -> list[Person]:
    rows = await session.execute(
        select(User.user_id, User.first_name, User.last_name)
        .join(ReservationDelegate, User.user_id == column)
        .where(where)  # type: ignore[arg-type]
        .order_by(User.user_id)
    )
    return [
        Person(row.user_id, display_name(locale, row.first_name, row.last_name) or row.user_id)
        for row in rows
    ]


async def _delegation_in(session: AsyncSession, user_id: str, locale: str) -> Delegation:
    delegates = await _people(
        session,
        ReservationDelegate.delegate_id,
        ReservationDelegate.principal_id == user_id,
        locale,
    )
    principals = await _people(
        session,
        ReservationDelegate.principal_id,
        and_(
            ReservationDelegate.delegate_id == user_id,
            User.status == UserStatus.ACTIVE.value,
        ),
        locale,
    )
    return Delegation(delegates=delegates, principals=principals)


async def delegation_of(db: Database, *, user_id: str, locale: str = DEFAULT_LOCALE) -> Delegation:
    """The user's delegates, and the active users who named them as one."""
    async with db.snapshot() as session:
        return await _delegation_in(session, user_id, locale)


async def replace_delegates(
    db: Database,
    *,
    principal_id: str,
    user_ids: Iterable[str],
    now: datetime,
    locale: str = DEFAULT_LOCALE,
) -> Delegation:
    """The principal's delegates become exactly `user_ids` (active users other than the
    principal, at most MAX_DELEGATES; else 422 naming the ids that cannot be, and nothing
    changes). A change is audited with the list before and after."""
    wanted = wanted_delegates(principal_id, user_ids)
    async with db.transaction() as session:
        active = set(
            (
                await session.scalars(
                    select(User.user_id).where(
                        User.user_id.in_(wanted), User.status == UserStatus.ACTIVE.value
                    )
                )
            ).all()
            if wanted
            else ()
        )
        bad = [user_id for user_id in wanted if user_id == principal_id or user_id not in active]
        if bad:
            raise invalid_delegates(bad)
        current = set(
            (
                await session.scalars(
                    select(ReservationDelegate.delegate_id).where(
                        ReservationDelegate.principal_id == principal_id
                    )
                )
            ).all()
        )
        removed = current - set(wanted)
        added = [user_id for user_id in wanted if user_id not in current]
        if removed:
            await session.execute(
                delete(ReservationDelegate).where(
                    ReservationDelegate.principal_id == principal_id,
                    ReservationDelegate.delegate_id.in_(removed),
                )
            )
        if added:
            await session.execute(
                insert(ReservationDelegate),
                [
                    {"principal_id": principal_id, "delegate_id": user_id, "created_at": now}
                    for user_id in added
                ],
            )
        if removed or added:
            await audit.record(
                session,
                action=AUDIT_ACTION,
                subject_type="user",
                subject_id=principal_id,
                before={"delegates": sorted(current)},
                after={"delegates": sorted(wanted)},
                actor_id=principal_id,
                at=now,
            )
        return await _delegation_in(session, principal_id, locale)


async def names_of(
    db: Database, user_ids: Iterable[str | None], locale: str = DEFAULT_LOCALE
) -> dict[str, str]:
    """The names of the given users in the reader's language (pages saying who booked
    a reservation for its owner: "booked by X for Y")."""
    wanted = sorted({user_id for user_id in user_ids if user_id})
    if not wanted:
        return {}
    async with db.snapshot() as session:
        rows = await session.execute(
            select(User.user_id, User.first_name, User.last_name).where(User.user_id.in_(wanted))
        )
        return {
            row.user_id: display_name(locale, row.first_name, row.last_name) or row.user_id
            for row in rows
        }


async def person_named(db: Database, *, text: str) -> str:
    """The active user `text` names, as a person types it on the page: their user id,
    else the one user whose name (either order), id or email starts with it; refused when
    nobody or several match (then naming them, so the id can be given)."""
    wanted = " ".join(text.split())
    found = await users.lookup_users(db, query=wanted)
    exact = [user.user_id for user in found if user.user_id == normalize_user_id(wanted)]
    if exact:
        return exact[0]
    if not found:
        raise PersonNotFound(person=wanted)
    if len(found) > 1:
        raise PersonAmbiguous(
            details={"field": "person", "user_ids": [user.user_id for user in found]},
            person=wanted,
            user_ids=", ".join(user.user_id for user in found),
        )
    return found[0].user_id


# --- the lookup behind `rules.may_act_for` ---


def _is_delegate(principal_id: str, delegate_id: str) -> object:
    return exists().where(
        ReservationDelegate.principal_id == principal_id,
        ReservationDelegate.delegate_id == delegate_id,
    )


async def acting_for(session: AsyncSession, actor: rules.Actor, owner_id: str) -> rules.Actor:
    """`actor` as `rules.may_act_for` should judge it for `owner_id`'s reservation or
    series: with the owner among its principals when the owner named it a delegate. Asks
    the database only when the actor is neither the owner nor an administrator, within
    the caller's transaction (the change and the permission are read together)."""
    if actor.is_admin or actor.user_id == owner_id or owner_id in actor.principals:
        return actor
    if await session.scalar(select(_is_delegate(owner_id, actor.user_id))):  # type: ignore[call-overload]
        return replace(actor, principals=actor.principals | {owner_id})
    return actor


async def booking_owner(
    db: Database, *, actor: rules.Actor, on_behalf_of: str | None
) -> tuple[str, str | None]:
    """Whose a new booking is and who booked it: (`actor`, None) for one's own, else
    (the principal, `actor`) when `rules.may_act_for` allows it (NotADelegate: 403) and
    the principal is an active user (UnknownPrincipal: 422)."""
    if on_behalf_of is None:
        return actor.user_id, None
    owner_id = normalize_user_id(on_behalf_of)
    if not owner_id or owner_id == actor.user_id:
        return actor.user_id, None
    async with db.snapshot() as session:
        found = (
            await session.execute(
                select(User.status, _is_delegate(owner_id, actor.user_id).label("named")).where(  # type: ignore[attr-defined]
                    User.user_id == owner_id
                )
            )
        ).first()
    if found is None or found.status != UserStatus.ACTIVE.value:
        raise UnknownPrincipal(user_id=owner_id)
    judged = replace(actor, principals=frozenset({owner_id})) if found.named else actor
    if not rules.may_act_for(judged, owner_id=owner_id):
        raise NotADelegate(user_id=owner_id)
    return owner_id, actor.user_id


async def actor_for(db: Database, actor: rules.Actor, owner_id: str) -> rules.Actor:
    """`acting_for` outside a change (pages deciding what to offer; the change itself
    asks again in its own transaction). No read for the owner or an administrator."""
    if actor.is_admin or actor.user_id == owner_id:
        return actor
    async with db.snapshot() as session:
        return await acting_for(session, actor, owner_id)


async def may_act_for(db: Database, actor: rules.Actor, owner_id: str) -> bool:
    """`rules.may_act_for` with the lookup (`actor_for`)."""
    return rules.may_act_for(await actor_for(db, actor, owner_id), owner_id=owner_id)
