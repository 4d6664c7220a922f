"""Alembic migrations of the label store, run programmatically by `semiology.store.migrate` (no alembic.ini needed)."""
