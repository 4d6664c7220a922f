"""Subject pseudonyms: keyed, stable, and the site secret created once outside every output."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from semiology.pseudonyms import identifying_columns, pseudonym, site_secret, subject_pseudonym


def test_a_pseudonym_is_keyed_stable_and_ignores_padding() -> None:
    first = pseudonym("H1234567", "site A")
    assert first == pseudonym(" H1234567 ", "site A") and len(first) == 16
    assert first != pseudonym("H1234567", "site B") and first != pseudonym("H1234568", "site A")
    with pytest.raises(ValueError, match="secret is empty"):
        pseudonym("H1234567", "")


def test_the_site_secret_file_is_created_once_for_its_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEMIOLOGY_SITE_SECRET", raising=False)
    secret_file = tmp_path / "config" / "site_secret"
    monkeypatch.setenv("SEMIOLOGY_SECRET_FILE", str(secret_file))
    secret = site_secret()
    assert len(secret) == 64 and secret_file.is_file()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert site_secret() == secret, "the same secret on every later run"
    assert subject_pseudonym("P1") == pseudonym("P1", secret)
    monkeypatch.setenv("SEMIOLOGY_SITE_SECRET", "from the environment")
    assert subject_pseudonym("P1") == pseudonym("P1", "from the environment")


def test_identifying_column_names_are_recognised_however_written() -> None:
    assert identifying_columns(["seizure_type", "Patient Name", "DOB", "hospital-number", "dystonia"]) == ["Patient Name", "DOB", "hospital-number"]
