"""The store's tests run twice: on a SQLite file and on the real PostgreSQL server.

Each PostgreSQL test gets a schema of its own (a unique name, dropped afterwards) in the
database `test`, selected through the connection's search_path, so runs never collide. Without
a server the PostgreSQL half is skipped with the reason, unless $SEMIOLOGY_REQUIRE_POSTGRES is
set (as in .ci/run): then it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

from semiology.io.cache import save_record
from semiology.records import Keypoints, SeizureRecord
from semiology.store.accounts import add_site, add_user
from semiology.store.database import Store, init_store

POSTGRES_URL = os.environ.get("SEMIOLOGY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = "SEMIOLOGY_REQUIRE_POSTGRES"
SECRET = b"0123456789abcdef-test-site-secret"
PASSWORD = "correct horse battery"
ENGINES = ("sqlite", "postgresql")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def postgres_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    try:
        with psycopg.connect(_libpq(POSTGRES_URL), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at {POSTGRES_URL} ({str(exc).strip().splitlines()[0]})"
    return None


def postgres_schema_url(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema` (its tables and alembic_version live there)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL schema dropped after the test."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    problem = postgres_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_POSTGRES):
            pytest.fail(f"{problem}; ${REQUIRE_POSTGRES} is set, so the PostgreSQL tests must run")
        pytest.skip(f"{problem}; set ${REQUIRE_POSTGRES}=1 to make this a failure")
    schema = f"semiology_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store at the newest schema."""
    with init_store(db_url) as opened:
        yield opened


@dataclass(frozen=True)
class People:
    """The users and the site the tests work with."""

    admin: str = "admin"
    alice: str = "alice"
    bob: str = "bob"
    rita: str = "rita"
    site: str = "emu-a"


@pytest.fixture
def people(store: Store) -> People:
    """An admin, two annotators (alice, bob), a reviewer (rita) and one site."""
    found = People()
    with store.session(actor="admin") as session:
        site = add_site(session, found.site, SECRET)
        add_user(session, found.admin, "admin", PASSWORD, site)
        add_user(session, found.alice, "annotator", PASSWORD, site)
        add_user(session, found.bob, "annotator", PASSWORD, site)
        add_user(session, found.rita, "reviewer", PASSWORD, site)
    return found


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A small CSV file (the values are written as given)."""
    lines = [",".join(header)] + [",".join("" if value is None else str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """A folder with three small video files and an image-sequence folder."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for index, name in enumerate(("a.mp4", "b.mp4", "c.mp4")):
        (folder / name).write_bytes(bytes([index]) * (100 + index))
    (folder / "frames").mkdir()
    (folder / "frames" / "0001.png").write_bytes(b"png")
    return folder


def cached_record(path: Path, seizure_id: str, subject_id: str, frames: int = 30, fps: float = 10.0, seed: int = 0) -> Path:
    """A small cached keypoint record (2D upper body in pixels, one joint undetected in the first frame)."""
    rng = np.random.default_rng(seed)
    coords = rng.uniform(10.0, 200.0, size=(frames, 11, 2)).astype(np.float32)
    confidence = np.full((frames, 11), 0.9, dtype=np.float32)
    coords[0, 4] = np.nan
    confidence[0, 4] = 0.0
    record = SeizureRecord(seizure_id=seizure_id, subject_id=subject_id, fps=fps, onset_s=0.5, offset_s=2.5, labels={},
                           body_2d=Keypoints(coords, confidence, "upper_body_11", fps, "test"))
    return save_record(record, path, config_hash="test")
