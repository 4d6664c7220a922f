"""The schema of an experiment config (`configs/*.yaml`), validated when loaded.

Every key a YAML file may hold is a field here; `semiology.config.load_config` rejects
unknown keys and wrong types with a message naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass, replace
from itertools import product
from pathlib import Path
from typing import Any, Literal, get_type_hints

from semiology.engines.device import device_name_problem, device_problem
from semiology.errors import ConfigError
from semiology.streams import appearance_names, get_stream, stream_names
from semiology.synthetic.spec import CohortSpec

ACTION_KINDS = ("lstm_fc", "lstm_fc_extended", "i3d_head", "gestures")
"""Model kinds of the action stream (2-s samples of snippet features, or whole seizures)."""
SAMPLE_KINDS = ("lstm_fc", "lstm_fc_extended", "i3d_head")
"""Action models that classify 2-s samples."""
WINDOW_KINDS = ("agcn", "tcn", "agcn_kd", "fusion")
"""Model kinds that read a stream's windows (keypoints and appearance features)."""



def _out_of_range(section: Any, rules: dict[str, str]) -> None:
    """Raise one ValueError naming every field of `section` outside its range (None values are unset overrides, skipped).

    A rule is `positive` (> 0), `non_negative` (>= 0), `open_fraction` (strictly between 0
    and 1), `probability` ([0, 1]), `dropout` ([0, 1)) or `at_least_2`.
    """
    tests = {
        "positive": (lambda v: v > 0, "must be positive"),
        "non_negative": (lambda v: v >= 0, "must not be negative"),
        "open_fraction": (lambda v: 0 < v < 1, "must lie strictly between 0 and 1"),
        "probability": (lambda v: 0 <= v <= 1, "must lie in [0, 1]"),
        "dropout": (lambda v: 0 <= v < 1, "must lie in [0, 1)"),
        "at_least_2": (lambda v: v >= 2, "must be at least 2"),
    }
    problems = []
    for name, rule in rules.items():
        value = getattr(section, name)
        check, wording = tests[rule]
        if value is not None and not check(value):
            problems.append(f"{name} {wording}, got {value}")
    if problems:
        raise ValueError("; ".join(problems))


@dataclass
class DataConfig:
    """Where the seizures come from.

    `synthetic`: the embedded cohort, described by `semiology.synthetic.CohortSpec` (its
    own validation errors surface as config errors naming the file). `cache`: every record in `cache_dir`. `manifest`: the
    rows of `manifest` (CSV/YAML), each with a `keypoints` column naming its cached record;
    subject, timing and labels are taken from the manifest, which is validated first.
    `store`: the same rows from the label store at `store` (a database URL or a SQLite file,
    see `semiology.store`), validated with the manifest's rules and messages. A manifest's
    subject ids are pseudonymised with this site's secret as they are read (see
    `semiology.io.sources`), unless `subject_ids_are_pseudonyms` says they already are (a
    manifest exported from the label store); `allow_columns` accepts label columns whose names
    look identifying.
    """

    source: Literal["synthetic", "cache", "manifest", "store"] = "synthetic"
    cache_dir: str | None = None
    manifest: str | None = None
    store: str | None = None
    subject_ids_are_pseudonyms: bool = False
    allow_columns: tuple[str, ...] = ()
    synthetic: CohortSpec = field(default_factory=CohortSpec)


