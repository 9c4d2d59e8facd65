"""The hot statements over the reservation table, written once as SQLAlchemy Core.

Built from the `Table` objects, so the imports say which package reads which table.
Each is built once (per dialect where they differ) and kept: `Database.read`/`write`
compile a statement once for the psycopg fast path and remember it, and every parameter
is a named `bindparam`, never a literal value, because that path sends only the
parameters it is given.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    false,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)

from mrs.accounts.models import User, UserStatus
from mrs.db.types import UTCDateTime
from mrs.policies import enforcement as policies
from mrs.reservations import changes
from mrs.reservations.models import (
    SLOT_HOLDING,
    Reservation,
    ReservationAttendee,
    ReservationDelegate,
    ReservationSeries,
    ReservationStatus,
    SeriesAttendee,
)
from mrs.rooms import availability
from mrs.rooms.models import MeetingRoom

reservation: Table = Reservation.__table__  # type: ignore[assignment]
meeting_room: Table = MeetingRoom.__table__  # type: ignore[assignment]
usr: Table = User.__table__  # type: ignore[assignment]
reservation_attendee: Table = ReservationAttendee.__table__  # type: ignore[assignment]
reservation_series: Table = ReservationSeries.__table__  # type: ignore[assignment]
series_attendee: Table = SeriesAttendee.__table__  # type: ignore[assignment]
reservation_delegate: Table = ReservationDelegate.__table__  # type: ignore[assignment]

ROOM_ID = bindparam("room_id", type_=Integer())
DAY = bindparam("day", type_=Date())
_START = bindparam("start_minute", type_=Integer())
_END = bindparam("end_minute", type_=Integer())
_RESERVATION_ID = bindparam("reservation_id", type_=Integer())
_NOW = bindparam("now", type_=UTCDateTime())
# An UPDATE may not bind names of the table's columns: a change names its own.
_MOVING_ID = bindparam("moving_id", type_=Integer())
_TO_ROOM_ID = bindparam("to_room_id", type_=Integer())
_TO_DAY = bindparam("to_day", type_=Date())
_TO_START = bindparam("to_start", type_=Integer())
_TO_END = bindparam("to_end", type_=Integer())
# What a meeting is, as given: the same parameters for reserving and for changing.
_MEETING = {
    "title": bindparam("title", type_=String()),
    "description": bindparam("description", type_=String()),
    "visibility": bindparam("visibility", type_=String()),
}
# Who made the booking when not its owner (a delegate or an administrator); NULL else.
_BOOKED_BY = bindparam("booked_by", type_=String())
_ACTIVE_USER = literal_column(f"'{UserStatus.ACTIVE.value}'", String())
_ACTIVE_VALUE = literal_column(f"'{ReservationStatus.ACTIVE.value}'", String())


_PENDING_VALUE = literal_column(f"'{ReservationStatus.PENDING.value}'", String())
# `SLOT_HOLDING` as literals: renders `status IN ('ACTIVE', 'PENDING')`, textually the
# partial index's predicate, so SQLite uses `ix_reservation_active_day` (bound parameters
# would not match it).
_SLOT_HOLDING_VALUES = [literal_column(f"'{status}'", String()) for status in SLOT_HOLDING]


def holds_slot(table: Any) -> ColumnElement[bool]:
    """The reservations of `table` (the table or an alias) that hold their slot: ACTIVE
    and PENDING (a booking waiting for approval keeps its time until it is decided)."""
    return table.c.status.in_(_SLOT_HOLDING_VALUES)  # type: ignore[no-any-return]


def _attendees(dialect: str) -> Any:
    """A reservation's attendees as one JSON array of [user_id, first_name, last_name]
    (NULL when none): a column of the view row, so a list stays one statement."""
    person = usr.alias("attendee_user")
    if dialect == "postgresql":
        packed = func.json_agg(
            func.json_build_array(
                reservation_attendee.c.user_id, person.c.first_name, person.c.last_name
            )
        )
    else:
        packed = func.json_group_array(
            func.json_array(reservation_attendee.c.user_id, person.c.first_name, person.c.last_name)
        )
    return (
        select(packed)
        .select_from(
            reservation_attendee.join(person, person.c.user_id == reservation_attendee.c.user_id)
        )
        .where(reservation_attendee.c.reservation_id == reservation.c.reservation_id)
        .scalar_subquery()
        .label("attendees")
    )


def _view(dialect: str) -> Select[Any]:
    """A reservation with its room's name, its owner's names and its attendees (a
    ReservationView row)."""
    return select(
        reservation.c.reservation_id,
        reservation.c.room_id,
        meeting_room.c.room_name,
        reservation.c.reserved_date,
        reservation.c.start_minute,
        reservation.c.end_minute,
        reservation.c.user_id,
        usr.c.first_name,
        usr.c.last_name,
        reservation.c.status,
        reservation.c.created_at,
        reservation.c.cancelled_at,
        reservation.c.cancelled_by,
        reservation.c.title,
        reservation.c.description,
        reservation.c.visibility,
        reservation.c.version,
        reservation.c.updated_at,
        reservation.c.series_id,
        reservation.c.is_exception,
        reservation.c.booked_by,
        _attendees(dialect),
    ).select_from(
        reservation.join(meeting_room, meeting_room.c.room_id == reservation.c.room_id).join(
            usr, usr.c.user_id == reservation.c.user_id
        )
    )


@cache
def reservation_by_id(dialect: str) -> Select[Any]:
    return _view(dialect).where(reservation.c.reservation_id == _RESERVATION_ID)


@cache
def room_day(dialect: str) -> Select[Any]:
    """The active reservations of a room on a day, in time order."""
    return (
        _view(dialect)
        .where(
            reservation.c.room_id == ROOM_ID,
            reservation.c.reserved_date == DAY,
            holds_slot(reservation),
        )
        .order_by(reservation.c.start_minute)
    )


@cache
def room_range(dialect: str) -> Select[Any]:
    """The active reservations of a room from `from_day` to `to_day`, by date and time."""
    return (
        _view(dialect)
        .where(
            reservation.c.room_id == ROOM_ID,
            reservation.c.reserved_date >= bindparam("from_day", type_=Date()),
            reservation.c.reserved_date <= bindparam("to_day", type_=Date()),
            holds_slot(reservation),
        )
        .order_by(reservation.c.reserved_date, reservation.c.start_minute)
    )


@cache
def of_user(dialect: str) -> Select[Any]:
    """The reservations a user owns (also those a delegate booked for them) or attends,
    latest first."""
    user_id = bindparam("user_id", type_=String())
    attending = select(reservation_attendee.c.reservation_id).where(
        reservation_attendee.c.user_id == user_id
    )
    return (
        _view(dialect)
        .where((reservation.c.user_id == user_id) | reservation.c.reservation_id.in_(attending))
        .order_by(reservation.c.reserved_date.desc(), reservation.c.start_minute.desc())
        .limit(bindparam("limit", type_=Integer()))
    )


@cache
def booked_for_principals(dialect: str) -> Select[Any]:
    """The reservations the delegate `user_id` booked for the users who name them now,
    latest first. Reached through the owners (`ix_reservation_user_day`): `booked_by`
    has no index of its own, and a delegate's principals are few."""
    user_id = bindparam("user_id", type_=String())
    principals = select(reservation_delegate.c.principal_id).where(
        reservation_delegate.c.delegate_id == user_id
    )
    return (
        _view(dialect)
        .where(reservation.c.user_id.in_(principals), reservation.c.booked_by == user_id)
        .order_by(reservation.c.reserved_date.desc(), reservation.c.start_minute.desc())
        .limit(bindparam("limit", type_=Integer()))
    )


