"""Notifications: mail through a persistent outbox, sent by a background worker over SMTP."""
