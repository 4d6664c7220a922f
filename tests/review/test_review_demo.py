"""The demo seeds a SQLite store from rendered synthetic scenes, labels and a bundle's screening, and the app serves it.

One rendered seizure of 95 frames (about 20 s to render) and the test session's tiny bundle
(`tests/bundle_fixtures.py`, shared with the bundle, explain and screen tests) keep this short;
`tools/review.py demo` seeds three seizures and trains its own small bundle.
"""

from __future__ import annotations

from pathlib import Path

import av
from sqlalchemy import func, select

from semiology.review.demo import seed_demo, strongest_window
from semiology.store.database import open_store
from semiology.store.schema import SignLabel, WindowPrediction
from tests.bundle_fixtures import tiny_bundle
from tests.review.review_world import World, serve
from tests.review.test_review_api import signed_in


def test_the_strongest_window_is_the_fallback_proposal() -> None:
    assert strongest_window([0.0, 2.0, 4.0], 2.0, [0.1, 0.3, 0.2]) == (2.0, 4.0, 0.3)


def test_the_demo_is_seeded_and_served(tmp_path_factory, tmp_path: Path) -> None:
    bundle = tiny_bundle(tmp_path_factory.getbasetemp() / "tiny_bundle").path
    made = seed_demo(tmp_path / "demo", "demo password 1", subjects=1, n_frames=95, bundle=bundle)
    assert made.problems == () and made.proposals >= 1
    with open_store(made.db) as store, store.session() as session:
        statuses = dict(session.execute(select(SignLabel.status, func.count()).group_by(SignLabel.status)).all())
        assert statuses["human"] >= 1 and statuses["model_proposal"] == made.proposals
        assert session.scalar(select(func.count()).select_from(WindowPrediction)) >= 2
    (seizure,) = made.seizures
    assert list((made.cache / "attributions" / seizure).glob("*.npz"))
    world = World(db=str(made.db), cache=made.cache, videos=made.videos, seizure_a=1, seizure_b=1, key_a=seizure, key_b=seizure)
    for served in serve(world):
        rita = signed_in(served.url, "rita", "demo password 1")
        (row,) = rita.get("/api/seizures").json()
        view = rita.get(f"/api/seizures/{row['id']}").json()
        assert view["video"]["modality"] == "ir" and view["traces"] and view["attributions"]
        assert any(label["model"] for label in view["labels"]) and any(label["annotator"] == "alice" for label in view["labels"])
        keypoints = rita.get(f"/api/seizures/{row['id']}/keypoints").json()
        assert keypoints["synthetic"] and keypoints["frames"] == 95 and len(keypoints["face"]["joints"]) == 23
        video = rita.get(f"/api/seizures/{row['id']}/video")
        assert video.status_code == 200
    (preview,) = (made.cache / "previews").glob("*.mp4")
    with av.open(str(preview)) as container:
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]
    assert len(frames) == 95 and frames[0].shape == (424, 512) and frames[0].std() > 10, "an 8-bit IR preview of the rendered scene"
