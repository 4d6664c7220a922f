"""`tools/store.py`: set a store up from nothing, with roles enforced and clear errors (exit status 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from semiology.store.accounts import authenticate
from semiology.store.cli import main
from semiology.store.database import open_store
from tests.store.conftest import SECRET, write_csv

REPO = Path(__file__).resolve().parents[2]


def test_a_store_is_set_up_and_filled_from_the_command_line(db_url: str, tmp_path: Path, videos: Path, monkeypatch, capsys) -> None:
    secret = tmp_path / "site.key"
    secret.write_bytes(SECRET)
    monkeypatch.setenv("SEMIOLOGY_PASSWORD", "first admin's passphrase")
    assert main(["init", "--db", db_url]) == 0
    assert main(["add-user", "--db", db_url, "--username", "ann", "--role", "annotator"]) == 2
    assert "the first user must be an admin" in capsys.readouterr().err
    assert main(["add-user", "--db", db_url, "--username", "root-admin", "--role", "admin"]) == 0
    assert main(["add-user", "--db", db_url, "--username", "ann", "--role", "annotator"]) == 2
    assert "--by ADMIN is required" in capsys.readouterr().err
    assert main(["add-user", "--db", db_url, "--username", "ann", "--role", "annotator", "--by", "root-admin"]) == 0
    assert main(["add-site", "--db", db_url, "--name", "emu-x", "--secret-file", str(secret), "--by", "ann"]) == 2
    assert "user 'ann' (annotator) may not add sites: needs the role admin" in capsys.readouterr().err
    assert main(["add-site", "--db", db_url, "--name", "emu-x", "--secret-file", str(secret), "--by", "root-admin"]) == 0
    manifest = write_csv(tmp_path / "m.csv", ["seizure_id", "subject_id", "ir", "onset_s", "offset_s", "dystonia"],
                         [["sz-1", "site-1", "videos/a.mp4", 0, 10, "yes"], ["sz-2", "site-2", "videos/b.mp4", 1, 12, "no"]])
    import_command = ["import", "--db", db_url, "--manifest", str(manifest), "--site", "emu-x", "--user", "ann", "--secret-file", str(secret)]
    assert main(import_command) == 0
    assert main(import_command) == 0
    assert main(["export-manifest", "--db", db_url, "--out", str(tmp_path / "out.csv")]) == 0
    assert main(["terms", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert "2 rows: 2 new seizures, 0 updated, 0 unchanged" in out and "2 rows: 0 new seizures, 0 updated, 2 unchanged" in out
    assert "dystonic_posture            sc:Semiology-dystonic" in out and "focal_to_bilateral_tonic_clonic" in out
    with open_store(db_url) as store, store.session() as session:
        assert authenticate(session, "ann", "first admin's passphrase").role == "annotator"


def test_the_tool_reports_a_missing_store_and_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = subprocess.run([sys.executable, str(REPO / "tools" / "store.py"), "export-manifest", "--db", str(missing), "--out", str(tmp_path / "m.csv")],
                            capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {missing}: no label store here; create one with: tools/store.py init --db {missing}"