_SERIES_ID = bindparam("series_id", type_=Integer())
_FROM_DAY = bindparam("from_day", type_=Date())
_TO_DAY_INCLUSIVE = bindparam("to_day", type_=Date())


@cache
def series_occurrences(dialect: str) -> Select[Any]:
    """Every occurrence of the series `series_id` (any status), by rule date."""
    return (
        _view(dialect)
        .where(reservation.c.series_id == _SERIES_ID)
        .order_by(reservation.c.occurrence_date, reservation.c.reservation_id)
    )


@cache
def insert_occurrences() -> Any:
    """PostgreSQL only: the occurrences of a series on `days` (an array of dates), with
    `attendees` (an array of user ids) as each one's attendees, in one statement; their ids.
    Parameters as `insert_if_free` (without `day`) plus `series_id` and `status` (PENDING
    in a room requiring approval). No bookable or overlap condition here: the dates were
    judged in the same transaction, and the exclusion constraint refuses a race."""
    rule_day = (
        func.unnest(bindparam("days", type_=ARRAY(Date()))).table_valued("day").render_derived()
    )
    rows = select(
        ROOM_ID,
        rule_day.c.day,
        _START,
        _END,
        bindparam("user_id", type_=String()),
        _BOOKED_BY,
        bindparam("status", type_=String()),
        _NOW,
        *_MEETING.values(),
        _SERIES_ID,
        rule_day.c.day,
        false(),
    ).select_from(rule_day)
    made = (
        insert(reservation)
        .from_select(
            [
                "room_id",
                "reserved_date",
                "start_minute",
                "end_minute",
                "user_id",
                "booked_by",
                "status",
                "created_at",
                *_MEETING,
                "series_id",
                "occurrence_date",
                "is_exception",
            ],
            rows,
            # The database gives each its `ical_uid` (a bound Python default would be a
            # parameter the fast path never sends).
            include_defaults=False,
        )
        .returning(reservation.c.reservation_id)
        .cte("made")
    )
    invited = func.unnest(_INVITED).table_valued("user_id").render_derived()
    added = (
        insert(reservation_attendee)
        .from_select(
            ["reservation_id", "user_id"],
            select(made.c.reservation_id, invited.c.user_id).select_from(
                made.join(invited, true())
            ),
        )
        .cte("added")
    )
    return select(made.c.reservation_id).add_cte(added)


