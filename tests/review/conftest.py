"""Fixtures of the review app's tests: a seeded store on SQLite (and on PostgreSQL where asked) and the app served on loopback."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.review.review_world import POSTGRES_URL, REQUIRE_POSTGRES, Running, World, seed_world, serve


def postgres_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {POSTGRES_URL} ({str(exc).strip().splitlines()[0]})"
    return None


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A new schema on the PostgreSQL server, dropped after the test (skipped without a server unless $SEMIOLOGY_REQUIRE_POSTGRES)."""
    problem = postgres_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(f"{problem}; ${REQUIRE_POSTGRES} is set, so the PostgreSQL tests must run")
        pytest.skip(f"{problem}; set ${REQUIRE_POSTGRES}=1 to make this a failure")
    schema = f"semiology_review_{uuid.uuid4().hex[:12]}"
    libpq = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The review world seeded once per run (users' Argon2 hashes, videos, caches take seconds)."""
    return seed_world(str(tmp_path_factory.mktemp("review") / "store.sqlite"), tmp_path_factory.mktemp("review-files"))


@pytest.fixture
def world(template: World, tmp_path: Path) -> World:
    """A test's own copy of the seeded SQLite store (the files are shared and only read, but for the previews made once)."""
    db = tmp_path / "store.sqlite"
    shutil.copyfile(template.db, db)
    return dataclasses.replace(template, db=str(db))


@pytest.fixture
def running(world: World) -> Iterator[Running]:
    yield from serve(world)
