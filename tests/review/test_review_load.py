"""8 clients adding and editing labels on one seizure at once lose nothing (a bounded loop of a few seconds here;
`benchmarks/review_load.py` runs the full 30 s and prints the latencies)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.review_load import LoadResult, lost_writes, run_load
from tests.review.review_world import PASSWORD, Running, World, seed_world, serve

SECONDS = 4.0


def _check(result: LoadResult, db: str) -> None:
    assert not result.errors, result.errors[:5]
    assert len(result.created) >= 8 and len(result.edits) >= 8, (len(result.created), len(result.edits))
    assert lost_writes(db, result) == []


def test_eight_clients_lose_nothing_on_sqlite(running: Running, world: World) -> None:
    result = run_load(running.url, PASSWORD, world.seizure_a, SECONDS, clients=8)
    _check(result, world.db)


def test_eight_clients_lose_nothing_on_postgresql(postgres_db: str, tmp_path: Path) -> None:
    world = seed_world(postgres_db, tmp_path / "files")
    for served in serve(world):
        result = run_load(served.url, PASSWORD, world.seizure_a, SECONDS, clients=8)
    _check(result, world.db)


def test_the_check_finds_a_lost_write(running: Running, world: World) -> None:
    result = run_load(running.url, PASSWORD, world.seizure_a, 1.0, clients=2)
    label_id = next(iter(result.created))
    result.edits.append((label_id, 99, {"term": "tonic", "start_s": 0.0, "end_s": 0.1}))
    problems = lost_writes(world.db, result)
    assert any(f"label {label_id}" in problem for problem in problems)
