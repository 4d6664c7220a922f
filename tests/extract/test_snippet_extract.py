"""Snippet-feature extraction: I3D sample features, cache round trip, resume and bad recordings."""

import numpy as np
import torch

from semiology.errors import SemiologyError
from semiology.extract.snippets import extract_batch, i3d_sample_features, read_frames
from semiology.io.cache import cache_path
from semiology.io.snippet_cache import load_sample_features
from semiology.models.i3d import I3D, fast_extractor
from semiology.records import SeizureRecord, padding_mask


def _record(seizure_id: str) -> SeizureRecord:
    return SeizureRecord(seizure_id=seizure_id, subject_id="P1", fps=30.0, onset_s=1.0, offset_s=3.5, labels={"generalisation": "FOS"})


def test_i3d_features_resume_and_failures(tmp_path) -> None:
    torch.manual_seed(0)
    extractor = fast_extractor(I3D(num_classes=2).eval())
    stack = (np.random.default_rng(0).random((135, 24, 24)) * 255).astype(np.uint8)
    np.save(tmp_path / "clip.npy", stack)
    frames, fps = read_frames(tmp_path / "clip.npy", "ir", 30.0)
    assert frames.shape[0] == 135 and fps == 30.0

    calls = []

    def encode(record: SeizureRecord):
        calls.append(record.seizure_id)
        if record.seizure_id == "bad":
            raise SemiologyError("bad.mp4: truncated")
        return i3d_sample_features(extractor, frames, fps, record.onset_s, record.offset_s, size_px=32)

    out = tmp_path / "features"
    summary = extract_batch([_record("good"), _record("bad")], encode, out, "hash-a", progress=False)
    assert summary.written == ["good"] and summary.failed[0][0] == "bad" and "truncated" in summary.failed[0][1]
    record, samples = load_sample_features(cache_path(out, "good"), "hash-a")
    assert record.labels == {"generalisation": "FOS"}
    assert samples.encoder == "i3d" and samples.features.shape[1:] == (7, 1024)
    # pre-ictal 30 frames, ictal 60 + a 15-frame leftover, post-ictal 30 frames
    assert samples.segment.tolist() == [0, 1, 1, 2]
    assert padding_mask(samples.features).sum(axis=1).tolist() == [3, 7, 1, 3]
    again = extract_batch([_record("good")], encode, out, "hash-a", progress=False)
    assert again.skipped == ["good"] and calls.count("good") == 1
    redone = extract_batch([_record("good")], encode, out, "hash-b", progress=False)
    assert redone.written == ["good"]


def test_kinematic_features_are_made_again_when_the_record_changes_and_refused_for_nobody(tmp_path) -> None:
    import dataclasses

    from semiology.extract.snippets import kinematic_record_features
    from tests.bundle_fixtures import tiny_records

    record = tiny_records(2, seed=41)[0]
    encode = kinematic_record_features
    first = extract_batch([record], encode, tmp_path, "h", progress=False)
    assert first.written == [record.seizure_id]
    assert extract_batch([record], encode, tmp_path, "h", progress=False).skipped == [record.seizure_id]
    moved = dataclasses.replace(record, onset_s=record.onset_s + 1.0)
    assert extract_batch([moved], encode, tmp_path, "h", progress=False).written == [record.seizure_id], "a changed onset is not served from the cache"
    _, samples = load_sample_features(cache_path(tmp_path, record.seizure_id))
    assert samples.start_frame[samples.segment == 1][0] == round(moved.onset_s * moved.fps)
    body = record.body_3d if record.body_3d is not None else record.body_2d
    empty = dataclasses.replace(body, coords=np.full_like(body.coords, np.nan), confidence=np.zeros_like(body.confidence))
    nobody = dataclasses.replace(record, seizure_id="nobody", body_2d=dataclasses.replace(record.body_2d, coords=np.full_like(record.body_2d.coords, np.nan), confidence=np.zeros_like(record.body_2d.confidence)), body_3d=empty if record.body_3d is not None else None)
    failed = extract_batch([nobody], encode, tmp_path, "h", progress=False).failed
    assert failed and failed[0][0] == "nobody" and "nobody in the recording" in failed[0][1]