@dataclass
class WindowConfig:
    """How seizures are cut into model inputs.

    `baseline: pre_ictal` expresses every window relative to the same recording's pre-ictal
    period (mean pose, mean appearance features): available at test time, so no leakage, and
    it turns habitual posture and face shape into a zero reference. `view: body` rotates 3D
    keypoints into the patient's body frame, estimated over the same pre-ictal period (the
    whole recording when there is none), so that where the depth camera stood does not become a
    feature (see `semiology.preprocess.view`); 2D keypoints are left as they are.

    The baseline policy is one setting applied the same way to every record:
    `pre_ictal` (above); `quietest`: the stillest `window_s` block of the whole recording
    (no clinical times needed); `causal`: for each window, the stillest block in the
    `baseline_history_s` before it, with the scale and body frame from that past too (no
    look-ahead: what a live session can compute, so a model trained with it can run live;
    see `semiology.preprocess.windows.causal_window`); `none`. Under `pre_ictal` (and `none`,
    for the body frame), a recording without pre-ictal frames (onset at 0 s, or nobody seen
    before it) takes `baseline_fallback` (`quietest`, or `none`: no baseline and a body frame
    from every frame), with a DataWarning and a note per record.
    """

    target_fps: float = 10.0
    window_s: float = 2.0
    stride_s: float = 2.0
    min_leftover_s: float = 0.34
    max_train_windows_per_seizure: int = 8
    segment: Literal["ictal", "recording"] = "ictal"
    baseline: Literal["none", "pre_ictal", "quietest", "causal"] = "pre_ictal"
    baseline_fallback: Literal["quietest", "none"] = "quietest"
    baseline_history_s: float = 60.0
    view: Literal["camera", "body"] = "camera"

    def __post_init__(self) -> None:
        _out_of_range(self, {"target_fps": "positive", "window_s": "positive", "stride_s": "positive", "min_leftover_s": "non_negative", "max_train_windows_per_seizure": "positive",
                             "baseline_history_s": "positive"})


@dataclass
class AGCNConfig:
    """2s-AGCN widths; the paper's ten blocks are the default, the demo uses a small variant.

    `bones` feeds every AGCN of the study 2s-AGCN's bone stream (each joint's offset from its
    layout parent, relative to rest) instead of joint positions.
    """

    channels: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    strides: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
    temporal_kernel: int = 9
    dropout: float = 0.0
    bones: bool = False

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.strides) or not self.channels:
            raise ValueError(f"channels and strides must be non-empty and of one length, got {len(self.channels)} and {len(self.strides)}")
        _out_of_range(self, {"temporal_kernel": "positive", "dropout": "dropout"})


@dataclass
class TCNConfig:
    channels: tuple[int, ...] = (64, 64, 64)
    kernel_size: int = 3
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must be non-empty and positive, got {list(self.channels)}")
        _out_of_range(self, {"kernel_size": "positive", "dropout": "dropout"})


@dataclass
class PretextOverrides:
    """One appearance stream's (`body` or `face`) pretraining settings in place of the encoder-wide ones; None keeps those."""

    pretext: Literal["position", "position_shape", "shape"] | None = None
    pretrain_shift_px: int | None = None

    def __post_init__(self) -> None:
        if self.pretrain_shift_px is not None and self.pretrain_shift_px < 0:
            raise ValueError(f"pretrain_shift_px must not be negative, got {self.pretrain_shift_px}")


@dataclass
class EncoderConfig:
    """The frozen per-frame encoder the TCN streams read.

    `small_cnn` is pretrained once on a disjoint synthetic set (other subjects, other seed)
    and cached; `torchvision` takes a user's ImageNet checkpoint for real data. `pretext` is
    what the small CNN learns to regress from a crop: where the keypoints are (`position`,
    normalised per recording), or that and the shape they form (`position_shape`: each
    frame's keypoints centred and scaled to unit spread), or the shape alone (`shape`).
    Position alone is dominated by where the head or body is; an expression (raised brows,
    widened eyes) barely moves the face's landmarks but changes their shape.
    `pretrain_shift_px` translates each pretraining crop by a random offset of up to that many
    pixels, so that (with the `shape` pretext, whose targets a shift leaves unchanged) the
    encoder learns to ignore where in the crop the face or body is: during fast head jerks the
    tracked face moves inside its crop, which an encoder that sees position reads as change.
    `streams` sets these two per appearance stream (`body`, `face`), e.g. the demo's
    `streams: {face: {pretext: shape, pretrain_shift_px: 3}}`.
    """

    kind: Literal["small_cnn", "torchvision"] = "small_cnn"
    pretext: Literal["position", "position_shape", "shape"] = "position_shape"
    arch: Literal["resnet18", "resnet50", "vgg16"] = "resnet18"
    checkpoint: str | None = None
    out_features: int = 64
    pretrain_subjects: int = 4
    pretrain_seizures: int = 6
    pretrain_seed: int = 1000
    pretrain_epochs: int = 4
    pretrain_shift_px: int = 0
    streams: dict[str, PretextOverrides] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pretrain_shift_px < 0:
            raise ValueError(f"pretrain_shift_px must not be negative, got {self.pretrain_shift_px}")

    def for_stream(self, stream: str) -> EncoderConfig:
        """These settings with `streams[stream]`'s overrides in place (and no per-stream table left)."""
        overrides = self.streams.get(stream, PretextOverrides())
        chosen = {f.name: getattr(overrides, f.name) for f in fields(overrides) if getattr(overrides, f.name) is not None}
        return replace(self, **chosen, streams={})


