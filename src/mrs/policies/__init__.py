"""Booking policies: per-room rules (length, how far ahead, notice, who may book) and
per-user quotas (future reservations, hours per week), checked before every booking."""
