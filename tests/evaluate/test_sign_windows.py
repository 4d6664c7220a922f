"""Tasks cut during a sign (`during:`): windows kept only where the annotated sign plays, through the config and the study.

A lateralised label (which way the head turns) is a seizure-level label, but the sign shows only
in part of the seizure; `during` keeps the windows lying at least half inside the sign's spans.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from semiology.config import config_from_dict
from semiology.errors import ConfigError, DataWarning
from semiology.evaluate.folds import data_hash
from semiology.evaluate.report import format_table
from semiology.evaluate.run import load_experiment
from semiology.evaluate.study import run_study, study_windows
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.preprocess.model_inputs import build_stream_windows, windows_inside_spans
from semiology.records import SIGN_SPANS
from tests.evaluate.test_study import SMALL

SIDE_STUDY = {
    **SMALL,
    "windows": {"target_fps": 10.0, "window_s": 1.0, "stride_s": 0.5},
    "tasks": [{"name": "dystonia_side", "classes": ["left", "right"], "during": "dystonic_posture"}],
    "models": [{"name": "AGCN-side", "task": "dystonia_side", "kind": "agcn", "stream": "body", "train": {"mirror": True}}],
    "evaluation": {"split": "loso", "workers": 1},
}


def _config(study: dict) -> ExperimentConfig:
    config = config_from_dict(study, ExperimentConfig, source="test")
    check_experiment(config, "test")
    return config


def _inside_share(start_s: float, window_s: float, spans: list[tuple[float, float]]) -> float:
    """Share of one window inside the union of `spans`, by sampling its time axis finely (independent of the merge in the code)."""
    times = start_s + (np.arange(1000) + 0.5) * window_s / 1000
    return float(np.mean([any(a <= t < b for a, b in spans) for t in times]))


def test_a_window_counts_when_at_least_half_of_it_lies_inside_the_merged_spans() -> None:
    starts = np.array([0.0, 1.0, 2.0, 3.0])
    kept = windows_inside_spans(starts, 2.0, 4.5, [(1.5, 3.0), (2.9, 3.6)])
    assert kept.tolist() == [False, True, True, False], "0.5 s, 1.5 s, 1.6 s inside; the last (shortened to 1.5 s by the end) has 0.6 s"
    assert not windows_inside_spans(np.array([0.0]), 2.0, 10.0, [(0.0, 0.6), (0.0, 0.6)])[0], "a span annotated twice is not counted twice"
    assert windows_inside_spans(np.array([0.0]), 2.0, 10.0, [(0.0, 0.6), (0.5, 1.0)])[0], "overlapping spans cover their union"
    assert windows_inside_spans(np.array([3.0]), 2.0, 4.0, [(3.0, 3.5)])[0], "a leftover window of 1 s is judged on its own length"
    assert windows_inside_spans(np.array([0.4, 1.3, 3.9]), 1.0, 10.0, [(0.9, 9.0)]).tolist() == [True, True, True], "exactly half counts"


def test_the_study_windows_of_a_task_cut_during_a_sign_lie_inside_its_spans(small_records) -> None:
    config = _config(SIDE_STUDY)
    task = config.tasks[0]
    everywhere = build_stream_windows(small_records, dataclasses.replace(task, during=None), "body", config)
    during = build_stream_windows(small_records, task, "body", config)
    assert 0 < len(during.labels) < len(everywhere.labels)
    for record_index, start_s in zip(during.record_index, during.start_s):
        spans = small_records[record_index].sign_spans("dystonic_posture")
        assert _inside_share(start_s, 1.0, spans) >= 0.5 - 1e-3
    left_out = [(r, s) for r, s in zip(everywhere.record_index, everywhere.start_s) if not np.isclose(during.start_s[during.record_index == r], s).any()]
    assert left_out and all(_inside_share(s, 1.0, small_records[r].sign_spans("dystonic_posture")) < 0.5 + 1e-3 for r, s in left_out)


def test_a_seizure_labelled_for_the_task_without_a_span_of_its_sign_stops_the_study(small_records) -> None:
    config = _config(SIDE_STUDY)
    records = list(small_records)
    bare = next(i for i, r in enumerate(records) if r.labels.get("dystonia_side") in ("left", "right"))
    records[bare] = dataclasses.replace(records[bare], meta={key: value for key, value in records[bare].meta.items() if key != SIGN_SPANS})
    with pytest.raises(ConfigError, match=rf"task 'dystonia_side' cuts its windows during sign 'dystonic_posture', but 1 of its seizures have no span of it: "
                                          rf"{records[bare].seizure_id} \(annotate the sign in the label store; or drop 'during'"):
        build_stream_windows(records, config.tasks[0], "body", config)
    unannotated = [dataclasses.replace(r, meta={key: value for key, value in r.meta.items() if key != SIGN_SPANS}) for r in records]
    with pytest.raises(ConfigError, match=r"no record carries sign spans: they come from the label store's sign labels \(data.source: store\) or a cached record's own"):
        build_stream_windows(unannotated, config.tasks[0], "body", config)


def test_a_seizure_whose_spans_hold_no_half_window_is_left_out_with_a_warning(small_records) -> None:
    config = _config(SIDE_STUDY)
    records = list(small_records)
    short = next(i for i, r in enumerate(records) if r.labels.get("dystonia_side") in ("left", "right"))
    onset = records[short].onset_s
    records[short] = dataclasses.replace(records[short], meta={**records[short].meta, SIGN_SPANS: {"dystonic_posture": [[onset + 0.12, onset + 0.37]]}})
    with pytest.warns(DataWarning, match=rf"seizure {records[short].seizure_id}: no window lies at least half inside its spans of 'dystonic_posture'"):
        windows = build_stream_windows(records, config.tasks[0], "body", config)
    assert short not in set(windows.record_index.tolist())


def test_a_study_fits_inside_the_sign_and_scores_every_window_of_the_held_out_seizures(small_records) -> None:
    config = _config(SIDE_STUDY)
    windows, test_windows = study_windows(small_records, config)
    ((key, fitted),) = windows.items()
    everywhere = build_stream_windows(small_records, dataclasses.replace(config.tasks[0], during=None), "body", config)
    assert len(fitted.labels) < len(everywhere.labels) and np.array_equal(test_windows[key].start_s, everywhere.start_s)
    study = run_study(config, small_records, synthetic=True, progress=False)
    (result,) = study.models
    table = result.predictions
    scored = sorted(zip(table.seizure_id.tolist(), np.round(table.window_start_s, 6).tolist()))
    expected = sorted((small_records[r].seizure_id, round(float(s), 6)) for r, s in zip(everywhere.record_index, everywhere.start_s))
    assert scored == expected, "every window of every held-out seizure is scored, inside the sign or not"
    assert "Task dystonia_side: fitted on the windows at least half inside the annotated spans of dystonic_posture; validated and scored on all windows." in format_table(study)


def test_a_held_out_seizure_is_scored_without_reading_its_own_spans(small_records) -> None:
    config = _config(SIDE_STUDY)
    subject = next(r.subject_id for r in small_records if r.labels.get("dystonia_side") in ("left", "right"))

    def moved(record):
        if record.subject_id != subject:
            return record
        return dataclasses.replace(record, meta={**record.meta, SIGN_SPANS: {"dystonic_posture": [[record.onset_s, record.onset_s + 2.0]]}})

    def held_out_rows(records):
        (result,) = run_study(config, records, synthetic=True, progress=False).models
        mine = result.predictions.subject_id == subject
        return result.predictions.window_start_s[mine], result.predictions.prob[mine]

    (starts, prob), (moved_starts, moved_prob) = held_out_rows(small_records), held_out_rows([moved(r) for r in small_records])
    assert len(starts) > 0 and np.array_equal(starts, moved_starts)
    assert np.array_equal(prob, moved_prob), "the held-out subject's own spans changed its predictions"


def test_a_seizure_left_out_of_the_sign_windows_takes_no_place_in_the_splits(small_records) -> None:
    records = list(small_records)
    side = [i for i, r in enumerate(records) if r.labels.get("dystonia_side") in ("left", "right")]
    subjects = [records[i].subject_id for i in side]
    index = next(i for i in side if subjects.count(records[i].subject_id) > 1)  # its subject keeps a seizure with windows
    onset = records[index].onset_s
    records[index] = dataclasses.replace(records[index], meta={**records[index].meta, SIGN_SPANS: {"dystonic_posture": [[onset + 0.1, onset + 0.3]]}})
    with pytest.warns(DataWarning, match="no window lies at least half inside its spans"):
        study = run_study(_config(SIDE_STUDY), records, synthetic=True, progress=False)
    (result,) = study.models
    assert records[index].seizure_id in set(result.predictions.seizure_id.tolist()), "held out, it is still scored on all its windows"


def test_the_spans_of_the_signs_a_study_cuts_during_are_part_of_its_data_hash(small_records) -> None:
    moved = [dataclasses.replace(r, meta={**r.meta, SIGN_SPANS: {**r.meta[SIGN_SPANS], "dystonic_posture": [[r.onset_s, r.onset_s + 1.0]]}}) for r in small_records]
    assert data_hash(moved, ["dystonic_posture"]) != data_hash(small_records, ["dystonic_posture"])
    assert data_hash(moved) == data_hash(small_records), "a study that cuts during no sign does not depend on spans"
    assert data_hash(moved, ["versive_head_turn"]) == data_hash(small_records, ["versive_head_turn"]), "only the spans of the signs read count"
    rewritten = [dataclasses.replace(r, meta={**r.meta, SIGN_SPANS: {term: [[int(a), int(b)] for a, b in reversed(spans)] for term, spans in r.meta[SIGN_SPANS].items()}})
                 for r in moved]
    integers = [dataclasses.replace(r, meta={**r.meta, SIGN_SPANS: {term: [[float(int(a)), float(int(b))] for a, b in spans] for term, spans in r.meta[SIGN_SPANS].items()}})
                for r in moved]
    assert data_hash(rewritten, ["dystonic_posture"]) == data_hash(integers, ["dystonic_posture"]), "the same moments hash the same, in any order or number type"


def test_during_is_refused_for_action_models(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks:\n  - {name: t, classes: [FLE, TLE], during: versive_head_turn}\nmodels:\n  - {name: G, task: t, kind: gestures}\n")
    with pytest.raises(ConfigError, match=r"models.G: task 't' sets during .* which action models"):
        load_experiment(bad)


def test_a_subject_with_no_sign_window_leaves_too_few_for_an_inner_split_and_the_study_says_so(small_records) -> None:
    records = list(small_records)
    side = [i for i, r in enumerate(records) if r.labels.get("dystonia_side") in ("left", "right")]
    subjects = [records[i].subject_id for i in side]
    index = next(i for i in side if subjects.count(records[i].subject_id) == 1)
    onset = records[index].onset_s
    records[index] = dataclasses.replace(records[index], meta={**records[index].meta, SIGN_SPANS: {"dystonic_posture": [[onset + 0.1, onset + 0.3]]}})
    with pytest.warns(DataWarning), pytest.raises(ValueError, match="an inner split needs at least 2 training subjects, got 1"):
        run_study(_config(SIDE_STUDY), records, synthetic=True, progress=False)


def test_models_fit_on_the_sign_windows_and_choose_their_epoch_on_all_windows(small_records, monkeypatch) -> None:
    import semiology.evaluate.study as study_module

    config = _config(SIDE_STUDY)
    windows, test_windows = study_windows(small_records, config)
    ((key, fitted),) = windows.items()
    inside = {row.tobytes() for row in fitted.keypoints}
    seen: list = []
    original = study_module.fit_searched

    def spy(points, settings, make_classifier, folds):
        seen.extend(folds)
        return original(points, settings, make_classifier, folds)

    monkeypatch.setattr(study_module, "fit_searched", spy)
    run_study(config, small_records, synthetic=True, progress=False)
    assert seen
    assert all(row.tobytes() in inside for fold in seen for row in fold.x_train), "a model fitted on a window outside the sign"
    assert any(row.tobytes() not in inside for fold in seen for row in fold.x_val), "validation should read the windows outside the sign too"


def test_a_task_without_window_models_is_left_alone(small_records) -> None:
    study = {**SIDE_STUDY, "tasks": [*SIDE_STUDY["tasks"], {"name": "dystonia", "classes": ["no", "yes"]}]}
    result = run_study(_config(study), small_records, synthetic=True, progress=False)
    assert [model.key for model in result.models] == ["dystonia_side/AGCN-side"]
    assert result.data_hash == data_hash(small_records, ["dystonic_posture"]) != data_hash(small_records)


def test_a_bundle_refits_on_the_sign_windows_and_names_the_sign(small_records, tmp_path: Path) -> None:
    from semiology.bundle.build import build_bundle
    from semiology.bundle.store import load_bundle
    from semiology.preprocess.model_inputs import cap_per_record

    config = _config({**SIDE_STUDY, "windows": {**SIDE_STUDY["windows"], "max_train_windows_per_seizure": 1000}})
    study = run_study(config, small_records, synthetic=True, progress=False)
    bundle = load_bundle(build_bundle(config, small_records, study, {}, {}, tmp_path / "bundle"))
    (entry,) = bundle.meta["models"]
    windows, _ = study_windows(small_records, config)
    (fitted,) = windows.values()
    labelled = np.unique(fitted.record_index)
    assert entry["during"] == "dystonic_posture"
    everywhere = build_stream_windows(small_records, dataclasses.replace(config.tasks[0], during=None), "body", config)
    assert entry["n_train_windows"] == len(cap_per_record(fitted.record_index, labelled, 1000)) < len(everywhere.labels)
