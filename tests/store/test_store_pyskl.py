"""The pyskl/mmaction2 skeleton pickle: the cached keypoints with the store's labels, ids and signs, missing joints as score 0."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from semiology.io.cache import load_record
from semiology.pseudonyms import pseudonym
from semiology.store.accounts import get_user
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.labels import SignSpan, add_sign_label, get_seizure
from semiology.store.manifests import import_manifest
from semiology.store.pyskl import export_skeletons
from tests.store.conftest import SECRET, People, cached_record, write_csv


@pytest.fixture
def skeleton_store(store: Store, people: People, tmp_path: Path) -> Store:
    """Four seizures: two with a dystonia label and a cached record, one without a label, one whose record is missing."""
    for index, key in enumerate(("k1", "k2", "k3")):
        cached_record(tmp_path / f"{key}.npz", key, "HN-in-the-old-cache", frames=20 + index, seed=index)
    manifest = write_csv(tmp_path / "m.csv", ["seizure_id", "subject_id", "keypoints", "fps", "onset_s", "offset_s", "dystonia"], [
        ["k1", "site-1", "k1.npz", 10, 0.5, 1.5, "yes"], ["k2", "site-2", "k2.npz", 10, 0.5, 1.8, "no"],
        ["k3", "site-2", "k3.npz", 10, 0.5, 1.5, ""], ["k4", "site-3", "gone.npz", 10, 0.5, 1.5, "no"]])
    import_manifest(store, manifest, people.site, people.admin, SECRET, check_files=False)
    with store.session(actor=people.alice) as session:
        add_sign_label(session, get_seizure(session, "k1"), SignSpan("dystonic_posture", 0.6, 1.2, "left"), annotator=get_user(session, people.alice))
    return store


def test_the_pickle_has_what_pyskl_reads_and_the_store_labels(skeleton_store: Store, tmp_path: Path) -> None:
    result = export_skeletons(skeleton_store, tmp_path / "out" / "skeletons.pkl", "dystonia", classes=["no", "yes"])
    assert (result.annotations, result.label_names) == (2, ("no", "yes"))
    assert dict(result.skipped).keys() == {"k3", "k4"}
    assert dict(result.skipped)["k3"] == "no value of task 'dystonia'" and "cache file not found" in dict(result.skipped)["k4"]
    with (tmp_path / "out" / "skeletons.pkl").open("rb") as handle:
        data = pickle.load(handle)
    assert data["label_names"] == ["no", "yes"] and data["layout"] == "upper_body_11" and len(data["joint_names"]) == 11
    first, second = data["annotations"]
    assert (first["frame_dir"], first["label"], second["frame_dir"], second["label"]) == ("k1", 1, "k2", 0)
    record = load_record(tmp_path / "k1.npz")
    assert first["keypoint"].shape == (1, 20, 11, 2) and first["keypoint"].dtype == np.float32
    assert first["keypoint_score"].shape == (1, 20, 11)
    assert first["keypoint"][0, 0, 4].tolist() == [0.0, 0.0] and first["keypoint_score"][0, 0, 4] == 0.0, "a missing joint is 0 with score 0"
    assert np.array_equal(first["keypoint"][0, 1:], record.body_2d.coords[1:])
    assert first["total_frames"] == 20
    seen = record.body_2d.coords[np.isfinite(record.body_2d.coords).all(axis=-1)]
    assert first["img_shape"] == (math.ceil(seen[:, 1].max()) + 1, math.ceil(seen[:, 0].max()) + 1) == first["original_shape"]
    assert first["subject"] == pseudonym("site-1", SECRET), "ids come from the store, not from the cache file"
    assert (first["onset_frame"], first["offset_frame"]) == (5, 15)
    assert first["signs"] == [{"term": "dystonic_posture", "side": "left", "region": None, "start_frame": 6, "end_frame": 12, "status": "human",
                               "annotator": "alice", "model": None}]
    assert data["split"] == {"all": ["k1", "k2"], f"sub-{pseudonym('site-1', SECRET)}": ["k1"], f"sub-{pseudonym('site-2', SECRET)}": ["k2"]}
    assert b"HN-in-the-old-cache" not in (tmp_path / "out" / "skeletons.pkl").read_bytes()


def test_a_task_nobody_labelled_is_refused(skeleton_store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no seizure has a value of task 'emotion'"):
        export_skeletons(skeleton_store, tmp_path / "x.pkl", "emotion")
    with pytest.raises(StoreError, match="unknown keypoint stream 'hands'"):
        export_skeletons(skeleton_store, tmp_path / "x.pkl", "dystonia", stream="hands")
