"""Alembic's environment for the label store: migrate the connection that `semiology.store.migrate` hands over.

SQLite cannot alter most constraints in place, so its migrations run in Alembic's batch mode
(copy the table, alter, rename), which needs every constraint named: the schema's naming
convention does that.
"""

from __future__ import annotations

from alembic import context

from semiology.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the store's migrations run through semiology.store.migrate (tools/store.py init), which passes the database connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
