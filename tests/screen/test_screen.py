"""Screening batches: resumable JSON lines after SIGKILL, error rows, parallel workers, summary files."""

import csv
import json
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semiology.cli import screen
from semiology.io.cache import save_record
from semiology.io.manifest import ManifestRow, write_manifest
from semiology.screen.batch import RESULTS_FILE, items_from_manifest, run_screen
from semiology.screen.results import ResultsFileError, ResultsLog
from tests.bundle_fixtures import tiny_records

REPO = Path(__file__).resolve().parents[2]


def _manifest(records, folder: Path, name: str) -> Path:
    rows = []
    for record in records:
        path = save_record(record, folder / "cache" / f"{record.seizure_id}.npz", config_hash="screen-test")
        rows.append(ManifestRow(record.seizure_id, record.subject_id, {"keypoints": path}, record.fps, record.onset_s, record.offset_s,
                                record.generalisation_s, {"dystonia": record.labels["dystonia"]}))
    return write_manifest(rows, folder / name)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screen_cohort")
    records = tiny_records(40, seed=11)
    return folder, records, _manifest(records, folder, "manifest.csv")


@pytest.fixture(scope="module")
def reference(bundle, cohort, tmp_path_factory):
    """An uninterrupted one-worker run over the 40 recordings."""
    _, _, manifest = cohort
    out = tmp_path_factory.mktemp("reference")
    summary = run_screen(bundle.path, items_from_manifest(manifest), out, workers=1, progress=False)
    return out, summary


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_uninterrupted_run_writes_every_row_and_summaries(reference, cohort):
    out, summary = reference
    rows = _lines(out / RESULTS_FILE)
    assert [r["seizure_id"] for r in rows] == [r.seizure_id for r in cohort[1]]
    assert summary.n_ok == 40 and summary.n_error == 0
    first = rows[0]
    assert set(first["models"]) == {"TCN-pose", "AGCN-pose", "fusion", "AGCN-face"}
    assert sum(first["models"]["AGCN-pose"]["probability"].values()) == pytest.approx(1.0)
    timeline = first["timeline"]["AGCN-pose"]
    assert len(timeline["start_s"]) == len(timeline["prob"]) >= 3 and timeline["start_s"][0] == 0.0
    with Image.open(out / first["timeline_png"]) as image:
        image.load()
    with (out / "summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 40 and "AGCN-pose:p_yes" in table[0]

    class Links(HTMLParser):
        links: list = []

        def handle_starttag(self, tag, attrs):
            self.links += [v for k, v in attrs if k == "href"]

    parser = Links()
    text = (out / "summary.html").read_text()
    parser.feed(text)
    assert len(parser.links) == 40 and all((out / link).is_file() for link in parser.links)
    assert "addEventListener('click'" in text and "top signs" in text


def test_sigkill_part_way_then_rerun_gives_exactly_the_uninterrupted_rows(bundle, cohort, reference, tmp_path):
    _, _, manifest = cohort
    out = tmp_path / "killed"
    results = out / RESULTS_FILE
    command = [sys.executable, str(REPO / "tools" / "screen.py"), "--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(out), "--no-progress"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and results.read_bytes().count(b"\n") >= 4:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the batch finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = results.read_bytes().count(b"\n")
    assert 4 <= done < 40
    with results.open("ab") as handle:  # what a kill in the middle of a write leaves
        handle.write(b'{"seizure_id": "P0')
    assert screen(["--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(out), "--no-progress"]) == 0
    rows = _lines(results)
    ids = [row["seizure_id"] for row in rows]
    assert sorted(ids) == sorted(r.seizure_id for r in cohort[1]) and len(set(ids)) == 40
    expected = {row["seizure_id"]: row for row in _lines(reference[0] / RESULTS_FILE)}
    assert {row["seizure_id"]: row for row in rows} == expected
    assert screen(["--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(out), "--no-progress"]) == 0
    assert len(_lines(results)) == 40  # a second rerun adds nothing


def test_corrupt_and_empty_recordings_become_error_rows(bundle, cohort, reference, tmp_path):
    folder, records, _ = cohort
    good = records[:3]
    nobody = tiny_records(2, seed=11)[0]
    nobody.seizure_id = "nobody"
    for stream in (nobody.body_2d, nobody.face_2d, nobody.body_3d):
        stream.coords[:] = np.nan
        stream.confidence[:] = 0.0
    manifest = _manifest([*good, nobody], tmp_path, "manifest.csv")
    corrupt = tmp_path / "cache" / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip file")
    with manifest.open() as handle:
        table = list(csv.DictReader(handle))
    table.append({**table[0], "seizure_id": "corrupt", "keypoints": "cache/corrupt.npz"})
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    summary = run_screen(bundle.path, items_from_manifest(manifest), tmp_path / "out", progress=False)
    rows = {row["seizure_id"]: row for row in _lines(tmp_path / "out" / RESULTS_FILE)}
    assert summary.n_error == 2 and summary.n_ok == 3
    assert rows["nobody"]["status"] == "error" and "nobody in the recording" in rows["nobody"]["error"]
    assert rows["corrupt"]["status"] == "error" and "corrupt.npz" in rows["corrupt"]["error"] and "corrupt" in rows["corrupt"]["error"]
    expected = {row["seizure_id"]: row for row in _lines(reference[0] / RESULTS_FILE)}
    for record in good:
        assert rows[record.seizure_id]["models"] == expected[record.seizure_id]["models"]
    text = (tmp_path / "out" / "summary.html").read_text()
    assert "nobody in the recording" in text


def test_two_workers_equal_one(bundle, cohort, reference, tmp_path):
    _, records, _ = cohort
    manifest = _manifest(records[:6], tmp_path, "six.csv")
    run_screen(bundle.path, items_from_manifest(manifest), tmp_path / "two", workers=2, progress=False)
    rows = _lines(tmp_path / "two" / RESULTS_FILE)
    expected = {row["seizure_id"]: row for row in _lines(reference[0] / RESULTS_FILE)}
    assert [row["seizure_id"] for row in rows] == [r.seizure_id for r in records[:6]]
    for row in rows:
        assert {k: v for k, v in row.items() if k not in ("source", "inputs")} == {k: v for k, v in expected[row["seizure_id"]].items() if k not in ("source", "inputs")}


def test_results_log_repairs_a_torn_line_and_refuses_a_damaged_file(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"seizure_id": "a"}\n{"seizure_id": "b"}\n{"seizure_id": "c", "x": ')
    log = ResultsLog(path)
    assert set(log.rows) == {"a", "b"} and log.repaired_bytes > 0
    assert path.read_text() == '{"seizure_id": "a"}\n{"seizure_id": "b"}\n'
    log.append({"seizure_id": "c"})
    assert "c" in ResultsLog(path)
    path.write_text('{"seizure_id": "a"}\nnot json\n{"seizure_id": "b"}\n')
    with pytest.raises(ResultsFileError, match="line 2"):
        ResultsLog(path)


def test_a_video_folder_without_recordings_is_refused_clearly(bundle, tmp_path, capsys):
    assert screen(["--bundle", str(bundle.path), "--videos", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no recordings given" in capsys.readouterr().err


def test_manifest_rows_with_videos_are_extracted_first(bundle, tmp_path):
    pytest.importorskip("semiology.extract", reason="the video -> keypoints pipeline (semiology.extract) is not in this checkout")
    import av

    video = tmp_path / "empty_room.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 96, "yuv420p"
        for _ in range(30):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((96, 96, 3), 40, np.uint8), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    manifest = tmp_path / "videos.csv"
    manifest.write_text(f"seizure_id,subject_id,rgb,fps,onset_s,offset_s\nempty,S1,{video},10,0.5,2.5\n")
    assert screen(["--bundle", str(bundle.path), "--manifest", str(manifest), "--out", str(tmp_path / "out"), "--no-progress"]) == 1, "a failed recording makes the exit status 1"
    (row,) = _lines(tmp_path / "out" / RESULTS_FILE)
    assert row["status"] == "error" and ("nobody in the recording" in row["error"] or "extraction failed" in row["error"])
    assert (tmp_path / "out" / "cache").is_dir()