TRAIN_RANGES = {"epochs": "positive", "batch_size": "positive", "lr": "positive", "weight_decay": "non_negative", "patience": "positive", "val_fraction": "open_fraction"}
"""The ranges of `TrainConfig`'s numbers, checked when a config is loaded (and, but for the inner split, of each model's overrides)."""


@dataclass
class TrainConfig:
    """Fitting settings shared by every model of a study.

    `mirror` mirrors a random half of each training batch of keypoint models left-right (see
    `semiology.train.augment`); a task whose classes name the sides (`left`, `right`) has its
    labels mirrored with the skeleton. `select` is
    what the kept epoch minimises or maximises on the inner validation split: `loss` (class-
    weighted cross-entropy) or `auc` (area under the ROC curve, macro one-vs-rest; ties go to
    the lower loss). A loss on a few validation subjects rewards an undertrained model whose
    probabilities all sit near 0.5; the AUC asks only whether the classes are ranked apart.
    `cross_fit` trains the model once per inner fold (every training subject is validation
    subject once, see `inner_folds`) instead of on the first inner split only: the model is the
    mean of the inner-fold models, and its decision threshold is chosen on the out-of-fold
    predictions of all training subjects rather than of about `val_fraction` of them. It costs
    about `1 / val_fraction` times the training time.

    `device` is where every network of the run trains and predicts: `cpu` (the default), `cuda`
    or `cuda:N` (`tools/loso_eval.py --device` sets it): the folds' fits, a teacher's logits, the
    bundle's final models and the frame encoders' features. It is one setting for the whole run
    (`RUN_TRAIN_FIELDS`). On a GPU the folds run one after another in this process whatever
    `evaluation.workers` says (a forked worker cannot use CUDA once its parent has); the frame
    encoders are still pretrained on the CPU, so their cached weights do not depend on the machine,
    and a bundle is saved with CPU tensors. GPU kernels round differently, so results there are not
    bit-identical to the CPU's. Whether this machine has the device is checked by
    `check_experiment`, not when a config is read, so a bundle trained on a GPU loads anywhere.
    """

    epochs: int = 15
    batch_size: int = 64
    lr: float = 0.003
    weight_decay: float = 0.0001
    patience: int = 4
    val_fraction: float = 0.25
    class_weighted: bool = True
    mirror: bool = False
    select: Literal["loss", "auc"] = "loss"
    cross_fit: bool = False
    device: str = "cpu"

    def __post_init__(self) -> None:
        _out_of_range(self, TRAIN_RANGES)
        problem = device_name_problem(self.device)
        if problem is not None:
            raise ValueError(problem)


def _check_overrides(self: Any) -> None:
    _out_of_range(self, {name: rule for name, rule in TRAIN_RANGES.items() if name not in PER_FOLD_TRAIN_FIELDS})


def _apply_overrides(self: Any, study: TrainConfig) -> TrainConfig:
    """The study's settings with this model's overrides in place."""
    return replace(study, **{f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None})


PER_FOLD_TRAIN_FIELDS = ("val_fraction",)
"""`TrainConfig` fields a model cannot override: the inner split belongs to the fold, and a teacher, its student and a fusion share it."""

RUN_TRAIN_FIELDS = ("device",)
"""`TrainConfig` fields a model cannot override either: where the run trains is one setting, which `--device` replaces for every model at once."""

