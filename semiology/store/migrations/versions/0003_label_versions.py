"""A version number on every sign label, so that two annotators editing one seizure never overwrite each other silently.

The review app sends the version it showed; the store changes a label only when that is still its
version (SQLAlchemy's `version_id_col`: the UPDATE or DELETE names the version, and a changed row
is refused). Existing labels start at version 1.

Revision ID: 0003_label_versions
Revises: 0002_sign_terms
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_label_versions"
down_revision = "0002_sign_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sign_labels") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("sign_labels") as batch:
        batch.drop_column("version")
