"""A new detector backend and a new stream, added from outside the package by registration only.

The backend finds a bright blob in each frame and reports a three-point layout of its own
(centre, left and right edge); the stream reads those keypoints. Extraction of real image
sequences, with its rows from a row source that is not a manifest file, goes through the
registered backend into cached records, and a study of the new stream reads them back
through a manifest: nothing in `semiology` names the backend, the layout or the stream.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.detect.keypoints import KeypointEstimate
from semiology.detect.registry import register_backend
from semiology.errors import ConfigError
from semiology.evaluate.run import load_records, run_experiment
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.extract.batch import run_extraction
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import cache_path, load_record
from semiology.io.manifest import ManifestRow, load_manifest
from semiology.io.sources import RowSource
from semiology.io.video_write import write_image_folder
from semiology.layouts import Layout, register_layout
from semiology.records import Box
from semiology.streams import StreamSpec, register_stream

BLOB = Layout(
    name="blob_3",
    joint_names=("centre", "left_edge", "right_edge"),
    parent_of={"left_edge": "centre", "right_edge": "centre"},
    center_name="centre",
    flip_partners=(("left_edge", "right_edge"),),
    scale_pair=("right_edge", "left_edge"),
)
SIZE_PX, FPS, SECONDS = 48, 10.0, 4.0


class BrightBlob:
    """Keypoints of the brightest blob: the mean of the pixels above half the frame's maximum, and its leftmost and rightmost columns."""

    layout = "blob_3"

    def __init__(self, settings: object) -> None:
        self.name = "bright_blob-1"

    def estimate(self, image: np.ndarray, roi: Box | None = None) -> KeypointEstimate | None:
        grey = image if image.ndim == 2 else image.mean(axis=2)
        rows, columns = np.nonzero(grey > grey.max() / 2) if grey.max() > 0 else (np.array([]), np.array([]))
        if len(rows) == 0:
            return None
        centre = (columns.mean(), rows.mean())
        points = np.array([centre, (columns.min(), centre[1]), (columns.max(), centre[1])], dtype=np.float32)
        return KeypointEstimate(points_px=points, confidence=np.ones(3, dtype=np.float32), layout=self.layout)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class RowList:
    """A row source that is not a file: what a label store will be to extraction and screening."""

    name = "rows in memory"

    def __init__(self, rows: list[ManifestRow]) -> None:
        self._rows = rows

    def rows(self, label_values=None, check_files: bool = True) -> list[ManifestRow]:
        return list(self._rows)


def _register() -> None:
    register_layout(BLOB)
    register_backend("pose", "bright_blob", BrightBlob, lambda: "1")
    register_stream(StreamSpec("blob", keypoints="body_2d", description="the bright blob's three points"))


def _blob_video(folder: Path, moving: bool, phase: float) -> np.ndarray:
    """A blob 8 px wide that sways left and right during the 'seizure' (1-3.5 s) when `moving`; returns its true centre per frame."""
    frames, centres = [], []
    for index in range(int(SECONDS * FPS)):
        t = index / FPS
        sway = 10.0 * np.sin(2 * np.pi * 1.5 * t + phase) if moving and 1.0 <= t < 3.5 else 0.0
        u0 = int(round(20 + sway))
        image = np.zeros((SIZE_PX, SIZE_PX), dtype=np.uint8)
        image[16:32, u0 : u0 + 8] = 220
        frames.append(image)
        centres.append((u0 + 3.5, 23.5))
    write_image_folder(folder, np.stack(frames))
    return np.array(centres)


@pytest.fixture(scope="module")
def blob_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    _register()
    root = tmp_path_factory.mktemp("blob")
    cache = root / "cache"
    manifest = root / "manifest.csv"
    truth = {}
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["seizure_id", "subject_id", "ir", "keypoints", "fps", "onset_s", "offset_s", "motion"])
        writer.writeheader()
        for subject in range(8):
            moving = subject % 2 == 0
            seizure_id = f"blob{subject}"
            truth[seizure_id] = _blob_video(root / seizure_id, moving, phase=subject)
            writer.writerow({"seizure_id": seizure_id, "subject_id": f"S{subject}", "ir": str(root / seizure_id), "keypoints": str(cache_path(cache, seizure_id)),
                             "fps": str(FPS), "onset_s": "1.0", "offset_s": "3.5", "motion": "sway" if moving else "still"})
    config = config_from_dict(
        {"body_layout": "blob_3", "pose": {"backend": "bright_blob"}, "roi": {"enabled": False}, "face": {"enabled": False},
         "crops": {"enabled": False}, "lift": {"method": "none"}},
        ExtractionConfig,
    )
    source = RowList(load_manifest(manifest, check_files=False))
    assert isinstance(source, RowSource)
    results = run_extraction(source, cache, config, progress=False)
    assert [result.status for result in results] == ["extracted"] * 8, [(r.seizure_id, r.status, r.reason) for r in results]
    return manifest, cache, truth


def test_a_registered_backend_extracts_into_its_own_layout(blob_study) -> None:
    _, cache, truth = blob_study
    for seizure_id, centres in truth.items():
        record = load_record(cache_path(cache, seizure_id))
        assert record.body_2d.layout == "blob_3"
        assert record.body_2d.source.startswith("bright_blob")
        assert np.abs(record.body_2d.coords[:, 0] - centres).max() < 1.0


def _study_config(manifest: Path) -> ExperimentConfig:
    return config_from_dict(
        {
            "name": "blob-study",
            "data": {"source": "manifest", "manifest": str(manifest)},
            "windows": {"target_fps": 10.0, "window_s": 1.0, "stride_s": 0.5},
            "agcn": {"channels": [8, 8], "strides": [1, 1], "temporal_kernel": 3},
            "train": {"epochs": 3, "patience": 3, "val_fraction": 0.5, "batch_size": 8},
            "tasks": [{"name": "motion", "classes": ["still", "sway"]}],
            "models": [{"name": "AGCN-blob", "task": "motion", "kind": "agcn", "stream": "blob"}],
            "evaluation": {"split": "grouped_kfold", "n_splits": 2, "workers": 1},
        },
        ExperimentConfig,
    )


def test_a_registered_stream_runs_a_study_on_the_extracted_records(blob_study, tmp_path: Path) -> None:
    manifest, _, _ = blob_study
    config = _study_config(manifest)
    check_experiment(config, "blob-study")
    run = run_experiment(config, tmp_path, source="blob-study", progress=False, loaded=load_records(config, "blob-study"))
    (result,) = run.study.models
    assert result.key == "motion/AGCN-blob"
    assert set(result.predictions.seizure_id) == {f"blob{subject}" for subject in range(8)}
    assert np.allclose(result.predictions.prob.sum(axis=1), 1.0)
    assert len(run.study.folds) == 2


def test_an_unregistered_stream_is_refused_by_name(blob_study) -> None:
    manifest, _, _ = blob_study
    config = _study_config(manifest)
    bad = config_from_dict({**_as_dict(config), "models": [{"name": "AGCN-x", "task": "motion", "kind": "agcn", "stream": "blobby"}]}, ExperimentConfig)
    with pytest.raises(ConfigError, match="unknown stream 'blobby'.*blob"):
        check_experiment(bad, "blob-study")


def test_an_unregistered_backend_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown pose backend 'no_such'.*mediapipe"):
        config_from_dict({"pose": {"backend": "no_such"}}, ExtractionConfig)


def _as_dict(config: ExperimentConfig) -> dict:
    from semiology.config import config_to_dict

    return config_to_dict(config)