TrainOverrides = make_dataclass(
    "TrainOverrides",
    [(f.name, get_type_hints(TrainConfig)[f.name] | None, field(default=None)) for f in fields(TrainConfig)
     if f.name not in PER_FOLD_TRAIN_FIELDS + RUN_TRAIN_FIELDS],
    namespace={"__post_init__": _check_overrides, "apply": _apply_overrides, "__module__": __name__},
)
TrainOverrides.__doc__ = """One model's departures from the study's `train:` section; `None` keeps the study's value.

Derived from `TrainConfig` (every field but `PER_FOLD_TRAIN_FIELDS` and `RUN_TRAIN_FIELDS`), so a new training setting
can be overridden per model without being written twice. Streams differ in what they need: an
AGCN learning from raw keypoints needs more, larger optimiser steps than a TCN on the features
of a frozen encoder, and one setting for both undertrains one or overfits the other.
`cross_fit` may differ between models, except that a cross-fitted student needs a cross-fitted
teacher and both members of a fusion must agree.
"""


SEARCH_FIELDS = ("epochs", "batch_size", "lr", "weight_decay", "patience", "mirror", "class_weighted")
"""`TrainConfig` fields a model's `search:` grid may vary: the numeric ones and the two switches.

`select` and `cross_fit` are not searchable: they decide how the inner split itself is used
(what a kept epoch is, which windows a fusion's weights see), so a grid over them would
compare scores computed on different validation sets."""


def _check_search(self: Any) -> None:
    for name in SEARCH_FIELDS:
        values = getattr(self, name)
        if values is None:
            continue
        if not values:
            raise ValueError(f"search.{name}: give at least one value")
        if len(set(values)) < len(values):
            raise ValueError(f"search.{name}: values repeat ({list(values)})")
        for value in values:
            try:
                TrainOverrides(**{name: value})  # the same range checks as a single setting
            except ValueError as exc:
                raise ValueError(f"search.{exc}") from None


def _search_points(self: Any) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the first field varies slowest), `[{}]` without a grid."""
    names = [name for name in SEARCH_FIELDS if getattr(self, name) is not None]
    return [dict(zip(names, combination)) for combination in product(*(getattr(self, name) for name in names))]


TrainSearch = make_dataclass(
    "TrainSearch",
    [(name, tuple[get_type_hints(TrainConfig)[name], ...] | None, field(default=None)) for name in SEARCH_FIELDS],
    namespace={"__post_init__": _check_search, "points": _search_points, "__module__": __name__},
)
TrainSearch.__doc__ = """A model's nested hyperparameter grid: candidate values per `SEARCH_FIELDS` setting.

