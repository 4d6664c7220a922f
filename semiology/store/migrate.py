"""Run the store's Alembic migrations from Python: no alembic.ini, no working directory to be in.

`upgrade(engine)` brings an empty or older database to the newest schema; `downgrade` goes back
(to `"base"`: no tables). The migration scripts live in `semiology/store/migrations/versions`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the store's scripts; `connection` is the database `env.py` migrates."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this semiology knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts under {MIGRATIONS}")
    return head


def revisions() -> list[str]:
    """Every schema revision, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database the store's migrations never touched."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to `revision` (default: the newest), in one transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to `revision` (`"base"`: before the first migration), in one transaction."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
