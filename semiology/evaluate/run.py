"""From a config file to a written report: the library side of `tools/loso_eval.py`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from semiology.config import load_config, override
from semiology.evaluate.action import merge_study, run_action_study, write_draws
from semiology.evaluate.dataset import load_study_records
from semiology.evaluate.report import format_table, write_report
from semiology.evaluate.results import StudyResult
from semiology.evaluate.study import run_study
from semiology.experiment import ACTION_KINDS, ExperimentConfig, check_experiment
from semiology.models.appearance import attach_appearance_features
from semiology.preprocess.resample import resample_record
from semiology.records import SeizureRecord


@dataclass
class ExperimentRun:
    """A finished study: its result, the files written, the printed table, and the records the window models read (at the target frame rate, with appearance features)."""

    study: StudyResult
    files: dict[str, Path]
    table: str
    records: list[SeizureRecord]


def load_experiment(config_path: Path, overrides: dict | None = None) -> ExperimentConfig:
    """Load and validate an experiment config; every problem is a ConfigError naming the file."""
    config = load_config(config_path, ExperimentConfig)
    if overrides:
        config = override(config, overrides)
    check_experiment(config, str(config_path))
    return config


def load_records(config: ExperimentConfig, source: str) -> tuple[list[SeizureRecord], bool]:
    """The study's records at their recorded frame rate, and whether they are synthetic."""
    label_values: dict[str, tuple[str, ...]] = {}
    for task in config.tasks:
        column = task.label or task.name
        label_values[column] = tuple(dict.fromkeys(label_values.get(column, ()) + tuple(task.classes)))
    return load_study_records(config.data, source, label_values, workers=config.evaluation.workers)


def run_experiment(
    config: ExperimentConfig,
    out_dir: Path,
    source: str,
    progress: bool = True,
    loaded: tuple[list[SeizureRecord], bool] | None = None,
) -> ExperimentRun:
    """Load the records, compute appearance features, evaluate every model, write the report.

    Keypoint/appearance models run on windows (`run_study`), action-stream models on snippet
    features (`run_action_study`), over the same folds, into one report; every network (frame
    encoders included) runs on `config.train.device`. `loaded` passes
    records already loaded with `load_records` (several studies of one cohort). A model bundle
    of the window models is built from the returned run (`semiology.bundle.build.run_and_bundle`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    native, synthetic = loaded if loaded is not None else load_records(config, source)
    window_config = dataclasses.replace(config, models=tuple(m for m in config.models if m.kind not in ACTION_KINDS))
    study, records = None, native
    if window_config.models:
        records = [resample_record(record, config.windows.target_fps) for record in native]
        streams = {model.stream for model in config.models if model.kind in ("tcn", "agcn_kd")}
        attach_appearance_features(records, streams, config.encoder, out_dir / "encoders", config.train.device)
        study = run_study(window_config, records, synthetic=synthetic, progress=progress)
    action = run_action_study(config, native, progress) if len(window_config.models) < len(config.models) else None
    if action is not None:
        study = merge_study(config, native, synthetic, study, action)
    files = write_report(study, out_dir, config.evaluation.workers)
    if action is not None:
        files["snippet_draws.json"] = write_draws(action.draws, out_dir / "snippet_draws.json")
    evaluations = json.loads(files["metrics.json"].read_text())["models"]
    return ExperimentRun(study=study, files=files, table=format_table(study, evaluations), records=records)
