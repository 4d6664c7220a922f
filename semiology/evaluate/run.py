"""From a config file to a written report: the library side of `tools/loso_eval.py`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from semiology.config import load_config, override
from semiology.evaluate.report import format_table, write_report
from semiology.evaluate.results import StudyResult
from semiology.evaluate.study import check_experiment, run_study
from semiology.experiment import ExperimentConfig
from semiology.io.dataset import load_study_records
from semiology.models.appearance import attach_appearance_features
from semiology.preprocess.resample import resample_record


@dataclass
class ExperimentRun:
    study: StudyResult
    files: dict[str, Path]
    table: str


def load_experiment(config_path: Path, overrides: dict | None = None) -> ExperimentConfig:
    """Load and validate an experiment config; every problem is a ConfigError naming the file."""
    config = load_config(config_path, ExperimentConfig)
    if overrides:
        config = override(config, overrides)
    check_experiment(config, str(config_path))
    return config


def run_experiment(config: ExperimentConfig, out_dir: Path, source: str, progress: bool = True, bundle_dir: Path | None = None) -> ExperimentRun:
    """Load the records, compute appearance features, evaluate every model, write the report.

    With `bundle_dir`, also refit the models on all subjects with the settings the folds chose
    and save them there as a model bundle (see `semiology.bundle`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    label_values = {task.name: tuple(task.classes) for task in config.tasks}
    records, synthetic = load_study_records(config.data, source, label_values)
    records = [resample_record(record, config.windows.target_fps) for record in records]
    streams = {model.stream for model in config.models if model.kind in ("tcn", "agcn_kd")}
    attach_appearance_features(records, streams, config.encoder, out_dir / "encoders")
    study = run_study(config, records, synthetic=synthetic, progress=progress)
    files = write_report(study, out_dir)
    evaluations = json.loads(files["metrics.json"].read_text())["models"]
    if bundle_dir is not None:
        from semiology.bundle import build_bundle, bundle_encoders

        encoders = bundle_encoders(config, records, out_dir / "encoders")
        files["bundle"] = build_bundle(config, records, study, evaluations, encoders, Path(bundle_dir))
    return ExperimentRun(study=study, files=files, table=format_table(study, evaluations))
