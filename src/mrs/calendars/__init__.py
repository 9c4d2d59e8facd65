"""Calendars: invitation mail with iCalendar parts, reminders, and subscribable feeds."""
