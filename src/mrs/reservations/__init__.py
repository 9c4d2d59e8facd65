"""Reservations: rules, booking, cancelling."""
