"""The declarative base with one constraint naming convention for every table."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Every domain's table module; Alembic and the data tools import them all through here.
MODEL_MODULES = (
    "mrs.accounts.models",
    "mrs.rooms.models",
    "mrs.reservations.models",
    "mrs.notifications.models",
    "mrs.calendars.models",
    "mrs.monitoring.models",
    "mrs.ops.models",
    "mrs.audit.models",
    "mrs.policies.models",
)


def import_all_models() -> None:
    """Import every domain's models so `Base.metadata` knows all tables."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
