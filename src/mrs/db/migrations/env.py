"""Alembic environment: runs on the connection handed over by `mrs.db.migrate`."""

from __future__ import annotations

from alembic import context

from mrs.db.base import Base, import_all_models

import_all_models()
config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