In every outer fold each combination is fitted on the fold's inner split(s) and the one with
the best inner-validation score (the study's `train.select`: AUC, or the log loss) is kept;
the held-out subject is never seen by the choice. The chosen values are recorded per fold
(the report's selection table) and the final model of a bundle takes, per setting, the value
most folds chose. A grid of G combinations costs G fits per fold."""


@dataclass
class DistillationConfig:
    temperature: float = 4.0
    alpha: float = 0.5

    def __post_init__(self) -> None:
        _out_of_range(self, {"temperature": "positive", "alpha": "probability"})


@dataclass
class TaskConfig:
    """A classification task: the label column and its classes (the positive class last).

    Action-stream tasks may read another column (`label`, default the task's name, so that two
    tasks can share one column) and give every 2-s sample outside the ictal period the class
    `outside_ictal` (the non-epileptic class of FLE vs TLE vs non-epileptic).

    `during` (keypoint models) names a sign term: of the windows the study cuts
    (`windows.segment`), the task's models fit on those lying at least half inside an annotated
    span of that sign (`SeizureRecord.sign_spans`). A seizure-level label that reads a sign
    (which way the head turns) then learns from the moments that show it, not from the seconds
    before it begins. Epoch, threshold and fusion weights are chosen, and held-out seizures
    scored, on every window of the segment, as screening reads a new recording: a held-out
    seizure's own spans are never read.
    """

    name: str
    classes: tuple[str, ...]
    label: str | None = None
    outside_ictal: str | None = None
    during: str | None = None


@dataclass
class ModelConfig:
    """One row of the results table.

    `agcn` and `tcn` train a stream; `agcn_kd` trains an AGCN student regularised by the
    named TCN `teacher` of the same task and fold; `fusion` averages the probabilities of its
    `members` (two or more, any number of classes) with weights chosen on the inner split. The action stream (`action:`
    section) adds `lstm_fc`, `lstm_fc_extended` and `i3d_head` on 2-s samples of snippet
    features, and `gestures` on whole seizures (`aggregation` over `segments` snippets,
    default `action.segments`).

    `ensemble: N` (agcn, tcn, agcn_kd) trains N members from different seeds in every fold,
    each choosing its epoch on the inner split, and predicts with their mean probability; the
    threshold is chosen on the members' mean inner-validation probability, and a student
    distils from its teacher ensemble's mean prediction. It costs N fits: cheap for a TCN,
    not for an AGCN.

    `keypoints: true` (tcn only) feeds the TCN, beside the frozen encoder's appearance features,
    the same window's normalised keypoints (the AGCN's input: coordinates relative to the
    pre-ictal pose, and confidence), flattened per frame. Appearance features of a moving
    patient mix expression with displacement in the crop; keypoints are normalised for
    position and scale, so the two together are less confounded by movement.

    `train:` overrides the study's training settings for this model alone (see
    `TrainOverrides`), e.g. `train: {batch_size: 32, lr: 0.01}`. `bones` overrides `agcn.bones`
    for this model's keypoint windows, so that 2s-AGCN's joint and bone streams can be two rows
    of one study (and fused). `search:` (agcn, tcn, agcn_kd) is a grid of training settings
    chosen inside every outer fold on its inner split (see `TrainSearch`), e.g.
    `search: {lr: [0.003, 0.01], epochs: [8, 12]}`.

    `pretrained` (agcn, agcn_kd) initialises every fold's AGCN from a 2s-AGCN checkpoint trained
    on `pretrained_layout` with `pretrained_persons` (NTU RGB+D: `ntu_25`, 2), the joints the
    study's layout keeps picked through the layouts' mapping and the classifier left fresh
    (`semiology.models.agcn_transfer`); `agcn.channels`/`strides` must be the checkpoint's.
    """

    def reads_bones(self, config: ExperimentConfig) -> bool:
        """Whether this model's keypoint windows are bones (its own `bones`, else the study's `agcn.bones`)."""
        return config.agcn.bones if self.bones is None else self.bones

    name: str
    task: str
    kind: Literal["agcn", "tcn", "agcn_kd", "fusion", "lstm_fc", "lstm_fc_extended", "i3d_head", "gestures"]
    stream: str = "body"
    teacher: str | None = None
    members: tuple[str, ...] = ()
    ensemble: int = 1
    keypoints: bool = False
    aggregation: Literal["mean", "lstm", "blstm"] = "blstm"
    segments: int | None = None
    bones: bool | None = None
    train: TrainOverrides = field(default_factory=TrainOverrides)  # type: ignore[valid-type]
    search: TrainSearch = field(default_factory=TrainSearch)  # type: ignore[valid-type]
    pretrained: str | None = None
    pretrained_layout: str = "ntu_25"
    pretrained_persons: int = 2


@dataclass
class ActionConfig:
    """The action stream's snippet features and training choices.

    `features: kinematic` computes the weight-free kinematic encoder from the body keypoints
    (3D when present); `i3d` reads the per-seizure I3D sample features that
    `tools/extract_i3d.py` wrote to `i3d_cache`. GESTURES trains on `draws_per_seizure` draws
    per training seizure at Beta(`train_gamma`, `train_gamma`) positions and evaluates on the
    segment centres.
    """

    features: Literal["kinematic", "i3d"] = "kinematic"
    i3d_cache: str | None = None
    overlap: bool = False
    max_train_samples_per_seizure: int = 16
    l2: float = 0.0001
    segments: int = 16
    draws_per_seizure: int = 8
    train_gamma: float = 1.0
    snippet_weight: float = 0.5
    head_lr: float = 0.01

    def __post_init__(self) -> None:
        _out_of_range(self, {"max_train_samples_per_seizure": "positive", "l2": "non_negative", "segments": "positive", "draws_per_seizure": "positive", "train_gamma": "positive", "snippet_weight": "probability", "head_lr": "positive"})


@dataclass
class EvaluationConfig:
    split: Literal["loso", "grouped_kfold", "leaky_seizure"] = "loso"
    n_splits: int = 5
    workers: int = 2

    def __post_init__(self) -> None:
        _out_of_range(self, {"n_splits": "at_least_2", "workers": "positive"})


@dataclass
class ExperimentConfig:
    name: str = "experiment"
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    windows: WindowConfig = field(default_factory=WindowConfig)
    agcn: AGCNConfig = field(default_factory=AGCNConfig)
    tcn: TCNConfig = field(default_factory=TCNConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    distillation: DistillationConfig = field(default_factory=DistillationConfig)
    action: ActionConfig = field(default_factory=ActionConfig)
    tasks: tuple[TaskConfig, ...] = ()
    models: tuple[ModelConfig, ...] = ()
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)


def check_experiment(config: ExperimentConfig, source: str) -> None:
    """Cross-field checks that a per-field type check cannot make; one ConfigError lists all."""
    problems = []
    task_names = [task.name for task in config.tasks]
    model_names = [model.name for model in config.models]
    if not config.tasks:
        problems.append("tasks: at least one task is needed")
    if not config.models:
        problems.append("models: at least one model is needed")
    for task in config.tasks:
        if len(task.classes) < 2:
            problems.append(f"tasks.{task.name}.classes: needs at least two classes")
    streams = {name: get_stream(name) for name in stream_names()}
    seen = set()
    by_name = {model.name: model for model in config.models}
    for model in config.models:
        where = f"models.{model.name}"
        if model.name in seen:
            problems.append(f"{where}: duplicate model name")
        seen.add(model.name)
        if model.kind in WINDOW_KINDS and model.stream not in streams:
            problems.append(f"{where}.stream: unknown stream {model.stream!r} (known: {', '.join(streams)})")
        elif model.kind in ("tcn", "agcn_kd") and streams[model.stream].appearance is None:
            problems.append(f"{where}.stream: stream {model.stream!r} has no appearance crops for a {model.kind} to read or distil from")
        if model.task not in task_names:
            problems.append(f"{where}.task: unknown task {model.task!r} (tasks: {', '.join(task_names)})")
        if model.pretrained is not None and model.kind not in ("agcn", "agcn_kd"):
            problems.append(f"{where}.pretrained: only an agcn or agcn_kd starts from a 2s-AGCN checkpoint, not a {model.kind}")
        elif model.pretrained is not None and not Path(model.pretrained).is_file():
            problems.append(f"{where}.pretrained: checkpoint not found: {model.pretrained} (weights are never downloaded)")
        if model.kind == "agcn_kd":
            teacher = by_name.get(model.teacher or "")
            if teacher is None or teacher.kind != "tcn" or teacher.task != model.task:
                problems.append(f"{where}.teacher: must name a tcn model of task {model.task!r} (got {model.teacher!r})")
            elif model_names.index(teacher.name) > model_names.index(model.name):
                problems.append(f"{where}.teacher: the teacher {teacher.name!r} must be listed before its student")
            elif model.stream in streams and teacher.stream in streams and streams[teacher.stream].appearance != streams[model.stream].appearance:
                problems.append(
                    f"{where}.teacher: the teacher {teacher.name!r} reads {streams[teacher.stream].appearance} crops, the student the "
                    f"{streams[model.stream].appearance} crops' windows; distil within one stream"
                )
            elif teacher.keypoints and teacher.reads_bones(config) != model.reads_bones(config):
                problems.append(f"{where}.bones: the teacher {teacher.name!r} reads keypoints too, so it and its student must agree on bones")
            elif _cross_fits(model, config) and not _cross_fits(teacher, config):
                problems.append(
                    f"{where}.train.cross_fit: a cross-fitted student needs a cross-fitted teacher ({teacher.name!r} is not): "
                    "on each inner fold it learns from the teacher fitted on that fold"
                )
        if model.bones is not None and model.kind not in ("agcn", "agcn_kd", "tcn"):
            problems.append(f"{where}.bones: only a model that reads keypoint windows (agcn, agcn_kd, tcn) can set bones")
        if model.keypoints and model.kind != "tcn":
            problems.append(f"{where}.keypoints: only a tcn model reads keypoints beside its appearance features")
        if model.ensemble < 1 or (model.ensemble > 1 and model.kind not in ("agcn", "tcn", "agcn_kd")):
            problems.append(f"{where}.ensemble: at least 1, and above 1 only for an agcn, tcn or agcn_kd model (got {model.ensemble})")
        if model.search != TrainSearch():
            if model.kind not in ("agcn", "tcn", "agcn_kd"):
                problems.append(f"{where}.search: only an agcn, tcn or agcn_kd model has training settings to search (not a {model.kind})")
            both = [name for name in SEARCH_FIELDS if getattr(model.search, name) is not None and getattr(model.train, name) is not None]
            if both:
                problems.append(f"{where}: {', '.join(both)} set both in train and in search; give each setting in one place")
        if model.kind == "fusion":
            if model.train != TrainOverrides():
                problems.append(f"{where}.train: a fusion trains nothing (its weight is chosen on the inner split)")
            if len(model.members) < 2 or len(set(model.members)) < len(model.members) or any(m not in by_name for m in model.members):
                problems.append(f"{where}.members: must name two or more different models listed before it (got {list(model.members)})")
            elif any(model_names.index(m) > model_names.index(model.name) for m in model.members):
                problems.append(f"{where}.members: fused models must be listed before the fusion")
            elif len({_cross_fits(by_name[m], config) for m in model.members}) > 1:
                problems.append(
                    f"{where}.members: all fused models must have the same train.cross_fit (the weights are chosen on "
                    "the validation windows they share)"
                )
    crop_streams = appearance_names()
    for stream in config.encoder.streams:
        if stream not in crop_streams:
            problems.append(f"encoder.streams.{stream}: unknown appearance stream (known: {', '.join(crop_streams)})")
    problems += _action_problems(config)
    device = device_problem(config.train.device)
    if device is not None:
        problems.append(f"train.device: {device}")
    if config.windows.window_s * config.windows.target_fps < 4:
        problems.append("windows: window_s * target_fps must give at least 4 frames")
    if config.windows.baseline == "causal" and config.windows.baseline_history_s < config.windows.window_s:
        problems.append(f"windows.baseline_history_s: a causal baseline looks for a rest block of window_s ({config.windows.window_s:g} s) in the past, "
                        f"so the history must be at least that long (got {config.windows.baseline_history_s:g} s)")
    if problems:
        raise ConfigError(f"{source}: " + f"\n{source}: ".join(problems))


def _cross_fits(model: ModelConfig, config: ExperimentConfig) -> bool:
    """Whether `model` fits once per inner fold (its own `train.cross_fit`, else the study's)."""
    return model.train.apply(config.train).cross_fit


def _action_problems(config: ExperimentConfig) -> list[str]:
    """Problems of the action-stream part of a config."""
    problems = []
    tasks = {task.name: task for task in config.tasks}
    for model in config.models:
        task = tasks.get(model.task)
        where = f"models.{model.name}"
        if task is None:
            continue
        if model.kind not in ACTION_KINDS and (task.label or task.outside_ictal):
            problems.append(f"{where}: task {task.name!r} sets label/outside_ictal, which only action models (kinds {', '.join(ACTION_KINDS)}) read")
        if model.kind in ACTION_KINDS and task.during:
            problems.append(f"{where}: task {task.name!r} sets during (windows inside a sign's spans), which action models (kinds {', '.join(ACTION_KINDS)}) do not read")
        if model.kind == "gestures":
            if len(task.classes) != 2 or task.outside_ictal:
                problems.append(f"{where}: gestures classifies whole seizures into two classes (task {task.name!r} has {list(task.classes)})")
            if (model.segments or config.action.segments) < 1:
                problems.append(f"{where}.segments: must be at least 1")
    if task_outside := [t.name for t in config.tasks if t.outside_ictal and t.outside_ictal not in t.classes]:
        problems.append(f"tasks {task_outside}: outside_ictal must be one of the task's classes")
    if any(m.kind in ACTION_KINDS for m in config.models) and config.action.features == "i3d" and not config.action.i3d_cache:
        problems.append("action.i3d_cache: needed when action.features is i3d (run tools/extract_i3d.py first)")
    return problems
