"""No patient identifier reaches the store, its exports or its logs.

A manifest plants a name, a birth date and a hospital number, as columns and as subject ids.
The import is refused (naming the columns, never the values); imported without those columns,
the store is used for everything it does (labels, agreement, screening predictions, exports to
manifest, BIDS events and pyskl), with every log record at DEBUG captured (SQLAlchemy's SQL
statements and their parameters included). Then every byte written is searched: the database
(the SQLite file and its journals; on PostgreSQL every row of every table), every exported
file, every log line and everything the commands printed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import MetaData, select

from semiology.store.accounts import get_user
from semiology.store.cli import main
from semiology.store.database import Store, database_url
from semiology.store.labels import SignSpan, add_sign_label, get_seizure
from semiology.store.predictions import write_screening
from tests.store.conftest import SECRET, People, cached_record, write_csv

NAME = "Wilhelmina Planted-Surname"
BIRTH_DATE = "1961-07-23"
HOSPITAL_NUMBER = "HN-48151623"
NEEDLES = [NAME, "Wilhelmina", "Planted-Surname", BIRTH_DATE, HOSPITAL_NUMBER, "48151623"]


def _planted_manifest(tmp_path: Path) -> Path:
    for key in ("p1", "p2", "p3"):
        cached_record(tmp_path / "cache" / f"{key}.npz", key, "cache-subject", frames=20)
    header = ["seizure_id", "subject_id", "keypoints", "fps", "onset_s", "offset_s", "dystonia", "patient_name", "date_of_birth", "hospital_number"]
    return write_csv(tmp_path / "planted.csv", header, [
        ["p1", HOSPITAL_NUMBER, "cache/p1.npz", 10, 0.5, 1.5, "yes", NAME, BIRTH_DATE, HOSPITAL_NUMBER],
        ["p2", NAME, "cache/p2.npz", 10, 0.5, 1.5, "no", NAME, BIRTH_DATE, HOSPITAL_NUMBER],
        ["p3", BIRTH_DATE, "cache/p3.npz", 10, 0.5, 1.5, "no", NAME, BIRTH_DATE, HOSPITAL_NUMBER],
    ])


def _database_bytes(store: Store, db_url: str) -> bytes:
    """Every row of every table as text, and for SQLite the file and any journal beside it."""
    metadata = MetaData()
    metadata.reflect(store.engine)
    chunks = []
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            chunks += [repr(tuple(row)).encode("utf-8") for row in connection.execute(select(table))]
    url = database_url(db_url)
    if url.get_backend_name() == "sqlite":
        base = Path(url.database)
        chunks += [path.read_bytes() for path in base.parent.glob(base.name + "*")]
    return b"\n".join(chunks)


def _hits(blob: bytes) -> list[str]:
    lowered = blob.lower()
    return [needle for needle in NEEDLES if needle.lower().encode("utf-8") in lowered]


def test_no_identifier_is_written_anywhere(store: Store, people: People, db_url: str, tmp_path: Path, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    manifest = _planted_manifest(tmp_path)
    secret_file = tmp_path / "site.key"
    secret_file.write_bytes(SECRET)
    out = tmp_path / "exports"
    command = ["import", "--db", db_url, "--manifest", str(manifest), "--site", people.site, "--user", people.admin, "--secret-file", str(secret_file)]

    assert main(command) == 2
    refused = capsys.readouterr()
    assert "identifying columns refused: 'patient_name', 'date_of_birth', 'hospital_number'" in refused.err
    assert main([*command, "--drop-identifying"]) == 0
    with store.session(actor=people.alice) as session:
        for key, annotator in (("p1", people.alice), ("p1", people.bob), ("p2", people.alice), ("p2", people.bob)):
            add_sign_label(session, get_seizure(session, key), SignSpan("dystonic_posture", 0.5, 1.0, "left"), annotator=get_user(session, annotator))
    write_screening(db_url, {"study": "privacy", "semiology_version": "test"}, {"AGCN": ("no", "yes")}, [
        {"seizure_id": "p1", "status": "ok", "window_s": 0.5, "models": {"AGCN": {"task": "dystonia"}}, "timeline": {"AGCN": {"start_s": [0.0, 0.5], "prob": [[0.4, 0.6], [0.3, 0.7]]}}}])
    for arguments in (["export-manifest", "--out", str(out / "manifest.csv")], ["export-manifest", "--out", str(out / "manifest.yaml")],
                      ["export-bids", "--out", str(out / "bids")], ["export-pyskl", "--out", str(out / "skeletons.pkl"), "--task", "dystonia"],
                      ["agreement", "--a", people.alice, "--b", people.bob, "--out", str(out / "agreement.csv")]):
        assert main([arguments[0], "--db", db_url, *arguments[1:]]) == 0
    printed = capsys.readouterr()

    exported = sorted(path for path in out.rglob("*") if path.is_file())
    assert len(exported) >= 9, [path.name for path in exported]
    assert len(caplog.records) > 20 and any(record.name.startswith("sqlalchemy.engine") for record in caplog.records), "SQL logging was captured"
    written = {
        "database": _database_bytes(store, db_url),
        **{str(path.relative_to(out)): path.read_bytes() for path in exported},
        "logs": caplog.text.encode("utf-8"),
        "printed": (refused.out + refused.err + printed.out + printed.err).encode("utf-8"),
    }
    assert {where: _hits(blob) for where, blob in written.items() if _hits(blob)} == {}
    assert _hits(manifest.read_bytes()) == NEEDLES, "the planted values are there to be found"
