"""Alembic: an empty database upgrades to exactly the ORM's schema, and down/up round trips leave it the same."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from semiology.store.cli import main
from semiology.store.database import init_store, make_engine, open_store
from semiology.store.errors import StoreError
from semiology.store.migrate import current_revision, downgrade, head_revision, revisions, upgrade
from semiology.store.schema import Base

TABLES = {"sites", "users", "patients", "seizures", "recordings", "task_labels", "sign_terms", "sign_labels", "window_predictions",
          "keypoint_corrections", "audit_log"}


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _schema_differences(engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def _check_names(engine) -> dict[str, set[str]]:
    inspector = inspect(engine)
    return {table: {check["name"] for check in inspector.get_check_constraints(table)} for table in TABLES}


def _sign_term_count(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM sign_terms")).scalar())


def test_upgrade_from_empty_gives_the_orm_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision() == revisions()[-1]
        assert _tables(engine) == TABLES
        assert _schema_differences(engine) == []
        expected = {table.name: {constraint.name for constraint in table.constraints if constraint.__class__.__name__ == "CheckConstraint"}
                    for table in Base.metadata.sorted_tables}
        assert _check_names(engine) == expected
        assert _sign_term_count(engine) == 20
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        before = _check_names(engine)
        downgrade(engine, revisions()[0])
        assert current_revision(engine) == "0001_initial"
        assert _sign_term_count(engine) == 0, "the vocabulary migration's downgrade removes the seeded terms"
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert _tables(engine) == set()
        upgrade(engine)
        assert _tables(engine) == TABLES
        assert _schema_differences(engine) == []
        assert _check_names(engine) == before
        assert _sign_term_count(engine) == 20
    finally:
        engine.dispose()


def test_an_old_schema_is_refused_with_the_command_that_fixes_it(db_url: str) -> None:
    init_store(db_url).close()
    engine = make_engine(db_url)
    downgrade(engine, "0001_initial")
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema revision 0001_initial, this semiology needs revision 0003_label_versions.*tools/store.py init"):
        open_store(db_url)
    init_store(db_url).close()
    open_store(db_url).close()


def test_a_missing_sqlite_store_is_not_created_by_opening_it(tmp_path) -> None:
    path = tmp_path / "nothing.sqlite"
    with pytest.raises(StoreError, match="no label store here; create one with: tools/store.py init"):
        open_store(path)
    assert not path.exists()


def test_the_migrate_command_goes_down_and_up(db_url: str, capsys) -> None:
    assert main(["init", "--db", db_url]) == 0
    assert main(["migrate", "--db", db_url, "--to", "base"]) == 0
    assert "0003_label_versions -> none" in capsys.readouterr().out
    assert main(["migrate", "--db", db_url, "--to", "head"]) == 0
    assert "none -> 0003_label_versions" in capsys.readouterr().out
    assert main(["migrate", "--db", db_url, "--to", "nonsense"]) == 2
    assert "unknown schema revision 'nonsense'" in capsys.readouterr().err
