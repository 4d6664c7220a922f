"""Records are checked at the door: a recording where nobody was found is left out with a warning naming it, mixed layouts stop a study, and bundles refuse to explain or screen nobody."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from semiology.bundle import BundleError, load_bundle, model_inputs, prepare_record, segment_frames
from semiology.config import config_from_dict
from semiology.errors import ConfigError, DataWarning
from semiology.experiment import ExperimentConfig
from semiology.preprocess.model_inputs import build_stream_windows
from semiology.records import Keypoints
from tests.bundle_fixtures import tiny_bundle, tiny_records
from tests.evaluate.test_study import SMALL


def _nobody(record):
    empty = dataclasses.replace(record.body_2d, coords=np.full_like(record.body_2d.coords, np.nan), confidence=np.zeros_like(record.body_2d.confidence))
    return dataclasses.replace(record, body_2d=empty)


@pytest.fixture(scope="module")
def config() -> ExperimentConfig:
    return config_from_dict(SMALL, ExperimentConfig, source="test")


def test_a_recording_where_nobody_was_found_is_left_out_with_a_warning(small_records, config) -> None:
    task = config.tasks[0]
    records = list(small_records)
    labelled = next(i for i, r in enumerate(records) if r.labels.get(task.name) in task.classes)
    records[labelled] = _nobody(records[labelled])
    with pytest.warns(DataWarning, match=rf"seizure {records[labelled].seizure_id}: nobody in the recording .* left out of task 'dystonia'"):
        windows = build_stream_windows(records, task, "body", config)
    assert labelled not in set(windows.record_index.tolist())
    assert np.isfinite(windows.keypoints).all()


def test_keypoints_of_two_layouts_stop_the_study_naming_the_seizures(small_records, config) -> None:
    task = config.tasks[0]
    records = list(small_records)
    odd = next(i for i, r in enumerate(records) if r.labels.get(task.name) in task.classes)
    frames = records[odd].body_2d.num_frames
    coco = Keypoints(np.zeros((frames, 17, 2), np.float32), np.ones((frames, 17), np.float32), "coco_17", records[odd].body_2d.fps, "another detector")
    records[odd] = dataclasses.replace(records[odd], body_2d=coco)
    with pytest.raises(ConfigError, match="stream 'body' of task 'dystonia': the records' keypoints come in 2 layouts") as caught:
        build_stream_windows(records, task, "body", config)
    assert f"coco_17: {records[odd].seizure_id} (1)" in str(caught.value) and "upper_body_11: " in str(caught.value)


def test_a_bundle_refuses_to_read_a_recording_where_nobody_was_found(tmp_path_factory) -> None:
    bundle = load_bundle(tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle").path)
    record = prepare_record(bundle, _nobody(tiny_records(2)[0]))
    first, last = segment_frames(bundle, record)
    with pytest.raises(BundleError, match="nobody in the recording: every body keypoint is missing"):
        model_inputs(bundle, bundle.model("AGCN-pose"), record, first, last)