@cache
def bookable_dates(locked: bool, exclusive: bool = False) -> Select[Any]:
    """The dates from `from_day` to `to_day` on which the time range is bookable in the
    room (the one rule, `availability.bookable_slot`, asked for a range of dates at once).
    `locked`: FOR SHARE, as a single booking locks its date, so a closing waits for the
    series being written (never in a preview: it may run on a read-only connection);
    `exclusive` (with `locked`): FOR UPDATE, so single bookings of those dates wait too."""
    day = availability.reservable_room.c.reserved_date
    dates = (
        availability.bookable_slot(ROOM_ID, day, _START, _END)
        .with_only_columns(day)
        .where(day >= _FROM_DAY, day <= _TO_DAY_INCLUSIVE)
    )
    if not locked:
        return dates
    return dates.with_for_update(read=not exclusive, of=availability.reservable_room)


@cache
def taken_between() -> Select[Any]:
    """The active reservations of the room from `from_day` to `to_day` that overlap the
    time range (any date): what stands in the way of a series' occurrences."""
    return (
        select(
            reservation.c.reservation_id,
            reservation.c.reserved_date,
            reservation.c.start_minute,
            reservation.c.end_minute,
            reservation.c.series_id,
        )
        .where(
            reservation.c.room_id == ROOM_ID,
            reservation.c.reserved_date >= _FROM_DAY,
            reservation.c.reserved_date <= _TO_DAY_INCLUSIVE,
            holds_slot(reservation),
            reservation.c.start_minute < _END,
            reservation.c.end_minute > _START,
        )
        .order_by(reservation.c.reserved_date, reservation.c.start_minute)
    )


def _overlapping(
    table: Any, room_id: Any = ROOM_ID, day: Any = DAY, start: Any = _START, end: Any = _END
) -> ColumnElement[bool]:
    """Active reservations of `table` (the reservation table or an alias) in the way of
    the requested room, day and half-open time range."""
    return and_(
        table.c.room_id == room_id,
        table.c.reserved_date == day,
        holds_slot(table),
        table.c.start_minute < end,
        table.c.end_minute > start,
    )


FIRST_OVERLAP = (
    select(reservation.c.reservation_id, reservation.c.start_minute, reservation.c.end_minute)
    .where(_overlapping(reservation))
    .order_by(reservation.c.start_minute)
    .limit(literal_column("1", Integer()))
)
# The same for a reservation being moved: it is never in its own way.
FIRST_OVERLAP_OF_MOVE = (
    select(reservation.c.reservation_id, reservation.c.start_minute, reservation.c.end_minute)
    .where(_overlapping(reservation), reservation.c.reservation_id != _MOVING_ID)
    .order_by(reservation.c.start_minute)
    .limit(literal_column("1", Integer()))
)


# The invited attendees of a booking (PostgreSQL array) and how many they are.
_INVITED = bindparam("attendees", type_=ARRAY(String()))
_INVITED_COUNT = bindparam("attendee_count", type_=Integer())


