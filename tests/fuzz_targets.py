"""Fuzz targets: every reader and loader a user feeds, given mutated or random bytes.

A target writes the bytes where the loader expects a file and calls it. Its only acceptable
outcomes are a valid result or a `SemiologyError` (a clear message naming the file); anything
else (a bare `KeyError`, `IndexError`, a crash in numpy or PyAV) is a finding. Inputs are
mutations of a valid file (bytes deleted, inserted, replaced, the file cut short) or random
bytes, drawn by hypothesis. `tests/test_fuzz.py` runs a few hundred per target in the suite;
`benchmarks/fuzz_loaders.py` runs many more and prints what it tried and found.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from semiology.bundle import load_bundle
from semiology.config import load_config
from semiology.errors import SemiologyError
from semiology.experiment import ExperimentConfig, check_experiment
from semiology.extract.config import ExtractionConfig
from semiology.io.cache import load_record, save_record
from semiology.io.manifest import load_manifest
from semiology.io.video import open_video
from semiology.records import Keypoints, SeizureRecord

VALID_MANIFEST_CSV = b"seizure_id,subject_id,ir,fps,onset_s,offset_s,dystonia\ns1,P1,/data/s1.mp4,25,10.0,40.5,yes\ns2,P2,/data/s2.mp4,,5,9,no\n"
VALID_MANIFEST_YAML = b"- {seizure_id: s1, subject_id: P1, ir: /data/s1.mp4, onset_s: 10.0, offset_s: 40.5, dystonia: yes}\n- {seizure_id: s2, subject_id: P2, rgb: /data/s2.mp4, fps: 30, onset_s: 5, offset_s: 9, dystonia: no}\n"
VALID_EXPERIMENT = (
    b"name: fuzz\nseed: 1\nwindows: {target_fps: 10.0, window_s: 2.0}\ntrain: {epochs: 3, lr: 0.01}\n"
    b"tasks: [{name: dystonia, classes: ['no', 'yes']}]\n"
    b"models: [{name: A, task: dystonia, kind: agcn, stream: body}, {name: T, task: dystonia, kind: tcn, stream: body}]\n"
)
VALID_EXTRACTION = b"video: auto\nbody_layout: upper_body_11\npose: {backend: mediapipe, min_detection_confidence: 0.3}\nface: {enabled: false}\n"


def mutations(valid: bytes) -> st.SearchStrategy[bytes]:
    """Bytes derived from `valid`: up to four splices (a slice replaced by up to 16 random bytes), or a cut, or pure noise."""
    splice = st.tuples(st.integers(0, max(len(valid) - 1, 0)), st.integers(0, 16), st.binary(max_size=16))

    def apply(edits: list[tuple[int, int, bytes]]) -> bytes:
        data = bytearray(valid)
        for start, length, insert in edits:
            data[start : start + length] = insert
        return bytes(data)

    return st.one_of(
        st.lists(splice, min_size=1, max_size=4).map(apply),
        st.integers(0, len(valid)).map(lambda cut: valid[:cut]),
        st.binary(max_size=256),
    )


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def manifest_csv(data: bytes, folder: Path) -> None:
    load_manifest(_write(folder, "manifest.csv", data), label_values={"dystonia": ("no", "yes")}, check_files=False)


def manifest_yaml(data: bytes, folder: Path) -> None:
    load_manifest(_write(folder, "manifest.yaml", data), check_files=False)


def experiment_config(data: bytes, folder: Path) -> None:
    path = _write(folder, "experiment.yaml", data)
    check_experiment(load_config(path, ExperimentConfig), str(path))


def extraction_config(data: bytes, folder: Path) -> None:
    load_config(_write(folder, "extraction.yaml", data), ExtractionConfig)


def valid_cache_bytes(folder: Path) -> bytes:
    """A small valid cache file's bytes."""
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(12, 11, 2)).astype(np.float32)
    record = SeizureRecord(seizure_id="s1", subject_id="P1", fps=10.0, onset_s=0.2, offset_s=1.0, labels={"dystonia": "yes"},
                           body_2d=Keypoints(coords, np.ones((12, 11), np.float32), "upper_body_11", 10.0, "fuzz"))
    return save_record(record, folder / "valid.npz", "a" * 64).read_bytes()


def cache_record(data: bytes, folder: Path) -> None:
    load_record(_write(folder, "record.npz", data))


def video_file(data: bytes, folder: Path) -> None:
    for name in ("clip.mp4", "clip.avi", "frames.npy"):
        try:
            with open_video(_write(folder, name, data)) as reader:
                for _, _frame in zip(range(3), reader):
                    pass
        except SemiologyError:
            continue


def bundle_description(bundle_folder: Path) -> Callable[[bytes, Path], None]:
    """A target that loads a copy of `bundle_folder` whose `bundle.json` is the fuzzed bytes."""

    def target(data: bytes, folder: Path) -> None:
        copy = folder / "bundle"
        if not copy.is_dir():
            shutil.copytree(bundle_folder, copy)
        (copy / "bundle.json").write_bytes(data)
        load_bundle(copy)

    return target


def valid_bundle_json(bundle_folder: Path) -> bytes:
    return json.dumps(json.loads((bundle_folder / "bundle.json").read_text()), indent=1).encode()


def run_target(target: Callable[[bytes, Path], None], data: bytes, folder: Path) -> str:
    """`ok`, `refused` (a SemiologyError) or raises what the loader raised otherwise (a finding)."""
    try:
        target(data, folder)
    except SemiologyError:
        return "refused"
    return "ok"
