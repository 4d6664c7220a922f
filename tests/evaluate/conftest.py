"""Shared fixture: the records of test_study's small cohort, at the target frame rate, with body appearance features."""

import pytest

from semiology.config import config_from_dict
from semiology.experiment import ExperimentConfig
from semiology.models.appearance import attach_appearance_features
from semiology.preprocess.resample import resample_record
from semiology.synthetic import CohortSpec, make_cohort
from tests.evaluate.test_study import SMALL


@pytest.fixture(scope="session")
def small_records(tmp_path_factory):
    config = config_from_dict(SMALL, ExperimentConfig, source="test")
    loaded = [resample_record(r, config.windows.target_fps) for r in make_cohort(CohortSpec(**SMALL["data"]["synthetic"]))]
    attach_appearance_features(loaded, {"body"}, config.encoder, tmp_path_factory.mktemp("encoders"))
    return loaded
