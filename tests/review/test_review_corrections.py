"""Joint corrections made in the review app reach training: applied to the cached record when the cache is rebuilt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semiology.io.cache import cache_path, is_cached, load_record
from semiology.review.cli import main
from semiology.store.accounts import get_user
from semiology.store.corrections import JointCorrection, corrected_record, corrections_digest, write_corrected_cache
from semiology.store.database import open_store
from semiology.store.errors import StoreError
from semiology.store.labels import add_keypoint_correction, get_seizure
from tests.review.review_world import World


def _correct(world: World, frame: int, joint: str, position: tuple[float, float], who: str = "rita") -> None:
    with open_store(world.db) as store, store.session(actor=who) as session:
        add_keypoint_correction(session, get_seizure(session, world.key_a), frame, "upper_body_11", joint, position, get_user(session, who))


def test_the_newest_correction_of_each_joint_is_applied(world: World, tmp_path: Path) -> None:
    _correct(world, 10, "left_wrist", (1.0, 2.0))
    _correct(world, 10, "left_wrist", (120.5, 70.25), who="sam")
    _correct(world, 11, "head", (5.0, 6.0))
    out = tmp_path / "corrected"
    with open_store(world.db) as store:
        assert write_corrected_cache(store, world.cache / "nowhere", out) == ([], [world.key_a, world.key_b])
    with open_store(world.db) as store:
        written, missing = write_corrected_cache(store, world.cache, out)
    assert missing == []
    assert [path.name for path in written] == [cache_path("", world.key_a).name, cache_path("", world.key_b).name]
    original, corrected = load_record(cache_path(world.cache, world.key_a)), load_record(out / cache_path("", world.key_a).name)
    wrist, head = 7, 0
    assert corrected.body_2d.coords[10, wrist].tolist() == [120.5, 70.25] and corrected.body_2d.confidence[10, wrist] == 1.0
    assert corrected.body_2d.coords[11, head].tolist() == [5.0, 6.0]
    changed = np.argwhere(~np.isclose(corrected.body_2d.coords, original.body_2d.coords).all(axis=-1))
    assert changed.tolist() == [[10, wrist], [11, head]], "nothing else changes"
    assert np.array_equal(corrected.face_2d.coords, original.face_2d.coords)
    digest = corrected.meta["keypoint_corrections"]["digest"]
    assert corrected.meta["keypoint_corrections"]["count"] == 2
    assert is_cached(out / cache_path("", world.key_a).name, "test", digest)
    _correct(world, 12, "head", (7.0, 8.0))
    with open_store(world.db) as store:
        write_corrected_cache(store, world.cache, out)
    assert not is_cached(out / cache_path("", world.key_a).name, "test", digest), "new corrections give a new input hash"


def test_a_correction_without_its_stream_is_an_error(world: World) -> None:
    record = load_record(cache_path(world.cache, world.key_a))
    with pytest.raises(StoreError, match="no 3D stream of layout 'upper_body_11'"):
        corrected_record(record, [JointCorrection(1, "upper_body_11", "head", (1.0, 2.0, 3.0))])
    with pytest.raises(StoreError, match="outside the record's frames 0 to 99"):
        corrected_record(record, [JointCorrection(100, "upper_body_11", "head", (1.0, 2.0))])
    assert corrections_digest([]) != corrections_digest([JointCorrection(1, "upper_body_11", "head", (1.0, 2.0))])


def test_the_command_writes_the_corrected_cache(world: World, tmp_path: Path, capsys) -> None:
    _correct(world, 3, "neck", (9.0, 9.5))
    assert main(["apply-corrections", "--db", world.db, "--cache", str(world.cache), "--out", str(tmp_path / "fixed")]) == 0
    assert "wrote 2 corrected records" in capsys.readouterr().out
    assert load_record(tmp_path / "fixed" / cache_path("", world.key_a).name).body_2d.coords[3, 1].tolist() == [9.0, 9.5]
    assert main(["apply-corrections", "--db", str(tmp_path / "none.sqlite"), "--cache", str(world.cache), "--out", str(tmp_path / "x")]) == 2
    assert "no label store here" in capsys.readouterr().err
    assert main(["apply-corrections", "--db", world.db, "--cache", str(tmp_path), "--out", str(tmp_path / "y")]) == 1
    assert "no cached record of seizures EMU-A-001, EMU-B-001" in capsys.readouterr().err
