"""A recording without pre-ictal frames is normalised by the stated fallback, and the study report says so per record."""

import dataclasses
import json
import warnings

from semiology.config import config_from_dict
from semiology.errors import DataWarning
from semiology.evaluate.report import write_report
from semiology.evaluate.study import run_study
from semiology.experiment import ExperimentConfig
from tests.evaluate.test_study import SMALL


def test_a_record_without_a_pre_ictal_period_is_listed_with_its_fallback(small_records, tmp_path):
    data = json.loads(json.dumps(SMALL))
    data["models"] = [data["models"][1]]  # AGCN-pose alone
    config = config_from_dict(data, ExperimentConfig, source="test")
    records = list(small_records)
    records[0] = dataclasses.replace(records[0], onset_s=0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = run_study(config, records, synthetic=True, progress=False)
    assert any(issubclass(w.category, DataWarning) and records[0].seizure_id in str(w.message) for w in caught)
    assert [note["seizure"] for note in study.normalisation_notes] == [records[0].seizure_id]
    assert "quietest" in study.normalisation_notes[0]["note"]
    files = write_report(study, tmp_path)
    metrics = json.loads(files["metrics.json"].read_text())
    assert metrics["normalisation"]["baseline"] == "pre_ictal" and metrics["normalisation"]["notes"] == study.normalisation_notes
    report = files["report.md"].read_text()
    assert "## Normalisation" in report and records[0].seizure_id in report.split("## Normalisation")[1]

    clean = run_study(config, list(small_records), synthetic=True, progress=False)
    assert clean.normalisation_notes == []
    assert "No record fell back." in write_report(clean, tmp_path / "clean")["report.md"].read_text()
