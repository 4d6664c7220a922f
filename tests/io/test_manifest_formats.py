"""Manifest: .asf and .mpg recordings read end to end, a `view` column for seizures filmed by several cameras."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from semiology.errors import ManifestError
from semiology.extract.snippets import manifest_records
from semiology.io.manifest import load_manifest, write_manifest
from semiology.io.video import open_video


def _write(path: Path, container_format: str, codec: str, frames: int = 12) -> None:
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(frames):
            image = np.full((48, 64, 3), 20 * index % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize(("name", "container_format", "codec"), [("emu.asf", "asf", "wmv2"), ("emu.mpg", "mpeg", "mpeg1video")])
def test_asf_and_mpg_recordings_are_accepted_and_read(tmp_path: Path, name: str, container_format: str, codec: str) -> None:
    _write(tmp_path / name, container_format, codec)
    (tmp_path / "manifest.csv").write_text(f"seizure_id,subject_id,rgb,onset_s,offset_s\ns1,P1,{name},0.1,0.3\n")
    row = load_manifest(tmp_path / "manifest.csv")[0]
    with open_video(row.paths["rgb"], kind="rgb") as reader:
        images = [frame.image for frame in reader]
    assert len(images) == 12 and images[0].shape == (48, 64, 3)
    assert abs(float(images[5].mean()) - 100.0) < 8


def test_keypoint_files_from_elsewhere_are_accepted_and_unread_formats_refused(tmp_path: Path) -> None:
    for name in ("a.skeleton", "b.pkl", "c.json", "d.npz", "e.csv", "f.h5"):
        (tmp_path / name).write_text("x")
    (tmp_path / "openpose").mkdir()
    (tmp_path / "manifest.csv").write_text(
        "seizure_id,subject_id,keypoints,onset_s,offset_s\n" + "".join(f"s{i},P1,{name},0,1\n" for i, name in enumerate(("a.skeleton", "b.pkl", "c.json", "d.npz", "openpose")))
    )
    assert len(load_manifest(tmp_path / "manifest.csv")) == 5
    (tmp_path / "bad.csv").write_text("seizure_id,subject_id,keypoints,onset_s,offset_s\ns1,P1,e.csv,0,1\ns2,P1,f.h5,0,1\n")
    with pytest.raises(ManifestError, match=r"row 2 .*unknown file extension '\.csv'(.|\n)*row 3 .*'\.h5'"):
        load_manifest(tmp_path / "bad.csv")


def test_views_of_one_seizure_share_its_id_and_reach_the_records(tmp_path: Path) -> None:
    for name in ("left.npy", "right.npy", "other.npy"):
        np.save(tmp_path / name, np.zeros((3, 4, 4), np.uint8))
    text = "seizure_id,subject_id,view,ir,onset_s,offset_s,fps\nsz1,P1,left,left.npy,0,0.05,30\nsz1,P1,right,right.npy,0,0.05,30\nsz2,P1,,other.npy,0,0.05,30\n"
    (tmp_path / "manifest.csv").write_text(text)
    rows = load_manifest(tmp_path / "manifest.csv")
    assert [row.seizure_id for row in rows] == ["sz1.left", "sz1.right", "sz2"]
    assert rows[0].view_meta == {"view": "left", "view_of": "sz1"} and rows[2].view_meta == {}
    again = load_manifest(write_manifest(rows, tmp_path / "again.csv"))
    assert again == [type(row)(**{**row.__dict__, "row_number": new.row_number}) for row, new in zip(rows, again)]
    records = manifest_records(tmp_path / "manifest.csv", "ir")
    assert [record.meta for record, _ in records] == [{"view": "left", "view_of": "sz1"}, {"view": "right", "view_of": "sz1"}, {}]
    (tmp_path / "twice.csv").write_text(text + "sz1,P1,left,other.npy,0,0.05,30\n")
    with pytest.raises(ManifestError, match=r"row 5 .*column 'view': duplicate view 'left' of seizure_id 'sz1' \(also row 2\)"):
        load_manifest(tmp_path / "twice.csv")
