"""Inter-rater agreement per sign between two annotators: Cohen's kappa on time bins and span IoU.

For each seizure both annotators labelled (at least one label each, statuses human, accepted or
edited), time from 0 to the later of the seizure's offset and the last labelled end is cut into
bins of `bin_s` seconds; a bin holds a sign for an annotator when its centre lies inside one of
their spans of that sign. Per sign:

- **kappa**: Cohen's kappa (scikit-learn) of the two annotators' present/absent bins, over all
  those seizures together; undefined (NaN) when neither annotator marked the sign anywhere, or
  both marked every bin.
- **IoU**: total length of time both marked the sign divided by the total length either marked
  it (spans of one annotator are merged first), over the same seizures; NaN when neither marked it.

Kappa says whether the two agree beyond chance on when a sign is present; IoU how well their
spans line up, without credit for agreeing on absence.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select

from semiology.io.atomic import atomic_path
from semiology.records import merged_spans
from semiology.store.accounts import get_user
from semiology.store.database import Store
from semiology.store.errors import StoreError
from semiology.store.schema import Seizure, SignLabel
from semiology.store.vocabulary import TRUSTED_STATUSES

Span = tuple[str, float, float]
"""(term, start_s, end_s)."""
_EPSILON = 1e-9


@dataclass(frozen=True)
class SignAgreement:
    """Agreement on one sign: seizures and bins compared, kappa, IoU, and each annotator's labelled seconds."""

    term: str
    seizures: int
    bins: int
    kappa: float
    iou: float
    seconds_a: float
    seconds_b: float


def length(intervals: Sequence[tuple[float, float]]) -> float:
    """Total length of disjoint intervals."""
    return float(sum(end - start for start, end in intervals))


def intersection(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The intervals two sets of disjoint, ordered intervals share."""
    shared, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            shared.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return shared


def bins_in(intervals: Sequence[tuple[float, float]], n_bins: int, bin_s: float) -> int:
    """How many of the first `n_bins` bins have their centre ((i + 0.5) * bin_s) inside one of the disjoint intervals [start, end)."""
    count = 0
    for start, end in intervals:
        first = min(n_bins, max(0, math.ceil(start / bin_s - 0.5 - _EPSILON)))
        stop = min(n_bins, max(0, math.ceil(end / bin_s - 0.5 - _EPSILON)))
        count += max(0, stop - first)
    return count


def kappa(counts: Sequence[int]) -> float:
    """Cohen's kappa (scikit-learn) from bin counts (neither, only the second, only the first, both); NaN when undefined.

    Kappa is undefined when both raters gave one and the same rating to every bin.
    """
    neither, second_only, first_only, both = counts
    if (neither == 0 and second_only == 0 and first_only == 0) or (both == 0 and second_only == 0 and first_only == 0):
        return math.nan
    return float(cohen_kappa_score([0, 0, 1, 1], [0, 1, 0, 1], labels=[0, 1], sample_weight=list(counts)))


def agreement_from_spans(
    spans_a: Mapping[str, Sequence[Span]], spans_b: Mapping[str, Sequence[Span]], offsets: Mapping[str, float], bin_s: float = 0.5
) -> list[SignAgreement]:
    """Agreement per sign between two annotators' spans, keyed by seizure (only seizures both labelled count).

    `offsets` gives each seizure's offset, so that the time after the last label still counts
    as agreed absence up to the end of the seizure.
    """
    if not bin_s > 0:
        raise ValueError(f"bin_s must be positive, got {bin_s}")
    common = sorted(key for key in spans_a if spans_a[key] and spans_b.get(key))
    totals: dict[str, list[float]] = {}
    total_bins = 0
    for key in common:
        last = max([offsets[key], *(end for _, _, end in spans_a[key]), *(end for _, _, end in spans_b[key])])
        n_bins = max(1, math.ceil(last / bin_s - _EPSILON))
        total_bins += n_bins
        by_term: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {}
        for side, spans in ((0, spans_a[key]), (1, spans_b[key])):
            for term, start, end in spans:
                by_term.setdefault(term, ([], []))[side].append((start, end))
        for term, (raw_a, raw_b) in by_term.items():
            a, b = merged_spans(raw_a), merged_spans(raw_b)
            shared = intersection(a, b)
            in_a, in_b, in_both = bins_in(a, n_bins, bin_s), bins_in(b, n_bins, bin_s), bins_in(shared, n_bins, bin_s)
            row = totals.setdefault(term, [0, 0, 0, 0.0, 0.0, 0.0])
            row[0] += in_a - in_both
            row[1] += in_b - in_both
            row[2] += in_both
            row[3] += length(shared)
            row[4] += length(a)
            row[5] += length(b)
    results = []
    for term in sorted(totals):
        first_only, second_only, both, shared, seconds_a, seconds_b = totals[term]
        neither = total_bins - first_only - second_only - both
        either = seconds_a + seconds_b - shared
        results.append(SignAgreement(term, len(common), total_bins, kappa((neither, second_only, first_only, both)),
                                     shared / either if either > 0 else math.nan, seconds_a, seconds_b))
    return results


def sign_agreement(store: Store, annotator_a: str, annotator_b: str, bin_s: float = 0.5) -> list[SignAgreement]:
    """Agreement per sign between two users of the store, over the seizures both labelled."""
    if annotator_a == annotator_b:
        raise StoreError(f"agreement needs two different annotators, got {annotator_a!r} twice")
    with store.session() as session:
        users = {name: get_user(session, name).id for name in (annotator_a, annotator_b)}
        query = (select(Seizure.seizure_key, Seizure.offset_s, SignLabel.annotator_id, SignLabel.term, SignLabel.start_s, SignLabel.end_s)
                 .join(SignLabel, SignLabel.seizure_id == Seizure.id)
                 .where(SignLabel.annotator_id.in_(list(users.values())), SignLabel.status.in_(TRUSTED_STATUSES)))
        rows = session.execute(query).all()
    spans: dict[int, dict[str, list[Span]]] = {user_id: {} for user_id in users.values()}
    offsets: dict[str, float] = {}
    for key, offset, annotator_id, term, start, end in rows:
        spans[annotator_id].setdefault(key, []).append((term, start, end))
        offsets[key] = offset
    results = agreement_from_spans(spans[users[annotator_a]], spans[users[annotator_b]], offsets, bin_s)
    if not results:
        raise StoreError(f"{store.name}: no seizure labelled by both {annotator_a!r} and {annotator_b!r}")
    return results


def format_agreement(results: Sequence[SignAgreement], annotator_a: str, annotator_b: str) -> str:
    """A plain-text table of the results."""
    lines = [f"agreement between {annotator_a} and {annotator_b} (NaN: undefined)",
             f"{'sign':<28}{'seizures':>9}{'bins':>8}{'kappa':>8}{'IoU':>8}{'s ' + annotator_a[:8]:>12}{'s ' + annotator_b[:8]:>12}"]
    for result in results:
        lines.append(f"{result.term:<28}{result.seizures:>9}{result.bins:>8}{result.kappa:>8.3f}{result.iou:>8.3f}{result.seconds_a:>12.1f}{result.seconds_b:>12.1f}")
    return "\n".join(lines)


def write_agreement(results: Sequence[SignAgreement], path: str | Path) -> Path:
    """The results as CSV (one row per sign)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["term", "seizures", "bins", "kappa", "iou", "seconds_a", "seconds_b"])
        for r in results:
            writer.writerow([r.term, r.seizures, r.bins, repr(r.kappa), repr(r.iou), repr(r.seconds_a), repr(r.seconds_b)])
    return path
