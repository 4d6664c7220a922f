"""The review app's API against the real server: sessions, CSRF, roles, site isolation, versions, media, corrections."""

from __future__ import annotations

import av
import httpx
import pytest
from sqlalchemy import select

from semiology.review.security import CSRF_HEADER, SESSION_COOKIE, confined
from semiology.store.database import open_store
from semiology.store.schema import AuditEntry, KeypointCorrection, Recording, SignLabel
from tests.review.review_world import PASSWORD, Running, World, seed_world, serve


def signed_in(url: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client signed in as `username`, sending its CSRF token on every request."""
    client = httpx.Client(base_url=url, timeout=30)
    token = client.get("/api/session").json()["csrf"]
    response = client.post("/api/login", json={"username": username, "password": password}, headers={CSRF_HEADER: token})
    assert response.status_code == 200, response.text
    client.headers[CSRF_HEADER] = response.json()["csrf"]
    return client


def test_every_endpoint_needs_a_session(running: Running, world: World) -> None:
    with httpx.Client(base_url=running.url) as anonymous:
        for path in ("/api/seizures", "/api/sites", f"/api/seizures/{world.seizure_a}", f"/api/seizures/{world.seizure_a}/keypoints",
                     f"/api/seizures/{world.seizure_a}/video"):
            assert anonymous.get(path).status_code == 401, path
        page = anonymous.get(f"/seizures/{world.seizure_a}", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        assert anonymous.get("/login").status_code == 200


def test_login_sets_an_httponly_samesite_cookie_and_a_wrong_password_fails(running: Running) -> None:
    with httpx.Client(base_url=running.url) as client:
        token = client.get("/api/session").json()["csrf"]
        wrong = client.post("/api/login", json={"username": "rita", "password": "not her password"}, headers={CSRF_HEADER: token})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown user or wrong password"
        right = client.post("/api/login", json={"username": "rita", "password": PASSWORD}, headers={CSRF_HEADER: token})
        cookie = right.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert right.json()["user"] == {"username": "rita", "role": "reviewer", "site": "site-a"}
        assert "Content-Security-Policy" in right.headers and right.headers["X-Frame-Options"] == "DENY"


def test_writes_without_the_csrf_token_are_refused(running: Running, world: World) -> None:
    client = signed_in(running.url, "alice")
    span = {"term": "tonic", "start_s": 1.0, "end_s": 2.0}
    for headers in ({CSRF_HEADER: ""}, {CSRF_HEADER: "forged"}):
        refused = client.post(f"/api/seizures/{world.seizure_a}/labels", json=span, headers=headers)
        assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    assert client.post(f"/api/seizures/{world.seizure_a}/labels", json=span).status_code == 201


def test_an_annotator_of_site_a_gets_403_on_site_b(running: Running, world: World) -> None:
    alice = signed_in(running.url, "alice")
    listed = alice.get("/api/seizures").json()
    assert [row["seizure"] for row in listed] == [world.key_a]
    assert alice.get("/api/sites").json() == ["site-a"]
    for path in (f"/api/seizures/{world.seizure_b}", f"/api/seizures/{world.seizure_b}/keypoints", f"/api/seizures/{world.seizure_b}/video"):
        response = alice.get(path)
        assert response.status_code == 403 and "belongs to another site" in response.json()["detail"], path
    refused = alice.post(f"/api/seizures/{world.seizure_b}/labels", json={"term": "tonic", "start_s": 1, "end_s": 2})
    assert refused.status_code == 403
    admin = signed_in(running.url, "admin")
    assert {row["site"] for row in admin.get("/api/seizures").json()} == {"site-a", "site-b"}


def test_the_list_filters_by_site_and_review_status(running: Running, world: World) -> None:
    admin = signed_in(running.url, "admin")
    assert [row["seizure"] for row in admin.get("/api/seizures", params={"site": "site-b"}).json()] == [world.key_b]
    in_progress = admin.get("/api/seizures", params={"status": "in_progress"}).json()
    assert [(row["seizure"], row["labels"], row["proposals"]) for row in in_progress] == [(world.key_a, 1, 1)]
    assert [row["seizure"] for row in admin.get("/api/seizures", params={"status": "to_review"}).json()] == [world.key_b]


def test_roles_are_enforced_on_the_server(running: Running, world: World) -> None:
    alice, bob_site_a_reviewer = signed_in(running.url, "alice"), signed_in(running.url, "rita")
    view = alice.get(f"/api/seizures/{world.seizure_a}").json()
    proposal = next(label for label in view["labels"] if label["status"] == "model_proposal")
    refused = alice.post(f"/api/labels/{proposal['id']}/review", json={"version": proposal["version"], "accept": True})
    assert refused.status_code == 403 and "needs the role reviewer or admin" in refused.json()["detail"]
    rita_label = bob_site_a_reviewer.post(f"/api/seizures/{world.seizure_a}/labels", json={"term": "tonic", "start_s": 2.0, "end_s": 3.0}).json()
    deleted = alice.delete(f"/api/labels/{rita_label['id']}", params={"version": rita_label["version"]})
    assert deleted.status_code == 403 and "may not delete" in deleted.json()["detail"]
    edited = alice.put(f"/api/labels/{rita_label['id']}", json={**rita_label, "start_s": 2.2})
    assert edited.status_code == 403
    accepted = bob_site_a_reviewer.post(f"/api/labels/{proposal['id']}/review", json={"version": proposal["version"], "accept": True})
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted" and accepted.json()["model"] == proposal["model"], "an accepted proposal keeps its model"
    own = alice.post(f"/api/seizures/{world.seizure_a}/labels", json={"term": "clonic", "start_s": 0.5, "end_s": 1.0}).json()
    assert alice.delete(f"/api/labels/{own['id']}", params={"version": own["version"]}).json() == {"deleted": True}
    with running.store.session() as session:
        assert session.get(SignLabel, own["id"]) is None
        deleted = session.scalar(select(AuditEntry).where(AuditEntry.table_name == "sign_labels", AuditEntry.row_id == own["id"], AuditEntry.action == "delete"))
        assert deleted.actor == "alice" and deleted.old_values["term"] == "clonic"


def test_a_stale_edit_gets_a_conflict_and_overwrites_nothing(running: Running, world: World) -> None:
    rita, sam = signed_in(running.url, "rita"), signed_in(running.url, "sam")
    label = rita.post(f"/api/seizures/{world.seizure_a}/labels", json={"term": "tonic", "start_s": 1.0, "end_s": 2.0}).json()
    first = rita.put(f"/api/labels/{label['id']}", json={**label, "end_s": 2.5})
    assert first.status_code == 200 and first.json()["version"] == label["version"] + 1
    second = sam.put(f"/api/labels/{label['id']}", json={**label, "start_s": 0.5})
    assert second.status_code == 409
    body = second.json()
    assert "was changed by another user" in body["detail"] and "not saved" in body["detail"]
    assert body["current"]["end_s"] == 2.5 and body["current"]["start_s"] == 1.0
    stale_delete = sam.delete(f"/api/labels/{label['id']}", params={"version": label["version"]})
    assert stale_delete.status_code == 409
    with running.store.session() as session:
        stored = session.get(SignLabel, label["id"])
        assert (stored.start_s, stored.end_s, stored.version) == (1.0, 2.5, label["version"] + 1)


def test_bad_input_is_refused_with_the_field(running: Running, world: World) -> None:
    rita = signed_in(running.url, "rita")
    bad = rita.post(f"/api/seizures/{world.seizure_a}/labels", json={"term": "levitation", "start_s": 2.0, "end_s": 1.0})
    assert bad.status_code == 400 and "unknown sign term 'levitation'" in bad.json()["detail"]
    assert rita.get("/api/seizures/999999").status_code == 404


def test_the_video_is_an_8bit_preview_made_once(running: Running, world: World) -> None:
    rita = signed_in(running.url, "rita")
    first = rita.get(f"/api/seizures/{world.seizure_a}/video")
    assert first.status_code == 200 and first.headers["content-type"] == "video/mp4"
    previews = list((world.cache / "previews").glob("*.mp4"))
    assert len(previews) == 1
    made = previews[0].stat().st_mtime_ns
    again = rita.get(f"/api/seizures/{world.seizure_a}/video", headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and len(again.content) == 100
    assert previews[0].stat().st_mtime_ns == made, "the preview is reused, not transcoded again"
    with av.open(str(previews[0])) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264" and len(frames) == 100
    assert [frame.pts * frame.time_base * 25 for frame in frames[:3]] == [0, 1, 2], "frame i at i / fps"


def test_files_are_served_only_from_the_roots(tmp_path, world: World) -> None:
    assert confined(world.videos, "../store.sqlite") is None
    assert confined(world.videos, "/etc/passwd") is None
    (tmp_path / "outside.mkv").write_bytes(b"x")
    link = world.videos / "link.mkv"
    link.symlink_to(tmp_path / "outside.mkv")
    assert confined(world.videos, link) is None, "a link out of the root is followed before the check"
    assert confined(world.videos, world.videos / f"{world.key_a}.mkv") == (world.videos / f"{world.key_a}.mkv").resolve()


def test_a_recording_outside_the_roots_is_not_served(tmp_path, world: World) -> None:
    with open_store(world.db) as store, store.session(actor="admin") as session:
        recording = session.scalar(select(Recording).where(Recording.seizure_id == world.seizure_a, Recording.modality == "ir"))
        recording.path = str(world.videos / ".." / ".." / "etc" / "passwd")
    for served in serve(world):
        response = signed_in(served.url, "rita").get(f"/api/seizures/{world.seizure_a}/video")
        assert response.status_code == 403 and "outside the video folders" in response.json()["detail"]


def test_a_joint_correction_is_stored_and_shown(running: Running, world: World) -> None:
    rita = signed_in(running.url, "rita")
    before = rita.get(f"/api/seizures/{world.seizure_a}/keypoints").json()
    wrist = before["body"]["joints"].index("left_wrist")
    assert before["body"]["confidence"][10][wrist] < 1.0
    stored = rita.post(f"/api/seizures/{world.seizure_a}/corrections", json={"frame": 10, "layout": "upper_body_11", "joint": "left_wrist", "x": 120.5, "y": 70.25})
    assert stored.status_code == 201
    after = rita.get(f"/api/seizures/{world.seizure_a}/keypoints").json()
    assert after["body"]["coords"][10][wrist] == [120.5, 70.25] and after["body"]["confidence"][10][wrist] == 1.0
    assert after["body"]["coords"][11][wrist] == before["body"]["coords"][11][wrist]
    bad = rita.post(f"/api/seizures/{world.seizure_a}/corrections", json={"frame": 5000, "layout": "upper_body_11", "joint": "tail", "x": 1, "y": 1})
    assert bad.status_code == 400 and "joint 'tail' is not in layout" in bad.json()["detail"] and "frame 5000 is outside" in bad.json()["detail"]
    with running.store.session() as session:
        assert session.scalar(select(KeypointCorrection).where(KeypointCorrection.joint == "left_wrist")).user_id is not None
        assert session.scalar(select(AuditEntry).where(AuditEntry.table_name == "keypoint_corrections")).actor == "rita"


def test_traces_and_attributions(running: Running, world: World) -> None:
    rita = signed_in(running.url, "rita")
    view = rita.get(f"/api/seizures/{world.seizure_a}").json()
    (trace,) = view["traces"]
    assert trace["model"] == "AGCN-pose" and trace["class"] == "yes" and len(trace["probability"]) == 7
    assert view["attributions"] == ["AGCN-pose"]
    strip = rita.get(f"/api/seizures/{world.seizure_a}/attribution", params={"model": "AGCN-pose", "start_s": 1.0, "end_s": 2.0}).json()
    assert strip["joints"][int(max(range(len(strip["values"])), key=lambda i: strip["values"][i]))] == "left_wrist"
    assert strip["values"][strip["joints"].index("left_wrist")] == pytest.approx(25.0)
    escape = rita.get(f"/api/seizures/{world.seizure_a}/attribution", params={"model": "../../store", "start_s": 0, "end_s": 1})
    assert escape.status_code == 400


def test_postgresql_serves_the_same(postgres_db: str, tmp_path) -> None:
    world = seed_world(postgres_db, tmp_path / "pg-files")
    for served in serve(world):
        rita = signed_in(served.url, "rita")
        label = rita.post(f"/api/seizures/{world.seizure_a}/labels", json={"term": "tonic", "start_s": 1.0, "end_s": 2.0}).json()
        assert rita.put(f"/api/labels/{label['id']}", json={**label, "end_s": 3.0}).json()["version"] == 2
        assert rita.put(f"/api/labels/{label['id']}", json={**label, "end_s": 3.5}).status_code == 409
        assert signed_in(served.url, "bob").get(f"/api/seizures/{world.seizure_a}").status_code == 403
