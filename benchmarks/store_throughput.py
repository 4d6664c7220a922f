"""Label store throughput: label writes per second and query latency, SQLite and PostgreSQL side by side.

Builds the same store in each engine: 10,000 seizures of 500 patients (imported from a manifest)
and 200,000 sign labels by four annotators (20 per seizure), every write audited. Then it
times what people and tools do with it:

- writes: the manifest import (seizures/s); labels in batches of 2,000 per transaction (an
  import, a model's proposals; labels/s); single labels, one transaction each (an annotator
  clicking in the review app; labels/s and the median commit time);
- queries (median and 95th percentile over repeated runs): the labels of one seizure, one
  annotator's labels of one sign over the store, the study row source (`StoreSource.rows`, all
  seizures with recordings and task labels), a manifest export, and inter-rater agreement of
  two annotators over the whole store.

PostgreSQL runs in a new schema of the given database, dropped afterwards.

    .venv/bin/python benchmarks/store_throughput.py
    .venv/bin/python benchmarks/store_throughput.py --seizures 1000 --labels 20000 --no-postgres
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select

from semiology.io.manifest import ManifestRow, write_manifest
from semiology.store.accounts import add_site, add_user, get_user
from semiology.store.agreement import sign_agreement
from semiology.store.database import init_store
from semiology.store.labels import SignSpan, add_sign_label, add_sign_labels, get_seizure, sign_terms
from semiology.store.manifests import StoreSource, export_manifest, import_manifest
from semiology.store.schema import Seizure, SignLabel

ANNOTATORS = ("ann1", "ann2", "ann3", "ann4")
BATCH = 2000


def write_big_manifest(path: Path, seizures: int, patients: int) -> Path:
    """A manifest of `seizures` rows over `patients` pseudonymised subjects (paths need not exist)."""
    rng = random.Random(0)
    rows = []
    for index in range(seizures):
        onset = round(rng.uniform(5, 30), 3)
        rows.append(ManifestRow(f"sz{index:06d}", f"pt{index % patients:04d}", {"ir": Path(f"/data/videos/sz{index:06d}.mp4")}, 25.0, onset,
                                round(onset + rng.uniform(20, 120), 3), None, {"dystonia": rng.choice(["no", "yes"]), "emotion": rng.choice(["no", "yes"])}))
    return write_manifest(rows, path)


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and 95th percentile of `repeats` runs, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000.0)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(db: str, seizures: int, labels: int, scratch: Path) -> dict[str, str]:
    """Build the store at `db` and return the figures, formatted."""
    figures: dict[str, str] = {}
    rng = random.Random(1)
    with init_store(db) as store:
        with store.session(actor="bench") as session:
            add_site(session, "bench", b"benchmark site secret, 32 bytes")
            add_user(session, "bench", "admin", "benchmark password")
            for name in ANNOTATORS:
                add_user(session, name, "annotator", "benchmark password")
        manifest = write_big_manifest(scratch / "manifest.csv", seizures, max(1, seizures // 20))
        started = time.perf_counter()
        import_manifest(store, manifest, "bench", "bench", pseudonymised=True, check_files=False, probe_files=False)
        elapsed = time.perf_counter() - started
        figures["import manifest (seizures/s)"] = f"{seizures / elapsed:,.0f}"

        with store.session() as session:
            keys = list(session.scalars(select(Seizure.seizure_key).order_by(Seizure.id)))
            terms = list(sign_terms(session))
        per_seizure = max(1, labels // seizures)
        plan = [(keys[i // per_seizure], ANNOTATORS[(i // max(1, per_seizure // len(ANNOTATORS))) % len(ANNOTATORS)]) for i in range(labels)]
        started = time.perf_counter()
        for first in range(0, len(plan), BATCH):
            batch = plan[first : first + BATCH]
            with store.session(actor="bench") as session:
                seizures_by_key = {s.seizure_key: s for s in session.scalars(select(Seizure).where(Seizure.seizure_key.in_({key for key, _ in batch})))}
                users = {name: get_user(session, name) for name in ANNOTATORS}
                by_annotator: dict[str, list] = {}
                for key, name in batch:
                    start = round(rng.uniform(0, 60), 3)
                    span = SignSpan(rng.choice(terms), start, start + round(rng.uniform(0.5, 20), 3), rng.choice(("left", "right", "bilateral", "axial")))
                    by_annotator.setdefault(name, []).append((seizures_by_key[key], span))
                for name, items in by_annotator.items():
                    add_sign_labels(session, items, annotator=users[name])
        elapsed = time.perf_counter() - started
        figures[f"labels in batches of {BATCH} (labels/s)"] = f"{labels / elapsed:,.0f}"

        single = 300
        commit_times = []
        started = time.perf_counter()
        for index in range(single):
            one = time.perf_counter()
            with store.session(actor=ANNOTATORS[0]) as session:
                add_sign_label(session, get_seizure(session, keys[index * 7 % len(keys)]), SignSpan("tonic", 1.0, 2.5, "left"),
                               annotator=get_user(session, ANNOTATORS[0]))
            commit_times.append((time.perf_counter() - one) * 1000.0)
        elapsed = time.perf_counter() - started
        figures["single labels, one transaction each (labels/s)"] = f"{single / elapsed:,.0f}"
        figures["  median time per single label (ms)"] = f"{statistics.median(commit_times):.2f}"

        def one_seizure() -> None:
            with store.session() as session:
                seizure_id = session.scalar(select(Seizure.id).where(Seizure.seizure_key == rng.choice(keys)))
                session.scalars(select(SignLabel).where(SignLabel.seizure_id == seizure_id)).all()

        def annotator_term() -> None:
            with store.session() as session:
                user = get_user(session, rng.choice(ANNOTATORS))
                session.scalars(select(SignLabel).where(SignLabel.annotator_id == user.id, SignLabel.term == rng.choice(terms))).all()

        queries = {
            "labels of one seizure": (one_seizure, 200),
            "one annotator's labels of one sign": (annotator_term, 20),
            f"study row source, {seizures:,} seizures": (lambda: StoreSource(db).rows(check_files=False), 3),
            f"manifest export, {seizures:,} rows": (lambda: export_manifest(store, scratch / "export.csv"), 3),
            "agreement of two annotators, whole store": (lambda: sign_agreement(store, ANNOTATORS[0], ANNOTATORS[1]), 3),
        }
        for name, (run, repeats) in queries.items():
            median, p95 = timed(run, repeats)
            figures[f"{name} (ms, median / p95 of {repeats})"] = f"{median:,.1f} / {p95:,.1f}"
    return figures


def postgres_schema(url: str) -> tuple[str, str]:
    """A new schema in the database of `url` and the URL whose connections use it."""
    schema = f"semiology_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seizures", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=200_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test", help="PostgreSQL database to make a scratch schema in")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        print(f"building a store of {args.seizures:,} seizures and {args.labels:,} labels in SQLite ...", flush=True)
        results["SQLite"] = measure(str(folder / "bench.sqlite"), args.seizures, args.labels, folder)
        if not args.no_postgres:
            try:
                schema, url = postgres_schema(args.postgres)
            except psycopg.Error as exc:
                sys.exit(f"no PostgreSQL at {args.postgres} ({exc}); run with --no-postgres for SQLite alone")
            print("... and in PostgreSQL", flush=True)
            try:
                results["PostgreSQL"] = measure(url, args.seizures, args.labels, folder)
            finally:
                drop_schema(args.postgres, schema)
    engines = list(results)
    width = max(len(name) for name in results["SQLite"]) + 2
    print(f"\n{'':<{width}}" + "".join(f"{engine:>20}" for engine in engines))
    for name in results["SQLite"]:
        print(f"{name:<{width}}" + "".join(f"{results[engine][name]:>20}" for engine in engines))


if __name__ == "__main__":
    main()
