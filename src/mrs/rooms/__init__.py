"""Rooms: meeting rooms and the dates they are open for reservation."""
