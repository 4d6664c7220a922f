"""Inter-rater agreement on a hand-built pair of annotations whose kappa and IoU were worked out by hand.

Seizure s1 (offset 10 s) and s2 (offset 4 s), bins of 1 s (centres 0.5, 1.5, ...):

- clonic: alice [2, 6) and bob [4, 8) in s1, both [0, 4) in s2. Bins: both 2 + 4 = 6, alice only
  2, bob only 2, neither 4, of 14. p_o = 10/14; each marked 8/14, so p_e = (8/14)^2 + (6/14)^2
  = 100/196; kappa = (140/196 - 100/196) / (96/196) = 40/96 = 5/12. IoU = (2 + 4) / (6 + 4) = 0.6.
- tonic: both [0, 2) in s1: 2 bins both, 12 neither: kappa 1; IoU 2/2 = 1.
- dystonic posture: alice [5, 7) in s1, bob never: p_o = 12/14 = p_e, kappa 0; IoU 0/2 = 0.

Seizure s3 only alice labelled, so it is not compared; bob's rejected label and a model's
proposal do not count.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from semiology.store.accounts import get_user
from semiology.store.agreement import agreement_from_spans, sign_agreement
from semiology.store.cli import main
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.labels import SignSpan, add_sign_label, get_seizure
from semiology.store.manifests import import_manifest
from tests.store.conftest import SECRET, People, write_csv

ALICE = {"s1": [("clonic", 2.0, 6.0), ("tonic", 0.0, 2.0), ("dystonic_posture", 5.0, 7.0)], "s2": [("clonic", 0.0, 4.0)], "s3": [("tonic", 1.0, 2.0)]}
BOB = {"s1": [("clonic", 4.0, 8.0), ("tonic", 0.0, 2.0)], "s2": [("clonic", 0.0, 4.0)]}
OFFSETS = {"s1": 10.0, "s2": 4.0, "s3": 5.0}
EXPECTED = {"clonic": (5 / 12, 0.6, 8.0, 8.0), "dystonic_posture": (0.0, 0.0, 2.0, 0.0), "tonic": (1.0, 1.0, 2.0, 2.0)}


def _matches(results, expected: dict[str, tuple]) -> bool:
    table = {r.term: (r.kappa, r.iou, r.seconds_a, r.seconds_b) for r in results}
    return table.keys() == expected.keys() and all(table[term] == pytest.approx(values, abs=1e-12) for term, values in expected.items())


def test_kappa_and_iou_of_the_hand_built_pair() -> None:
    results = agreement_from_spans(ALICE, BOB, OFFSETS, bin_s=1.0)
    assert [(r.term, r.seizures, r.bins) for r in results] == [("clonic", 2, 14), ("dystonic_posture", 2, 14), ("tonic", 2, 14)]
    assert _matches(results, EXPECTED)


def test_kappa_is_undefined_when_both_mark_every_bin() -> None:
    (result,) = agreement_from_spans({"s": [("tonic", 0.0, 2.0)]}, {"s": [("tonic", 0.0, 2.0)]}, {"s": 2.0}, bin_s=0.5)
    assert math.isnan(result.kappa) and result.iou == 1.0


@pytest.fixture
def annotated(store: Store, people: People, tmp_path: Path, videos: Path) -> Store:
    """The hand-built pair in the store, plus labels that must not count."""
    manifest = write_csv(tmp_path / "m.csv", ["seizure_id", "subject_id", "ir", "onset_s", "offset_s"],
                         [[key, f"site-{key}", "videos/a.mp4", 0, offset] for key, offset in OFFSETS.items()])
    import_manifest(store, manifest, people.site, people.admin, SECRET)
    with store.session(actor=people.admin) as session:
        for name, spans in ((people.alice, ALICE), (people.bob, BOB)):
            user = get_user(session, name)
            for key, labels in spans.items():
                for term, start, end in labels:
                    add_sign_label(session, get_seizure(session, key), SignSpan(term, start, end, "left"), annotator=user)
        add_sign_label(session, get_seizure(session, "s1"), SignSpan("dystonic_posture", 5.0, 7.0), annotator=get_user(session, people.bob), status="rejected")
        add_sign_label(session, get_seizure(session, "s1"), SignSpan("clonic", 0.0, 10.0), model="tiny@1/AGCN")
    return store


def test_agreement_between_two_users_of_the_store(annotated: Store, people: People) -> None:
    results = sign_agreement(annotated, people.alice, people.bob, bin_s=1.0)
    assert _matches(results, EXPECTED)
    with pytest.raises(StoreError, match="no seizure labelled by both 'alice' and 'rita'"):
        sign_agreement(annotated, people.alice, people.rita)


def test_the_agreement_command_prints_the_table_and_writes_csv(annotated: Store, people: People, db_url: str, tmp_path: Path, capsys) -> None:
    assert main(["agreement", "--db", db_url, "--a", people.alice, "--b", people.bob, "--bin-s", "1", "--out", str(tmp_path / "k.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["clonic", "2", "14", "0.417", "0.600", "8.0", "8.0"]
    assert lines[3].split() == ["dystonic_posture", "2", "14", "0.000", "0.000", "2.0", "0.0"]
    assert (tmp_path / "k.csv").read_text().splitlines()[1].startswith("clonic,2,14,0.41666")
