-- The app's room-day read (GET /api/rooms/{id}/reservations?date=…): the active
-- reservations of a room on a date with room and user names, in time order.
\set room random(1, 50)
\set day random(0, :ndays - 1)
SELECT r.reservation_id, r.room_id, m.room_name, r.reserved_date, r.start_minute,
       r.end_minute, r.user_id, u.first_name, u.last_name, r.status, r.created_at,
       r.cancelled_at, r.cancelled_by
FROM reservation AS r
JOIN meeting_room AS m ON m.room_id = r.room_id
JOIN usr AS u ON u.user_id = r.user_id
WHERE r.room_id = :room AND r.reserved_date = DATE :first_day + :day AND r.status = 'ACTIVE'
ORDER BY r.start_minute;
