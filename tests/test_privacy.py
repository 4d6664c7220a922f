"""No patient identifier reaches anything the tools write.

A name, a birth date and a hospital number are planted in a manifest: as identifying columns
(which are refused, naming them) and inside the subject ids and the recordings' folder names.
Extraction, a study with a bundle, screening and an explanation then run from the manifest, and
every byte they wrote is searched, inside compressed `.npz` and `.pt` members too: no hit.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
import yaml

from semiology.cli import explain, loso_eval, screen
from semiology.extract.cli import extract_keypoints
from semiology.io.cache import cache_path
from tests.blob_backend import FPS, blob_video, register_blob

NAME, BIRTH_DATE, HOSPITAL_NUMBER = "Jane Doe", "1985-03-14", "H4471923"
PLANTED = (NAME, BIRTH_DATE, HOSPITAL_NUMBER, "Jane", "Doe", "4471923")
ENCODINGS = ("utf-8", "utf-16-le", "utf-32-le")
"""How text can sit in a file: numpy keeps strings as UTF-32 (the cache's metadata), Windows tools write UTF-16."""


def _write_manifest(path: Path, rows: list[dict[str, str]], columns: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _hits(folder: Path) -> list[str]:
    """Every (file, member, planted string) where a planted identifier occurs in what was written under `folder`."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        blobs = [("", path.read_bytes())]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                blobs += [(member, archive.read(member)) for member in archive.namelist()]
        for member, data in blobs:
            found += [f"{path}{':' + member if member else ''}: {text!r}" for text in PLANTED if any(text.encode(codec) in data for codec in ENCODINGS)]
    return found


@pytest.fixture()
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[dict[str, str]]]:
    monkeypatch.setenv("SEMIOLOGY_SITE_SECRET", "the site's own secret")
    register_blob()
    inputs = tmp_path / "inputs"
    rows = []
    for index in range(8):
        folder = inputs / f"{HOSPITAL_NUMBER}_{NAME.replace(' ', '_')}_{index}"
        blob_video(folder, moving=index % 2 == 0, phase=index)
        rows.append({"seizure_id": f"sz{index}", "subject_id": f"{NAME} {BIRTH_DATE} {HOSPITAL_NUMBER}-{index}", "ir": str(folder), "fps": str(FPS),
                     "onset_s": "1.0", "offset_s": "3.5", "motion": "sway" if index % 2 == 0 else "still"})
    return tmp_path, inputs, rows


def test_identifying_columns_are_refused_by_name_before_anything_is_written(clinic, capsys: pytest.CaptureFixture[str]) -> None:
    root, inputs, rows = clinic
    columns = ["seizure_id", "subject_id", "ir", "fps", "onset_s", "offset_s", "motion", "patient_name", "date_of_birth", "hospital_number"]
    manifest = _write_manifest(inputs / "with_identifiers.csv", [{**row, "patient_name": NAME, "date_of_birth": BIRTH_DATE, "hospital_number": HOSPITAL_NUMBER} for row in rows], columns)
    assert extract_keypoints(["--manifest", str(manifest), "--out", str(root / "out" / "cache"), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "columns that may identify a patient refused: 'patient_name', 'date_of_birth', 'hospital_number'" in error
    assert not (root / "out").exists() or not _hits(root / "out")


def test_no_identifier_reaches_any_output(clinic, capsys: pytest.CaptureFixture[str]) -> None:
    root, inputs, rows = clinic
    out = root / "out"
    cache = out / "cache"
    columns = ["seizure_id", "subject_id", "ir", "keypoints", "fps", "onset_s", "offset_s", "motion"]
    manifest = _write_manifest(inputs / "manifest.csv", [{**row, "keypoints": str(cache_path(cache, row["seizure_id"]))} for row in rows], columns)
    extraction = inputs / "extraction.yaml"
    extraction.write_text(yaml.safe_dump({"body_layout": "blob_3", "pose": {"backend": "bright_blob"}, "roi": {"enabled": False},
                                          "face": {"enabled": False}, "crops": {"enabled": False}, "lift": {"method": "none"}}))
    assert extract_keypoints(["--manifest", str(manifest), "--out", str(cache), "--config", str(extraction), "--no-progress"]) == 0
    study = inputs / "study.yaml"
    study.write_text(yaml.safe_dump({
        "name": "privacy", "data": {"source": "manifest", "manifest": str(manifest)},
        "windows": {"target_fps": 10.0, "window_s": 1.0, "stride_s": 0.5},
        "agcn": {"channels": [8, 8], "strides": [1, 1], "temporal_kernel": 3},
        "train": {"epochs": 2, "patience": 2, "val_fraction": 0.5, "batch_size": 8},
        "tasks": [{"name": "motion", "classes": ["still", "sway"]}],
        "models": [{"name": "AGCN-blob", "task": "motion", "kind": "agcn", "stream": "blob"}],
        "evaluation": {"split": "grouped_kfold", "n_splits": 2, "workers": 1},
    }))
    assert loso_eval(["--config", str(study), "--out", str(out / "study"), "--bundle", str(out / "bundle"), "--no-progress"]) == 0
    assert screen(["--bundle", str(out / "bundle"), "--manifest", str(manifest), "--out", str(out / "screen"), "--no-progress"]) in (0, 1)
    assert explain(["--bundle", str(out / "bundle"), "--cache", str(cache_path(cache, "sz0")), "--out", str(out / "explain"), "--no-video"]) == 0
    capsys.readouterr()
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) > 20 and any(p.suffix == ".npz" for p in written) and any(p.suffix == ".pt" for p in written)
    hits = _hits(out)
    assert not hits, "identifiers written:\n" + "\n".join(hits)
