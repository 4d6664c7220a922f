"""Multi-view recordings from a study's manifest: each camera is its own record, GESTURES averages them per seizure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semiology.evaluate.dataset import load_study_records
from semiology.experiment import DataConfig
from semiology.io.cache import save_record
from semiology.models.gestures import average_views, view_seizure_id
from semiology.records import Keypoints, SeizureRecord


def _cached(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    keypoints = Keypoints(rng.uniform(0, 100, (40, 11, 2)), np.ones((40, 11)), "upper_body_11", 10.0, "test")
    return save_record(SeizureRecord("x", "y", 10.0, 0.0, 1.0, {}, body_2d=keypoints), path, "test")


def test_a_view_column_reaches_the_records_and_their_predictions_are_averaged_per_seizure(tmp_path: Path) -> None:
    for name, seed in (("left", 0), ("right", 1), ("single", 2)):
        _cached(tmp_path / f"{name}.npz", seed)
    (tmp_path / "study.csv").write_text(
        "seizure_id,subject_id,view,keypoints,onset_s,offset_s,seizure_type\n"
        "sz1,P1,left,left.npz,1,3,FOS\nsz1,P1,right,right.npz,1,3,FOS\nsz2,P2,,single.npz,1,3,TCS\n"
    )
    records, synthetic = load_study_records(DataConfig(source="manifest", manifest=str(tmp_path / "study.csv")), "study.yaml")
    assert not synthetic and [r.seizure_id for r in records] == ["sz1.left", "sz1.right", "sz2"]
    assert records[0].subject_id == records[1].subject_id != "P1", "one pseudonymised subject for both views"
    views = np.array([view_seizure_id(r.seizure_id, r.meta) for r in records])
    assert views.tolist() == ["sz1", "sz1", "sz2"]
    seizures, prob, first = average_views(views, np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]))
    assert seizures.tolist() == ["sz1", "sz2"] and first.tolist() == [0, 2]
    np.testing.assert_allclose(prob, [[0.4, 0.6], [0.1, 0.9]])
