"""One module per schema revision; Alembic reads them in the order their `down_revision`s give."""
