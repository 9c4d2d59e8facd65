"""Utilisation reports: read-only figures over rooms and their reservations."""
