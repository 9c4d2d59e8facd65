"""Demo data: rooms that say what they offer, opened by their rules for the coming weeks,
three users to sign in with, a few colleagues to invite, and meetings already booked, so
every page (the day timeline, a room's week, my week, free-room search) shows something."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.passwords import hash_password, verify_password
from mrs.db.engine import sync_transaction
from mrs.reservations.models import Reservation, ReservationAttendee, Visibility
from mrs.rooms.models import Equipment, MeetingRoom, ReservableRoom, RoomEquipment
from mrs.rooms.rules import OpeningRule, dates_to_open, public_holidays, weekdays_from_digits
from mrs.settings import Settings


@dataclass(frozen=True)
class DemoLogin:
    user_id: str
    password: str
    role: Role


DEMO_LOGINS = (
    DemoLogin("admin", "orange-meeting-42", Role.ADMIN),
    DemoLogin("alice", "blue-meeting-42", Role.USER),
    DemoLogin("bob", "green-meeting-42", Role.USER),
)
_NAMES = {"admin": ("Aiko", "Admin"), "alice": ("Alice", "Sato"), "bob": ("Bob", "Suzuki")}
# Colleagues to invite (no demo password: they cannot sign in).
DEMO_COLLEAGUES = (("tanaka", "太郎", "田中"), ("yamada", "花子", "山田"), ("ken", "Ken", "Ito"))
DEMO_ROOMS = (
    ("Sakura", 6, "3F East"),
    ("Fuji", 12, "3F West"),
    ("Momiji", 4, "4F"),
    ("Hinoki", 20, "5F Hall"),
    ("Kaede", 8, "4F"),
)
DEMO_DESCRIPTIONS = {
    "Fuji": "Large table, ceiling microphones for video calls.",
    "Hinoki": "Hall with a stage; chairs can be arranged theatre-style.",
    "Momiji": "Quiet room for calls and one-on-ones.",
}
DEMO_DAYS = 28
# Opening rules: (ISO weekdays, open, close) in minutes; the hall also opens at weekends.
_OFFICE_HOURS = ("12345", 8 * 60, 20 * 60)
DEMO_OPENING = {"Hinoki": ("1234567", 7 * 60, 22 * 60)}
# Meetings already booked: (room, days from today, start, end, owner, title, attendees,
# private). Days that are not open for the room are skipped.
DEMO_MEETINGS = (
    ("Fuji", 1, 10 * 60, 11 * 60, "alice", "Weekly sales meeting", ("bob", "tanaka"), False),
    ("Sakura", 1, 13 * 60, 14 * 60 + 30, "bob", "Design review", ("alice",), False),
    ("Momiji", 1, 9 * 60, 9 * 60 + 30, "alice", "1on1", ("ken",), True),
    ("Hinoki", 2, 15 * 60, 17 * 60, "admin", "All-hands", ("alice", "bob", "yamada"), False),
    ("Kaede", 2, 10 * 60, 12 * 60, "bob", "採用面接", ("yamada",), True),
    ("Fuji", 3, 16 * 60, 17 * 60, "alice", "Customer call", (), False),
)
# The equipment list (code, English, Japanese) and what each demo room offers.
DEMO_EQUIPMENT = (
    ("projector", "Projector", "プロジェクター"),
    ("display", "Display", "ディスプレイ"),
    ("video-conference", "Video conference", "ビデオ会議"),
    ("whiteboard", "Whiteboard", "ホワイトボード"),
    ("phone", "Phone", "電話"),
)
DEMO_ROOM_EQUIPMENT = {
    "Sakura": ("projector", "whiteboard"),
    "Fuji": ("projector", "display", "video-conference", "whiteboard"),
    "Momiji": ("display", "phone"),
    "Hinoki": ("projector", "video-conference", "phone"),
    "Kaede": ("whiteboard",),
}


def load_demo_data(engine: Engine, settings: Settings, *, now: datetime) -> bool:
    """Add the demo users and rooms unless there are users already; True when loaded."""
    today = now.astimezone(settings.tz).date()
    with sync_transaction(engine) as session:
        if session.scalar(select(func.count()).select_from(User)):
            return False
        for login in DEMO_LOGINS:
            first, last = _NAMES[login.user_id]
            session.add(
                User(
                    user_id=login.user_id,
                    first_name=first,
                    last_name=last,
                    email=f"{login.user_id}@example.com",
                    password_hash=hash_password(login.password),
                    role_name=login.role.value,
                    status=UserStatus.ACTIVE.value,
                    created_at=now,
                )
            )
        for user_id, first, last in DEMO_COLLEAGUES:
            session.add(
                User(
                    user_id=user_id,
                    first_name=first,
                    last_name=last,
                    email=f"{user_id}@example.com",
                    # A random password nobody knows: colleagues cannot sign in.
                    password_hash=hash_password(secrets.token_urlsafe(32)),
                    role_name=Role.USER.value,
                    status=UserStatus.ACTIVE.value,
                    created_at=now,
                )
            )
        rooms = []
        for name, capacity, location in DEMO_ROOMS:
            weekdays, open_minute, close_minute = DEMO_OPENING.get(name, _OFFICE_HOURS)
            rooms.append(
                MeetingRoom(
                    room_name=name,
                    capacity=capacity,
                    location=location,
                    description=DEMO_DESCRIPTIONS.get(name, ""),
                    active=True,
                    open_weekdays=weekdays,
                    open_minute=open_minute,
                    close_minute=close_minute,
                    auto_open=True,
                    closed_on_holidays=True,
                )
            )
        session.add_all(rooms)
        session.add_all(
            Equipment(equipment_code=code, name_en=name_en, name_ja=name_ja, created_at=now)
            for code, name_en, name_ja in DEMO_EQUIPMENT
        )
        session.flush()
        session.add_all(
            RoomEquipment(room_id=room.room_id, equipment_code=code)
            for room in rooms
            for code in DEMO_ROOM_EQUIPMENT.get(room.room_name, ())
        )
        last_day = today + timedelta(days=DEMO_DAYS - 1)
        holidays = public_holidays(settings.holiday_country, today, last_day)
        open_days = {
            room.room_id: dates_to_open(
                OpeningRule(
                    weekdays=weekdays_from_digits(room.open_weekdays),
                    open_minute=room.open_minute,
                    close_minute=room.close_minute,
                    auto_open=True,
                    closed_on_holidays=True,
                ),
                today,
                last_day,
                holidays,
                (),
            )
            for room in rooms
        }
        session.execute(
            insert(ReservableRoom),
            [
                {"reserved_date": day, "room_id": room_id, "is_open": True}
                for room_id, days in open_days.items()
                for day in days
            ],
        )
        _book_demo_meetings(session, rooms, open_days, today=today, now=now)
    return True


def _book_demo_meetings(
    session: Session,
    rooms: list[MeetingRoom],
    open_days: dict[int, list[date]],
    *,
    today: date,
    now: datetime,
) -> None:
    by_name = {room.room_name: room.room_id for room in rooms}
    for name, offset, start, end, owner, title, attendees, private in DEMO_MEETINGS:
        room_id, day = by_name[name], today + timedelta(days=offset)
        if day not in open_days[room_id]:
            continue
        meeting = Reservation(
            room_id=room_id,
            reserved_date=day,
            start_minute=start,
            end_minute=end,
            user_id=owner,
            title=title,
            visibility=(Visibility.PRIVATE if private else Visibility.PUBLIC).value,
            created_at=now,
        )
        session.add(meeting)
        session.flush()
        session.add_all(
            ReservationAttendee(reservation_id=meeting.reservation_id, user_id=user_id)
            for user_id in attendees
        )


def working_demo_logins(engine: Engine) -> list[DemoLogin]:
    """The demo logins that would still get in: the account is active and its password is
    still the demo one (an operator who changed it or removed the user is not listed)."""
    with sync_transaction(engine) as session:
        rows = session.execute(
            select(User.user_id, User.password_hash).where(
                User.user_id.in_([login.user_id for login in DEMO_LOGINS]),
                User.status == UserStatus.ACTIVE.value,
            )
        ).all()
    hashes = {user_id: password_hash for user_id, password_hash in rows}
    return [
        login
        for login in DEMO_LOGINS
        if login.user_id in hashes and verify_password(hashes[login.user_id], login.password)
    ]
