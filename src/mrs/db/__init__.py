"""Database access: engines, the unit of work, the declarative base and migrations."""