def _lock_date(slot: Select[Any]) -> Select[Any]:
    """`slot` locking its room's date row FOR NO KEY UPDATE, so the writes of one room on
    one day take turns.

    Racing inserts that overlap would otherwise each find the other's uncommitted row in
    the exclusion constraint and wait for each other: a deadlock PostgreSQL only breaks
    after `deadlock_timeout` (1 s). Under a burst of 120 clients these seconds added up
    past the statement timeout, and some bookings were answered 503 instead of 201 or 409.
    Taking turns, the second insert meets the first one's committed row and fails at once.
    An admin closing the date, or a series writing it, waits for the turn as well."""
    return slot.with_for_update(key_share=True, of=availability.reservable_room)


def _new_reservation(with_attendees: bool, ungoverned: bool = False, pending: bool = False) -> Any:
    """INSERT … SELECT of a reservation that only inserts when the room is bookable that
    day within its hours (the one rule, in the same statement: never only a pre-check), no
    active reservation overlaps and, `with_attendees`, every invited id is an active user.
    `ungoverned`: and only when no room policy or user quota governs the booking (the
    fast path; otherwise the policy is checked first and the plain statement used).
    `pending`: the booking waits for a room manager's approval (status PENDING)."""
    slot = _lock_date(availability.bookable_slot(ROOM_ID, DAY, _START, _END)).cte("slot")
    other = reservation.alias("other")
    conditions = [~exists().where(_overlapping(other))]
    if ungoverned:
        conditions.append(policies.ungoverned(ROOM_ID, bindparam("user_id", type_=String())))
    if with_attendees:
        invited = (
            select(func.count())
            .select_from(usr)
            .where(usr.c.user_id == any_(_INVITED), usr.c.status == _ACTIVE_USER)
            .scalar_subquery()
        )
        conditions.append(invited == _INVITED_COUNT)
    rows = (
        select(
            ROOM_ID,
            DAY,
            _START,
            _END,
            bindparam("user_id", type_=String()),
            _BOOKED_BY,
            _PENDING_VALUE if pending else _ACTIVE_VALUE,
            _NOW,
            *_MEETING.values(),
        )
        .select_from(slot)
        .where(*conditions)
    )
    return insert(reservation).from_select(
        [
            "room_id",
            "reserved_date",
            "start_minute",
            "end_minute",
            "user_id",
            "booked_by",
            "status",
            "created_at",
            *_MEETING,
        ],
        rows,
        include_defaults=False,  # the database gives it its `ical_uid`
    )


def _recorded(made: Any) -> list[Any]:
    """The change and audit rows of the new reservations `made`, as CTEs of the statement."""
    change, audited = changes.creations_of(made)
    return [change.cte("recorded"), audited.cte("audited")]


@cache
def insert_if_free(dialect: str, ungoverned: bool = False, pending: bool = False) -> Any:
    """Insert the reservation when it is free (`_new_reservation`, `ungoverned` and
    `pending` as there).

    PostgreSQL: one round trip that also records the change and its audit row
    (`changes.creations_of`, parameters `changes.creation_params`) and reads the new
    reservation's view back. SQLite allows no INSERT inside a WITH clause: it
    returns the id only, to be recorded and read after.
    """
    new = _new_reservation(with_attendees=False, ungoverned=ungoverned, pending=pending)
    if dialect != "postgresql":
        return new.returning(reservation.c.reservation_id)
    made = new.returning(*reservation.c).cte("new")
    recorded = _recorded(made)
    return (
        select(
            made,
            meeting_room.c.room_name,
            usr.c.first_name,
            usr.c.last_name,
            literal_column("NULL").label("attendees"),
        )
        .select_from(
            made.join(meeting_room, meeting_room.c.room_id == made.c.room_id).join(
                usr, usr.c.user_id == made.c.user_id
            )
        )
        .add_cte(*recorded)
    )


