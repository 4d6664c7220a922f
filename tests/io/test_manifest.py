"""The manifest: good CSV and YAML files load, and a bad one reports every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from semiology.errors import ManifestError
from semiology.io.manifest import ManifestRow, load_manifest, write_manifest

LABELS = {"seizure_type": ["focal", "fbtcs"], "dystonia": ["no", "yes"]}


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    """A study folder with a few recordings on disk."""
    for name in ("ir/S01.mp4", "ir/S02.mp4", "depth/S01.npz", "kp/S03.npz"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "frames" / "S02").mkdir(parents=True)
    return tmp_path


def test_good_csv_loads_with_resolved_paths(recordings: Path) -> None:
    path = recordings / "manifest.csv"
    path.write_text(
        "seizure_id,subject_id,ir,depth,rgb,keypoints,fps,onset_s,offset_s,generalisation_s,seizure_type,dystonia\n"
        f"S01,P1,ir/S01.mp4,depth/S01.npz,,,30,1.5,40,,focal,yes\n"
        "\n"
        "# S02 has an image-sequence folder for RGB\n"
        f"S02,P1,ir/S02.mp4,,frames/S02,,,0,62.25,30,fbtcs,\n"
        f"S03,P2,,,,{recordings / 'kp' / 'S03.npz'},15,3,9,,focal,no\n"
    )
    rows = load_manifest(path, label_values=LABELS)
    assert [row.seizure_id for row in rows] == ["S01", "S02", "S03"]
    assert [row.row_number for row in rows] == [2, 5, 6]
    first, second, third = rows
    assert first.paths == {"ir": recordings / "ir" / "S01.mp4", "depth": recordings / "depth" / "S01.npz"}
    assert all(p.is_absolute() for row in rows for p in row.paths.values())
    assert second.paths["rgb"] == recordings / "frames" / "S02"
    assert (first.fps, first.onset_s, first.offset_s, first.generalisation_s) == (30.0, 1.5, 40.0, None)
    assert (second.fps, second.generalisation_s) == (None, 30.0)
    assert first.labels == {"seizure_type": "focal", "dystonia": "yes"}
    assert second.labels == {"seizure_type": "fbtcs"}
    assert third.paths == {"keypoints": recordings / "kp" / "S03.npz"} and third.subject_id == "P2"


def test_good_yaml_loads_and_keeps_label_text(recordings: Path) -> None:
    path = recordings / "manifest.yaml"
    path.write_text(
        "- {seizure_id: S01, subject_id: P1, ir: ir/S01.mp4, fps: 30, onset_s: 2, offset_s: 20, dystonia: no}\n"
        "- seizure_id: S02\n"
        "  subject_id: P1\n"
        "  ir: ir/S02.mp4\n"
        "  onset_s: 0.5\n"
        "  offset_s: 9\n"
        "  dystonia: ~\n"
    )
    rows = load_manifest(path, label_values={"dystonia": ["no", "yes"]})
    assert [(row.seizure_id, row.row_number) for row in rows] == [("S01", 1), ("S02", 2)]
    assert rows[0].paths == {"ir": recordings / "ir" / "S01.mp4"}
    assert rows[0].labels == {"dystonia": "no"} and rows[1].labels == {}
    assert (rows[0].fps, rows[1].fps, rows[1].onset_s) == (30.0, None, 0.5)


def test_every_problem_is_reported_with_row_and_column(recordings: Path) -> None:
    path = recordings / "manifest.csv"
    path.write_text(
        "seizure_id,subject_id,ir,depth,onset_s,offset_s,generalisation_s,seizure_type\n"
        "S01,P1,ir/S01.mp4,,1,40,,focal\n"  # row 2: fine
        "S02,,ir/S02.mp4,,0,10,,focal\n"  # row 3: no subject
        "S01,P2,ir/S02.mp4,,0,10,,focal\n"  # row 4: duplicate id
        "S04,P2,ir/missing.mp4,,5,3,,tonic\n"  # row 5: missing file, onset after offset, unknown label
        "S05,P3,,depth/S05.txt,-1,abc,,focal\n"  # row 6: bad extension, negative and non-numeric times
        "S06,P3,,,0,10,,focal\n"  # row 7: no recording at all
        ",P3,ir/S01.mp4,,0,10,12,fbtcs\n"  # row 8: no id, generalisation after offset
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, label_values={"seizure_type": ["focal", "fbtcs"], "dystonia": ["no", "yes"]})
    problems = caught.value.problems
    name = str(path)
    expected = [
        f"{name}: missing label column 'dystonia' (allowed values: 'no', 'yes')",
        f"{name}: row 3 (seizure_id 'S02'): column 'subject_id': missing value",
        f"{name}: row 4 (seizure_id 'S01'): column 'seizure_id': duplicate seizure_id 'S01' (also row 2)",
        f"{name}: row 5 (seizure_id 'S04'): column 'ir': file not found: {recordings / 'ir' / 'missing.mp4'}",
        f"{name}: row 5 (seizure_id 'S04'): column 'offset_s': offset 3 s is not after onset 5 s",
        f"{name}: row 5 (seizure_id 'S04'): column 'seizure_type': unknown label 'tonic' (allowed: 'focal', 'fbtcs')",
        f"{name}: row 6 (seizure_id 'S05'): column 'onset_s': negative time -1 s",
        f"{name}: row 6 (seizure_id 'S05'): column 'offset_s': not a number: 'abc'",
        f"{name}: row 7 (seizure_id 'S06'): no recording: fill at least one of the columns 'ir', 'depth'",
        f"{name}: row 8: column 'seizure_id': missing value",
        f"{name}: row 8: column 'generalisation_s': 12 s is outside the seizure [0 s, 10 s]",
    ]
    for line in expected:
        assert line in problems
    extension = f"{name}: row 6 (seizure_id 'S05'): column 'depth': unknown file extension '.txt'"
    assert any(line.startswith(extension) for line in problems)
    assert len(problems) == len(expected) + 1
    assert str(caught.value).splitlines() == list(problems)


def test_header_and_empty_manifest_problems(tmp_path: Path) -> None:
    header_only = tmp_path / "empty.csv"
    header_only.write_text("seizure_id,subject_id,ir,onset,offset_s\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(header_only)
    assert caught.value.problems == (
        f"{header_only}: missing required column 'onset_s' (found 'onset'; did you mean 'onset_s'?)",
        f"{header_only}: empty manifest: no seizure rows",
    )
    no_modality = tmp_path / "no_modality.csv"
    no_modality.write_text("seizure_id,subject_id,onset_s,offset_s\nS01,P1,0,1\n")
    with pytest.raises(ManifestError, match="no modality column"):
        load_manifest(no_modality)
    spreadsheet = tmp_path / "manifest.xlsx"
    spreadsheet.write_bytes(b"PK")
    with pytest.raises(ManifestError, match="unknown manifest format '.xlsx'"):
        load_manifest(spreadsheet)


def test_label_values_are_enforced_but_empty_labels_allowed(recordings: Path) -> None:
    path = recordings / "manifest.csv"
    path.write_text(
        "seizure_id,subject_id,ir,onset_s,offset_s,emotion\nS01,P1,ir/S01.mp4,0,5,Fear\nS02,P1,ir/S02.mp4,0,5,\n"
    )
    assert [row.labels for row in load_manifest(path)] == [{"emotion": "Fear"}, {}]
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, label_values={"emotion": ["neutral", "fear"]})
    assert caught.value.problems == (
        f"{path}: row 2 (seizure_id 'S01'): column 'emotion': "
        "unknown label 'Fear' (allowed: 'neutral', 'fear'); did you mean 'fear'?",
    )


def test_check_files_can_be_skipped(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("seizure_id,subject_id,ir,onset_s,offset_s\nS01,P1,elsewhere/S01.mkv,0,5\n")
    with pytest.raises(ManifestError, match="file not found"):
        load_manifest(path)
    assert load_manifest(path, check_files=False)[0].paths["ir"] == tmp_path / "elsewhere" / "S01.mkv"


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_write_manifest_round_trips(recordings: Path, suffix: str) -> None:
    rows = [
        ManifestRow("S01", "P1", {"ir": recordings / "ir" / "S01.mp4"}, 29.97, 0.1, 33.3, None, {"dystonia": "yes"}, 2),
        ManifestRow("S02", "P2", {"depth": recordings / "depth" / "S01.npz"}, None, 2.0, 8.5, 4.25, {"emotion": "no"}),
    ]
    path = write_manifest(rows, recordings / f"manifest{suffix}")
    loaded = load_manifest(path)
    for original, again in zip(rows, loaded, strict=True):
        assert again == ManifestRow(**{**vars(original), "row_number": again.row_number})
    assert "ir/S01.mp4" in path.read_text() and str(recordings) not in path.read_text()
