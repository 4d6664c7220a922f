"""The per-seizure NPZ cache: exact round trips, stale and corrupt files detected, atomic writes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from semiology.errors import CacheError, StaleCacheError
from semiology.io import cache
from semiology.io.cache import CACHE_VERSION, cache_path, is_cached, load_record, save_record
from semiology.records import Keypoints, SeizureRecord

HASH = "a" * 64


def keypoints(frames: int, joints: int, channels: int, layout: str, seed: int) -> Keypoints:
    rng = np.random.default_rng(seed)
    coords = rng.normal(size=(frames, joints, channels)).astype(np.float32)
    confidence = rng.uniform(size=(frames, joints)).astype(np.float32)
    coords[3, 1] = np.nan
    confidence[3, 1] = 0.0
    return Keypoints(coords, confidence, layout=layout, fps=15.0, source=f"test-detector 1.{seed}")


def full_record() -> SeizureRecord:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(12, 8)).astype(np.float32)
    features[5] = np.nan
    return SeizureRecord(
        seizure_id="S07",
        subject_id="P03",
        fps=15.0,
        onset_s=0.2,
        offset_s=0.7,
        labels={"dystonia": "yes", "emotion": "fear"},
        generalisation_s=0.5,
        body_3d=keypoints(12, 11, 3, "upper_body_11", 1),
        body_2d=keypoints(12, 17, 2, "coco_17", 2),
        face_2d=keypoints(12, 23, 2, "face_23", 3),
        body_crops=rng.integers(0, 256, size=(12, 16, 16), dtype=np.uint8),
        face_crops=rng.integers(0, 256, size=(12, 8, 8), dtype=np.uint8),
        body_features=features,
        face_features=rng.normal(size=(12, 4)),
        synthetic=True,
        meta={"camera": {"tilt_deg": 12.5}, "planted": ["dystonia_left_arm"], "seed": np.int64(4)},
    )


def assert_same_record(loaded: SeizureRecord, original: SeizureRecord) -> None:
    for name in ("seizure_id", "subject_id", "fps", "onset_s", "offset_s", "labels", "generalisation_s", "synthetic"):
        assert getattr(loaded, name) == getattr(original, name), name
    for name in ("body_3d", "body_2d", "face_2d"):
        stream, expected = getattr(loaded, name), getattr(original, name)
        if expected is None:
            assert stream is None, name
            continue
        assert (stream.layout, stream.fps, stream.source) == (expected.layout, expected.fps, expected.source)
        np.testing.assert_array_equal(stream.coords, expected.coords)
        np.testing.assert_array_equal(stream.confidence, expected.confidence)
        assert stream.coords.dtype == np.float32
    for name in ("body_crops", "face_crops", "body_features", "face_features"):
        array, expected = getattr(loaded, name), getattr(original, name)
        if expected is None:
            assert array is None, name
            continue
        assert array.dtype == expected.dtype and array.shape == expected.shape
        np.testing.assert_array_equal(array, expected)


def test_full_record_round_trips_with_nans(tmp_path: Path) -> None:
    record = full_record()
    path = save_record(record, cache_path(tmp_path, record.seizure_id), HASH)
    assert path == tmp_path / "S07.npz"
    loaded = load_record(path, expected_config_hash=HASH)
    assert_same_record(loaded, record)
    assert np.isnan(loaded.body_3d.coords[3, 1]).all() and loaded.body_3d.confidence[3, 1] == 0
    assert np.isnan(loaded.body_features[5]).all()
    assert loaded.meta == {"camera": {"tilt_deg": 12.5}, "planted": ["dystonia_left_arm"], "seed": 4}


def test_absent_streams_stay_absent(tmp_path: Path) -> None:
    record = SeizureRecord(
        seizure_id="S08",
        subject_id="P03",
        fps=30.0,
        onset_s=1.0,
        offset_s=2.0,
        labels={},
        face_2d=keypoints(6, 23, 2, "face_23", 4),
    )
    loaded = load_record(save_record(record, tmp_path / "S08.npz", HASH))
    assert_same_record(loaded, record)
    assert loaded.body_2d is None and loaded.body_crops is None and loaded.generalisation_s is None
    assert loaded.synthetic is False and loaded.meta == {}


def test_other_config_hash_is_stale(tmp_path: Path) -> None:
    path = save_record(full_record(), tmp_path / "S07.npz", HASH)
    with pytest.raises(StaleCacheError, match=str(path)):
        load_record(path, expected_config_hash="b" * 64)
    assert is_cached(path, HASH)
    assert not is_cached(path, "b" * 64)
    assert not is_cached(tmp_path / "absent.npz", HASH)


def test_other_cache_version_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "CACHE_VERSION", CACHE_VERSION + 1)
    path = save_record(full_record(), tmp_path / "S07.npz", HASH)
    monkeypatch.undo()
    with pytest.raises(StaleCacheError, match="cache version 2"):
        load_record(path)
    assert not is_cached(path, HASH)


def test_truncated_and_corrupt_files_raise_cache_error(tmp_path: Path) -> None:
    path = save_record(full_record(), tmp_path / "S07.npz", HASH)
    content = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(content[: len(content) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a cache at all" * 10)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, coords=np.zeros(3))
    for bad in (truncated, garbage, foreign):
        with pytest.raises(CacheError, match=str(bad)) as caught:
            load_record(bad)
        assert not isinstance(caught.value, StaleCacheError)
        assert not is_cached(bad, HASH)
    with pytest.raises(CacheError, match="not found"):
        load_record(tmp_path / "absent.npz")


def test_flipped_bytes_in_an_array_raise_cache_error(tmp_path: Path) -> None:
    path = save_record(full_record(), tmp_path / "S07.npz", HASH)
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("body_crops.npy")
    content = bytearray(path.read_bytes())
    middle = member.header_offset + 30 + len(member.filename) + member.compress_size // 2
    content[middle : middle + 16] = bytes(16)
    path.write_bytes(bytes(content))
    with pytest.raises(CacheError, match=str(path)):
        load_record(path)


def test_meta_is_tagged_with_version_and_hash(tmp_path: Path) -> None:
    path = save_record(full_record(), tmp_path / "S07.npz", HASH)
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
    assert (meta["cache_version"], meta["config_hash"], meta["seizure_id"]) == (CACHE_VERSION, HASH, "S07")
    assert meta["synthetic"] is True and "semiology_version" in meta


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = full_record()
    path = save_record(record, tmp_path / "S07.npz", HASH)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S07.npz"]
    before = path.read_bytes()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_record(record, path, "c" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["S07.npz"]
    assert path.read_bytes() == before


def test_cache_path_is_safe_readable_and_unique(tmp_path: Path) -> None:
    assert cache_path(tmp_path, "S07_sz-2.a") == tmp_path / "S07_sz-2.a.npz"
    odd = cache_path(tmp_path, "P03/sz 1")
    assert odd.parent == tmp_path and odd.name.startswith("P03_sz_1-") and odd.suffix == ".npz"
    assert cache_path(tmp_path, "P03 sz 1") != cache_path(tmp_path, "P03_sz_1")
    assert cache_path(tmp_path, "..").parent == tmp_path and not cache_path(tmp_path, "..").name.startswith(".")
