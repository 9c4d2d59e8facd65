"""Demo data: a few rooms opened for the coming weeks and three users to try them with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.passwords import hash_password, verify_password
from mrs.db.engine import sync_transaction
from mrs.rooms.models import Equipment, MeetingRoom, ReservableRoom, RoomEquipment
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
DEMO_ROOMS = (
    ("Sakura", 6, "3F East"),
    ("Fuji", 12, "3F West"),
    ("Momiji", 4, "4F"),
    ("Hinoki", 20, "5F Hall"),
    ("Kaede", 8, "4F"),
)
DEMO_DAYS = 28
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
        rooms = [
            MeetingRoom(room_name=name, capacity=capacity, location=location, active=True)
            for name, capacity, location in DEMO_ROOMS
        ]
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
        session.execute(
            insert(ReservableRoom),
            [
                {
                    "reserved_date": today + timedelta(days=offset),
                    "room_id": room.room_id,
                    "is_open": True,
                }
                for room in rooms
                for offset in range(DEMO_DAYS)
            ],
        )
    return True


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
