"""The demo data a newcomer sees: rooms that say what they offer and open by their rules,
colleagues to invite, and meetings already booked (one private), on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from mrs.accounts.models import User
from mrs.db.engine import make_sync_engine, sync_transaction
from mrs.demo import DEMO_MEETINGS, DEMO_ROOMS, load_demo_data
from mrs.reservations.models import Reservation, ReservationAttendee
from mrs.rooms.models import MeetingRoom, ReservableRoom, RoomEquipment
from mrs.settings import Settings
from tests.conftest import PINNED_NOW

pytestmark = pytest.mark.both_databases

# 2030-01-07 is a Monday: the demo meetings on the next three days all fall on weekdays.
MONDAY: datetime = PINNED_NOW


def test_the_demo_books_its_meetings_in_rooms_opened_by_their_rules(settings: Settings) -> None:
    engine = make_sync_engine(settings)
    try:
        assert load_demo_data(engine, settings, now=MONDAY)
        with sync_transaction(engine) as session:
            rooms = session.scalars(select(MeetingRoom)).all()
            assert len(rooms) == len(DEMO_ROOMS)
            assert all(room.auto_open and room.closed_on_holidays for room in rooms)
            assert session.scalar(select(func.count()).select_from(RoomEquipment)) >= len(rooms)
            open_weekdays = {
                day.isoweekday()
                for day in session.scalars(
                    select(ReservableRoom.reserved_date)
                    .join(MeetingRoom, MeetingRoom.room_id == ReservableRoom.room_id)
                    .where(MeetingRoom.room_name == "Sakura")
                )
            }
            assert open_weekdays == {1, 2, 3, 4, 5}
            meetings = session.scalars(select(Reservation)).all()
            assert len(meetings) == len(DEMO_MEETINGS)
            assert all(meeting.title for meeting in meetings)
            assert {meeting.visibility for meeting in meetings} == {"PUBLIC", "PRIVATE"}
            assert session.scalar(select(func.count()).select_from(ReservationAttendee)) >= 5
            assert session.scalar(select(func.count()).select_from(User)) == 6
        assert not load_demo_data(engine, settings, now=MONDAY)  # only into an empty site
    finally:
        engine.dispose()