@cache
def insert_meeting_if_free(ungoverned: bool = False) -> Any:
    """PostgreSQL only: a reservation and its attendees in one statement (so one round trip
    in autocommit, all or nothing), recording the change and reading the new reservation's
    view back. Parameters as
    `insert_if_free` plus `attendees` (an array of user ids) and `attendee_count`; no row
    back when the room is closed, the time taken or an attendee is not an active user."""
    made = (
        _new_reservation(with_attendees=True, ungoverned=ungoverned)
        .returning(*reservation.c)
        .cte("new")
    )
    added = (
        insert(reservation_attendee)
        .from_select(
            ["reservation_id", "user_id"],
            select(made.c.reservation_id, usr.c.user_id)
            .select_from(made)
            .join(usr, usr.c.user_id == any_(_INVITED)),
        )
        .returning(reservation_attendee.c.user_id)
        .cte("added")
    )
    person = usr.alias("attendee_user")
    attendees = (
        select(
            func.json_agg(
                func.json_build_array(added.c.user_id, person.c.first_name, person.c.last_name)
            )
        )
        .select_from(added.join(person, person.c.user_id == added.c.user_id))
        .scalar_subquery()
        .label("attendees")
    )
    recorded = _recorded(made)
    return (
        select(made, meeting_room.c.room_name, usr.c.first_name, usr.c.last_name, attendees)
        .select_from(
            made.join(meeting_room, meeting_room.c.room_id == made.c.room_id).join(
                usr, usr.c.user_id == made.c.user_id
            )
        )
        .add_cte(*recorded)
    )


@cache
def active_users_among() -> Any:
    """PostgreSQL only: which of `attendees` (an array of ids) are active users."""
    return select(usr.c.user_id).where(
        usr.c.user_id == any_(_INVITED), usr.c.status == _ACTIVE_USER
    )


@cache
def change_if_free() -> Any:
    """Change an active reservation (time, room, what the meeting is) in one UPDATE that
    succeeds only when the target room is bookable that day (the one rule; the date row
    locked as reserving locks it, `_lock_date`) and no other active reservation overlaps.

    Parameters: `moving_id`, the target `to_room_id`/`to_day`/`to_start`/`to_end`, the
    meeting fields as `new_*` and `changed_at`. No row back: refused, nothing changed.
    """
    other = reservation.alias("other")
    bookable = _lock_date(availability.bookable_slot(_TO_ROOM_ID, _TO_DAY, _TO_START, _TO_END))
    return (
        update(reservation)
        .where(
            reservation.c.reservation_id == _MOVING_ID,
            holds_slot(reservation),
            exists(bookable),
            ~exists().where(
                _overlapping(other, _TO_ROOM_ID, _TO_DAY, _TO_START, _TO_END),
                other.c.reservation_id != _MOVING_ID,
            ),
        )
        .values(
            room_id=_TO_ROOM_ID,
            reserved_date=_TO_DAY,
            start_minute=_TO_START,
            end_minute=_TO_END,
            **_changed_details(),
        )
        .returning(reservation.c.reservation_id, reservation.c.version)
    )


def _changed_details() -> dict[str, Any]:
    return {
        **{name: bindparam(f"new_{name}", type_=String()) for name in _MEETING},
        # An occurrence changed on its own is an exception: a series edit leaves it alone.
        "is_exception": reservation.c.series_id.is_not(None),
        "version": reservation.c.version + literal_column("1", Integer()),
        "updated_at": bindparam("changed_at", type_=UTCDateTime()),
    }


@cache
def change_details() -> Any:
    """Change what an active reservation is (title, description, visibility), not when
    or where: no bookable or overlap condition. No row back: it is no longer active."""
    return (
        update(reservation)
        .where(reservation.c.reservation_id == _MOVING_ID, holds_slot(reservation))
        .values(**_changed_details())
        .returning(reservation.c.reservation_id, reservation.c.version)
    )


@cache
def timelines_of_day(dialect: str) -> Select[Any]:
    """One row per room bookable on `day` (by name) with its taken times packed as
    "540-600,600-660": a row per reservation (500 for 50 busy rooms) cost the page more
    to fetch than the packing does."""
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    packed = (
        cast(reservation.c.start_minute, String())
        + literal_column("'-'")
        + cast(reservation.c.end_minute, String())
    )
    taken = (
        select(reservation.c.room_id, aggregate(packed, literal_column("','")).label("ranges"))
        .where(reservation.c.reserved_date == DAY, holds_slot(reservation))
        .group_by(reservation.c.room_id)
        .subquery("taken")
    )
    return (
        select(
            meeting_room.c.room_id,
            meeting_room.c.room_name,
            meeting_room.c.capacity,
            meeting_room.c.location,
            taken.c.ranges,
        )
        .select_from(
            availability.room_days().outerjoin(taken, taken.c.room_id == meeting_room.c.room_id)
        )
        .where(availability.reservable_room.c.reserved_date == DAY, availability.is_bookable())
        .order_by(meeting_room.c.room_name, meeting_room.c.room_id)
    )
