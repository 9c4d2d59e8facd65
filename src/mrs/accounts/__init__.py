"""Accounts: users, passwords, tokens, login."""
