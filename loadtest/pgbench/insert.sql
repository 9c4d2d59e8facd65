-- The app's reservation insert (reservations/service.py, one round trip): insert only when
-- the room is open that day and nothing active overlaps; the exclusion constraint decides
-- races (ON CONFLICT DO NOTHING keeps pgbench's clients running instead of aborting).
-- :first_day is substituted by bench.py; rooms 1..50, days 0..:ndays-1.
\set room random(1, 50)
\set day random(0, :ndays - 1)
\set slot random(16, 39)
\set len random(1, 2)
WITH slot AS (
    SELECT 1 AS ok FROM reservable_room
    WHERE room_id = :room AND reserved_date = DATE :first_day + :day AND is_open FOR SHARE
)
INSERT INTO reservation (room_id, reserved_date, start_minute, end_minute, user_id, status, created_at)
SELECT :room, DATE :first_day + :day, :slot * 30, (:slot + :len) * 30, 'load0000', 'ACTIVE', now()
FROM slot
WHERE NOT EXISTS (
    SELECT 1 FROM reservation AS other
    WHERE other.room_id = :room AND other.reserved_date = DATE :first_day + :day
      AND other.status = 'ACTIVE'
      AND other.start_minute < (:slot + :len) * 30 AND other.end_minute > :slot * 30
)
ON CONFLICT DO NOTHING
RETURNING reservation_id;
