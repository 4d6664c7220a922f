"""No patient identifier reaches a page or an API response of the review app.

A site imports a seizure under its real subject identifier (a hospital number) with a manifest
that also carries the patient's name and birth date (dropped at import); the raw identifier is
also the subject id inside the cached keypoint file. Then every page, script and API response
the app gives, to every user, after every kind of write, is searched for all three.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semiology.io.cache import cache_path, save_record
from semiology.io.video_write import write_tracks_mkv
from semiology.layouts import UPPER_BODY_11
from semiology.records import Keypoints, SeizureRecord
from semiology.store.database import init_store
from semiology.store.labels import get_seizure
from semiology.store.manifests import import_manifest
from tests.review.review_world import FPS, FRAMES, World, body_track, ir_frames, serve
from tests.review.test_review_api import signed_in

HOSPITAL_NUMBER = "HN48213377"
NAME = "Gwendolyn Fairweather"
BIRTH_DATE = "1987-03-14"
SITE_SECRET = b"secret of site-a for tests"
"""The site's own secret (see `review_world.seed_world`)."""


def plant_patient(world: World, folder: Path) -> str:
    """Import a seizure of a patient known by a hospital number, with name and birth date columns dropped at import."""
    body = body_track(FRAMES)
    video = write_tracks_mkv(world.videos / "EMU-A-777.mkv", {"ir": ir_frames(body)}, fps=FPS)
    record = SeizureRecord(seizure_id="EMU-A-777", subject_id=HOSPITAL_NUMBER, fps=FPS, onset_s=0.5, offset_s=3.0, labels={},
                           body_2d=Keypoints(body, np.ones(body.shape[:2], np.float32), UPPER_BODY_11.name, FPS, "test"))
    cached = save_record(record, cache_path(world.cache, "EMU-A-777"), config_hash="test")
    manifest = folder / "private.csv"
    manifest.write_text("seizure_id,subject_id,patient_name,date_of_birth,ir,keypoints,fps,onset_s,offset_s\n"
                        f"EMU-A-777,{HOSPITAL_NUMBER},{NAME},{BIRTH_DATE},{video},{cached},{FPS},0.5,3.0\n", encoding="utf-8")
    with init_store(world.db) as store:
        import_manifest(store, manifest, "site-a", "admin", secret=SITE_SECRET, drop_identifying=True)
        with store.session() as session:
            return str(get_seizure(session, "EMU-A-777").id)


def test_no_identifier_in_any_page_or_response(world: World, tmp_path: Path) -> None:
    seizure = plant_patient(world, tmp_path)
    seen: list[tuple[str, bytes]] = []
    for served in serve(world):
        for username in ("rita", "admin", "alice"):
            client = signed_in(served.url, username)

            def fetch(method: str, path: str, **kwargs) -> None:
                response = client.request(method, path, **kwargs)
                assert response.status_code < 500, (path, response.text)
                seen.append((f"{username} {method} {path}", response.content + str(response.headers).encode()))

            for path in ("/", "/login", f"/seizures/{seizure}", "/static/common.js", "/static/seizure.js", "/static/index.js", "/api/session",
                         "/api/sites", "/api/seizures", "/api/seizures?site=site-a", "/api/seizures?status=to_review", f"/api/seizures/{seizure}",
                         f"/api/seizures/{seizure}/keypoints", f"/api/seizures/{seizure}/video", f"/api/seizures/{world.seizure_a}",
                         f"/api/seizures/{world.seizure_b}", f"/api/seizures/{seizure}/attribution?model=AGCN-pose&start_s=0&end_s=1"):
                fetch("GET", path)
            fetch("POST", f"/api/seizures/{seizure}/labels", json={"term": "tonic", "start_s": 1.0, "end_s": 2.0})
            label = client.get(f"/api/seizures/{seizure}").json()["labels"][-1]
            fetch("PUT", f"/api/labels/{label['id']}", json={**label, "end_s": 2.5})
            fetch("PUT", f"/api/labels/{label['id']}", json={**label, "end_s": 2.7})
            fetch("POST", f"/api/seizures/{seizure}/labels", json={"term": "nonsense", "start_s": 2.0, "end_s": 1.0})
            fetch("POST", f"/api/seizures/{seizure}/corrections", json={"frame": 3, "layout": "upper_body_11", "joint": "head", "x": 1, "y": 2})
            fetch("POST", "/api/logout")
    assert len(seen) > 60
    for what, content in seen:
        text = content.decode("utf-8", errors="replace")
        for identifier in (HOSPITAL_NUMBER, NAME, BIRTH_DATE, NAME.split()[1]):
            assert identifier not in text, f"{identifier!r} in the response to {what}"
