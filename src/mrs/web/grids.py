"""The grids of the views that help find a slot (pure functions, no database): the day
timeline (rooms as rows, slots as columns) and a room's week (slots as rows, days as
columns). Built as HTML in Python, like the rooms page's bars: the timeline of 200 rooms
has thousands of cells, and a template loop over them was most of a page's time. Every
piece of data that goes in is escaped here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from mrs.reservations.timelines import Booking
from mrs.wallclock import format_minute

# A slot nobody can book: gone ("p"), or outside the room's hours ("x", hatched).
_EMPTY_CELLS = {"past": '<td class="p"></td>', "closed": '<td class="x"></td>'}


def segments(
    bookings: Sequence[Booking],
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
    bookable: tuple[int, int] | None = None,
) -> list[tuple[int, int, str, Booking | None]]:
    """(start, slots, state, booking) from first to last minute: a booking covers every
    slot it touches (clipped to the grid), each other slot is free, or past once gone, or
    closed when outside the room's `bookable` hours (when given)."""
    out: list[tuple[int, int, str, Booking | None]] = []
    opens, closes = bookable or (first_minute, last_minute)

    def append(part: tuple[int, int, str, Booking | None]) -> None:
        start, _, state, _ = part
        if state == "free" and (start < opens or start + slot_minutes > closes):
            part = (start, 1, "closed", None)
        out.append(part)

    minute = first_minute
    for booking in sorted(bookings, key=_start):
        if booking.end_time <= minute:
            continue  # over before this slot (or shown with the one before)
        start = booking.start_time
        while minute < last_minute and start >= minute + slot_minutes:
            append((minute, 1, "past" if minute < gone_until else "free", None))
            minute += slot_minutes
        if minute >= last_minute:
            break
        end = min(last_minute, booking.end_time)
        end += (-(end - first_minute)) % slot_minutes
        end = min(end, last_minute)
        slots = max(1, (end - minute) // slot_minutes)
        append((minute, slots, "taken", booking))
        minute += slots * slot_minutes
    while minute < last_minute:
        append((minute, 1, "past" if minute < gone_until else "free", None))
        minute += slot_minutes
    return out


def _start(booking: Booking) -> int:
    return booking.start_time


def hour_heads(first_minute: int, last_minute: int, slot_minutes: int) -> Markup:
    """The column heads of a timeline: one per hour (spanning its slots), labelled HH:MM."""
    cells: list[str] = []
    minute = first_minute
    while minute < last_minute:
        hour_end = min(last_minute, (minute // 60 + 1) * 60)
        slots = max(1, -(-(hour_end - minute) // slot_minutes))
        cells.append(
            f'<th scope="colgroup" colspan="{slots}" class="hour">{format_minute(minute)}</th>'
        )
        minute += slots * slot_minutes
    return Markup("".join(cells))  # noqa: S704 - formatted digits only


BookingText = Callable[[Booking], str]


def series_marker(repeats_label: str) -> str:
    """The mark of a repeating meeting's date: an icon, and its words for screen readers
    (the same as the pages' `series_marker` macro)."""
    return (
        f' <span class="series-marker" title="{escape(repeats_label)}">'
        '<span aria-hidden="true">↻</span>'
        f'<span class="visually-hidden">{escape(repeats_label)}</span></span>'
    )


def _booking_cell(
    booking: Booking,
    text: BookingText,
    attribute: str,
    slots: int,
    *,
    mine: bool,
    marker: str,
) -> str:
    times = f"{format_minute(booking.start_time)}–{format_minute(booking.end_time)}"
    classes = "t mine" if mine else "t"
    if not booking.details_visible:
        classes += " private"
    repeats = marker if booking.series_id is not None else ""
    return (
        f'<td class="{classes}" {attribute}="{slots}"><span class="b">'
        f'<span class="bt">{times}</span> {escape(text(booking))}{repeats}</span></td>'
    )


class TimelineRows:
    """The lines of one day timeline page, room after room.

    Everything that is the same on every line is formatted once per page: a free slot's
    cell differs between rooms only by the room's part of its link, so the rest of it
    (the slot's times and the label for screen readers) is kept per slot start, and the
    "{count} seats" text per capacity. (Formatting each of 200 rooms × 24 cells afresh
    was most of the page's time.)
    """

    def __init__(
        self,
        *,
        iso_day: str,
        slot_minutes: int,
        text: BookingText,
        free_label: str,
        repeats_label: str,
        seats_label: Callable[[int], str],
        viewer_id: str,
    ) -> None:
        self._iso_day = iso_day
        self._slot = slot_minutes
        self._text = text
        self._free_label = escape(free_label)
        self._marker = series_marker(repeats_label)
        self._seats_label = seats_label
        self._viewer_id = viewer_id
        self._free_tails: dict[int, str] = {}
        self._seats: dict[int, str] = {}

    def _free_tail(self, start: int) -> str:
        tail = self._free_tails.get(start)
        if tail is None:
            start_text = format_minute(start)
            tail = (
                f'&amp;start={start_text}&amp;end={format_minute(start + self._slot)}">'
                f'<span class="visually-hidden">{self._free_label} {start_text}</span></a></td>'
            )
            self._free_tails[start] = tail
        return tail

    def _seats_text(self, capacity: int) -> str:
        seats = self._seats.get(capacity)
        if seats is None:
            seats = f' <span class="seats">{escape(self._seats_label(capacity))}</span>'
            self._seats[capacity] = seats
        return seats

    def line(
        self,
        room_id: int,
        room_name: str,
        capacity: int | None,
        parts: Sequence[tuple[int, int, str, Booking | None]],
    ) -> Markup:
        """A room's line: its name (a link to its week) and seats as the row's head, then
        the cells of `timeline_cells`."""
        head = (
            f'<tr><th scope="row" class="room-col"><a href="/rooms/{room_id}/week?date='
            f'{self._iso_day}">{escape(room_name)}</a>'
            f"{self._seats_text(capacity) if capacity else ''}</th>"
        )
        return Markup(  # noqa: S704 - user data escaped above and in timeline_cells
            head + self.cells(room_id, parts) + "</tr>"
        )

    def cells(self, room_id: int, parts: Sequence[tuple[int, int, str, Booking | None]]) -> str:
        """The cells of one room's line: bookings (spanning columns, with their text),
        free slots as links to the room's day with that slot chosen, past slots empty."""
        free_head = f'<td class="f"><a href="/rooms/{room_id}?date={self._iso_day}'
        cells: list[str] = []
        for start, slots, state, booking in parts:
            if booking is not None:
                cells.append(
                    _booking_cell(
                        booking,
                        self._text,
                        "colspan",
                        slots,
                        mine=booking.owner_id == self._viewer_id,
                        marker=self._marker,
                    )
                )
            elif state == "free":
                cells.append(free_head + self._free_tail(start))
            else:
                cells.append(_EMPTY_CELLS[state])
        return "".join(cells)


def week_rows(
    days: Sequence[date],
    columns: dict[date, list[tuple[int, int, str, Booking | None]] | None],
    *,
    first_minute: int,
    last_minute: int,
    slot_minutes: int,
    book_url: Callable[[date, int], str],
    text: BookingText,
    free_label: str,
    repeats_label: str,
    closed_label: str,
    viewer_id: str,
) -> Markup:
    """The body of a week: a row per slot, a column per day (None: not bookable that day,
    one cell down the whole column); bookings span the rows they hold."""
    total = max(1, (last_minute - first_minute) // slot_minutes)
    by_start: dict[date, dict[int, tuple[int, str, Booking | None]]] = {
        day: {start: (slots, state, booking) for start, slots, state, booking in parts}
        for day, parts in columns.items()
        if parts is not None
    }
    marker = series_marker(repeats_label)
    rows: list[str] = []
    for row in range(total):
        minute = first_minute + row * slot_minutes
        cells = [f'<th scope="row">{format_minute(minute)}</th>']
        for day in days:
            column = by_start.get(day)
            if column is None:
                if row == 0:
                    cells.append(
                        f'<td class="c" rowspan="{total}"><span>{escape(closed_label)}</span></td>'
                    )
                continue
            entry = column.get(minute)
            if entry is None:
                continue  # inside a booking that started above
            slots, state, booking = entry
            if booking is not None:
                cells.append(
                    _booking_cell(
                        booking,
                        text,
                        "rowspan",
                        slots,
                        mine=booking.owner_id == viewer_id,
                        marker=marker,
                    )
                )
            elif state == "free":
                cells.append(
                    f'<td class="f"><a href="{escape(book_url(day, minute))}">'
                    f'<span class="visually-hidden">{escape(free_label)} '
                    f"{day.isoformat()} {format_minute(minute)}</span></a></td>"
                )
            else:
                cells.append(_EMPTY_CELLS[state])
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return Markup("".join(rows))  # noqa: S704 - user data escaped above
