"""Label writes under load against the review app: 8 clients adding and editing labels on one seizure, then the check that nothing was lost.

    python benchmarks/review_load.py [--seconds 30] [--clients 8] [--db postgresql+psycopg://...]

Serves the test world (`tests/review/review_world.py`: two sites, users, a seizure with its video
and keypoints) with uvicorn in a subprocess on a free loopback port, as `tools/review.py` does.
Each client signs in (four users, two sessions each), then until the time is up adds a label or
edits a random label it knows with the version it last read; now and then it rereads the
seizure's labels, so clients edit each other's labels too (a stale version gets 409, as designed:
not acknowledged; the client rereads). Printed: writes per second, the
latency of acknowledged writes (median, p95, max), conflicts, and the check that every
acknowledged write is in the database and in the audit log (each label's version is one plus its
acknowledged edits, its values those of its last acknowledged edit). The baseline is the same
writes by one client alone, measured in the same run.
`tests/review/test_review_load.py` runs `run_load` for a few seconds on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from semiology.review.security import CSRF_HEADER  # noqa: E402
from semiology.store.database import open_store  # noqa: E402
from semiology.store.schema import AuditEntry, SignLabel  # noqa: E402

CLIENT_USERS = ("rita", "sam", "alice", "admin")
TERMS = ("tonic", "clonic", "dystonic_posture", "hyperkinetic")


@dataclass
class LoadResult:
    """What the clients did: acknowledged creates and edits, conflicts, errors, and each acknowledged write's latency."""

    created: dict[int, dict] = field(default_factory=dict)
    edits: list[tuple[int, int, dict]] = field(default_factory=list)
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _client(url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    token = client.get("/api/session").json()["csrf"]
    response = client.post("/api/login", json={"username": username, "password": password}, headers={CSRF_HEADER: token})
    response.raise_for_status()
    client.headers[CSRF_HEADER] = response.json()["csrf"]
    return client


def _work(client: httpx.Client, seizure_id: int, deadline: float, seed: int, result: LoadResult, lock: threading.Lock) -> None:
    try:
        _loop(client, seizure_id, deadline, seed, result, lock)
    except httpx.HTTPError as exc:
        with lock:
            result.errors.append(f"client {seed}: {type(exc).__name__}: {exc}")


def _loop(client: httpx.Client, seizure_id: int, deadline: float, seed: int, result: LoadResult, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    known: list[dict] = []
    while time.monotonic() < deadline:
        start = round(rng.uniform(0.0, 3.0), 3)
        span = {"term": rng.choice(TERMS), "start_s": start, "end_s": round(start + rng.uniform(0.1, 1.0), 3)}
        if rng.random() < 0.1:
            known = [item for item in client.get(f"/api/seizures/{seizure_id}").json()["labels"] if item["annotator"] is not None]
        if known and rng.random() < 0.6:
            label = rng.choice(known)
            began = time.perf_counter()
            response = client.put(f"/api/labels/{label['id']}", json={**span, "version": label["version"]})
            elapsed = time.perf_counter() - began
            if response.status_code == 200:
                body = response.json()
                with lock:
                    result.edits.append((body["id"], body["version"], span))
                    result.latencies_s.append(elapsed)
                label["version"] = body["version"]
            elif response.status_code == 409:
                with lock:
                    result.conflicts += 1
                known = [item for item in client.get(f"/api/seizures/{seizure_id}").json()["labels"] if item["annotator"] is not None]
            elif response.status_code == 403:
                known.remove(label)
            else:
                with lock:
                    result.errors.append(f"PUT {response.status_code}: {response.text[:200]}")
        else:
            began = time.perf_counter()
            response = client.post(f"/api/seizures/{seizure_id}/labels", json=span)
            elapsed = time.perf_counter() - began
            if response.status_code == 201:
                body = response.json()
                with lock:
                    result.created[body["id"]] = span
                    result.latencies_s.append(elapsed)
                known.append(body)
            else:
                with lock:
                    result.errors.append(f"POST {response.status_code}: {response.text[:200]}")


def run_load(url: str, password: str, seizure_id: int, seconds: float, clients: int = 8) -> LoadResult:
    """Run `clients` concurrent clients for `seconds` (a bounded loop) and return what was acknowledged."""
    sessions = [_client(url, CLIENT_USERS[index % len(CLIENT_USERS)], password) for index in range(clients)]
    result, lock = LoadResult(), threading.Lock()
    began = time.monotonic()
    deadline = began + seconds
    threads = [threading.Thread(target=_work, args=(session, seizure_id, deadline, index, result, lock)) for index, session in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    result.seconds = time.monotonic() - began
    for session in sessions:
        session.close()
    return result


def lost_writes(db: str, result: LoadResult) -> list[str]:
    """Every acknowledged write missing from the database or the audit log (empty when nothing was lost)."""
    problems = []
    edits_per_label = Counter(label_id for label_id, _, _ in result.edits)
    last_edit: dict[int, tuple[int, dict]] = {}
    for label_id, version, span in result.edits:
        if label_id not in last_edit or version > last_edit[label_id][0]:
            last_edit[label_id] = (version, span)
    with open_store(db) as store, store.session() as session:
        for label_id, span in result.created.items():
            label = session.get(SignLabel, label_id)
            if label is None:
                problems.append(f"label {label_id}: acknowledged but not in the database")
                continue
            expected_version, expected = 1 + edits_per_label[label_id], last_edit.get(label_id, (1, span))[1]
            if label.version != expected_version:
                problems.append(f"label {label_id}: version {label.version}, but 1 + {edits_per_label[label_id]} acknowledged edits")
            if (label.term, label.start_s, label.end_s) != (expected["term"], expected["start_s"], expected["end_s"]):
                problems.append(f"label {label_id}: {(label.term, label.start_s, label.end_s)} is not its last acknowledged edit {expected}")
        entries = session.execute(select(AuditEntry.row_id, AuditEntry.action).where(AuditEntry.table_name == "sign_labels")).all()
        inserted = {row_id for row_id, action in entries if action == "insert"}
        updates = Counter(row_id for row_id, action in entries if action == "update")
        problems += [f"label {label_id}: no audit entry of its insert" for label_id in result.created if label_id not in inserted]
        problems += [f"label {label_id}: {updates[label_id]} audit entries of updates for {count} acknowledged edits"
                     for label_id, count in edits_per_label.items() if updates[label_id] != count]
    return problems


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def _report(name: str, result: LoadResult) -> None:
    latencies_ms = [value * 1000 for value in result.latencies_s]
    writes = len(result.created) + len(result.edits)
    print(f"{name}: {writes} acknowledged writes in {result.seconds:.1f} s ({writes / result.seconds:.1f}/s): "
          f"{len(result.created)} adds, {len(result.edits)} edits, {result.conflicts} conflicts (409), {len(result.errors)} errors; "
          f"latency median {statistics.median(latencies_ms):.1f} ms, p95 {_percentile(latencies_ms, 0.95):.1f} ms, max {max(latencies_ms):.1f} ms")


def main() -> int:
    from tests.review.review_world import PASSWORD, free_port, seed_world

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", help="a database URL for the store (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or str(Path(folder) / "store.sqlite")
        world = seed_world(db, Path(folder) / "files")
        port = free_port()
        server = subprocess.Popen([sys.executable, str(ROOT / "tools" / "review.py"), "--db", db, "--cache", str(world.cache), "--videos", str(world.videos),
                                   "--port", str(port)], stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{url}/login", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            baseline = run_load(url, PASSWORD, world.seizure_a, min(args.seconds, 10.0), clients=1)
            loaded = run_load(url, PASSWORD, world.seizure_a, args.seconds, clients=args.clients)
        finally:
            server.terminate()
            server.wait(timeout=30)
        _report("baseline, 1 client", baseline)
        _report(f"load, {args.clients} clients", loaded)
        ratio = _percentile(loaded.latencies_s, 0.95) / _percentile(baseline.latencies_s, 0.95)
        print(f"p95 write latency under load / alone: {ratio:.2f}x")
        both = LoadResult(created={**baseline.created, **loaded.created}, edits=baseline.edits + loaded.edits)
        problems = lost_writes(db, both) + loaded.errors + baseline.errors
        print("nothing lost: every acknowledged write is in the database and the audit log" if not problems else "LOST OR FAILED:\n" + "\n".join(problems[:20]))
        return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
