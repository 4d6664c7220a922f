"""The store's controlled vocabularies: roles, label statuses, sides, regions, seizure types, sign terms.

Every value a clinician picks in the store comes from one of these lists, so labels from
different annotators and sites mean the same thing and can be compared (inter-rater agreement)
and exported (BIDS events with HED-SCORE tags). Seizure types follow the ILAE 2025 operational
classification (focal seizures with preserved or impaired consciousness, called "aware" and
"impaired awareness" in 2017). Each type carries the tag of the HED SCORE library (version
2.1.0) that BIDS events write for it.

The sign terms (from the ILAE glossary of ictal semiology, each with its HED SCORE tag) live in
the `sign_terms` table, seeded by the migration `0002_sign_terms`: a new term is a new migration,
and every running store agrees on the list. The lists here are check constraints of the schema.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = ("annotator", "reviewer", "admin")
"""annotator: adds and edits own labels; reviewer: also accepts and rejects labels; admin: also manages users and sites."""

STATUSES: tuple[str, ...] = ("human", "model_proposal", "accepted", "rejected", "edited")
"""How a label came to be: entered by a person, proposed by a model, a proposal or label a
reviewer accepted or rejected, or a label changed after it was entered or proposed."""

TRUSTED_STATUSES: tuple[str, ...] = ("human", "accepted", "edited")
"""Statuses of labels that count as a person's judgement (agreement, exports for training)."""

SIDES: tuple[str, ...] = ("left", "right", "bilateral", "axial")
"""The patient's side of a sign (left and right are the patient's, never the camera's)."""

REGIONS: tuple[str, ...] = ("whole_body", "head", "face", "eyes", "mouth", "trunk", "upper_limb", "hand", "lower_limb", "foot")
"""Regions of interest a sign is seen in."""


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: its key (stored), a label for people, the HED SCORE tag, a short definition."""

    key: str
    label: str
    hed: str
    definition: str


SEIZURE_TYPES: tuple[Term, ...] = (
    Term("focal_preserved_consciousness", "Focal seizure with preserved consciousness (focal aware)", "sc:Aware-focal-onset-epileptic-seizure",
         "Focal onset; the person stays conscious throughout (ILAE 2017: focal aware)."),
    Term("focal_impaired_consciousness", "Focal seizure with impaired consciousness (focal impaired awareness)",
         "sc:Impaired-awareness-focal-onset-epileptic-seizure", "Focal onset; consciousness is impaired at some point (ILAE 2017: focal impaired awareness)."),
    Term("focal_unknown_consciousness", "Focal seizure, consciousness not known", "sc:Awareness-unknown-focal-onset-epileptic-seizure",
         "Focal onset; whether consciousness was impaired is not known."),
    Term("focal_to_bilateral_tonic_clonic", "Focal to bilateral tonic-clonic seizure", "sc:Focal-to-bilateral-tonic-clonic-focal-onset-epileptic-seizure",
         "Focal onset progressing to bilateral tonic-clonic activity."),
    Term("generalised", "Generalised seizure", "sc:Generalized-onset-epileptic-seizure",
         "Onset within, and rapidly engaging, bilaterally distributed networks."),
    Term("unknown", "Unknown whether focal or generalised", "sc:Unknown-onset-epileptic-seizure",
         "Onset cannot be called focal or generalised from the information available."),
    Term("unclassified", "Unclassified seizure", "sc:Unclassified-epileptic-seizure",
         "Not classifiable because of inadequate information or unusual features."),
)

EVENT_KINDS: tuple[Term, ...] = (
    Term("epileptic", "Epileptic seizure", "sc:Epileptic-seizure", "An epileptic seizure."),
    Term("psychogenic_non_epileptic", "Functional / psychogenic non-epileptic seizure", "sc:Seizure-PNES",
         "A paroxysmal event that mimics an epileptic seizure without epileptic activity."),
    Term("other_non_epileptic", "Other non-epileptic paroxysmal event", "sc:Other-episode/Non-epileptic-paroxysmal-event",
         "Syncope, a sleep-related or movement disorder event, or another non-epileptic paroxysm."),
)

SEIZURE_TYPE_KEYS: tuple[str, ...] = tuple(term.key for term in SEIZURE_TYPES)
EVENT_KIND_KEYS: tuple[str, ...] = tuple(term.key for term in EVENT_KINDS)

SEIZURE_TYPE_COLUMN = "ilae_seizure_type"
"""The manifest column holding the ILAE 2025 seizure type (a stored field, not a free task label)."""
EVENT_KIND_COLUMN = "event_kind"
"""The manifest column saying whether the event was epileptic (a stored field, not a free task label)."""

def term_of(terms: tuple[Term, ...], key: str) -> Term:
    """The entry of `terms` with `key` (a KeyError names the allowed keys)."""
    for term in terms:
        if term.key == key:
            return term
    raise KeyError(f"{key!r} is not one of {', '.join(t.key for t in terms)}")
