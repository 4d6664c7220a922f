"""Seed the controlled sign vocabulary from the ILAE glossary of ictal semiology, each term with its HED SCORE 2.1.0 tag.

Definitions are paraphrased from the ILAE glossary (Blume et al. 2001, updated by Tufenkjian
et al. 2022); `region` is the region of interest a sign is usually seen in, the default a
labelling tool offers. A new term is a new migration (`op.bulk_insert` into `sign_terms`).

Revision ID: 0002_sign_terms
Revises: 0001_initial
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sign_terms"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

TERMS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("dystonic_posture", "Dystonic posture", "sc:Semiology-dystonic",
     "Sustained contraction of agonist and antagonist muscles producing athetoid or twisting movements and abnormal posture.", "upper_limb"),
    ("tonic", "Tonic", "sc:Semiology-tonic", "A sustained increase in muscle contraction lasting a few seconds to minutes.", None),
    ("clonic", "Clonic", "sc:Semiology-clonic", "Myoclonus regularly repetitive, involving the same muscle groups, at about 2-3 per second.", None),
    ("tonic_clonic", "Tonic-clonic", "sc:Semiology-tonic-clonic", "A tonic phase followed by a clonic phase.", "whole_body"),
    ("myoclonic", "Myoclonic jerk", "sc:Semiology-myoclonic-jerk", "Sudden, brief (under 100 ms) involuntary contraction of a muscle or muscle group.", None),
    ("epileptic_spasm", "Epileptic spasm", "sc:Semiology-epileptic-spasm",
     "Sudden flexion, extension or mixed flexion-extension of proximal and truncal muscles, longer than a myoclonic jerk.", "whole_body"),
    ("atonic", "Atonic", "sc:Semiology-atonic", "Sudden loss or diminution of muscle tone without an apparent preceding myoclonic or tonic event.", None),
    ("versive_head_turn", "Versive head turn", "sc:Semiology-versive",
     "Sustained, forced conjugate ocular, cephalic or truncal rotation or lateral deviation from the midline.", "head"),
    ("figure_of_4", "Figure-of-4 posture", "sc:Semiology-postural", "Extension of one elbow and flexion of the other, the arms forming a figure 4.", "upper_limb"),
    ("hyperkinetic", "Hyperkinetic", "sc:Semiology-hypermotor",
     "Predominantly proximal limb or axial movements, irregular and sequential, such as pedalling, thrashing or rocking.", "whole_body"),
    ("oroalimentary_automatisms", "Oroalimentary automatisms", "sc:Semiology-oroalimentary",
     "Lip smacking, lip pursing, chewing, licking, tooth grinding or swallowing.", "mouth"),
    ("manual_automatisms", "Manual automatisms", "sc:Semiology-manual",
     "Repetitive, purposeless distal movements of the hands: fumbling, tapping, manipulating objects.", "hand"),
    ("pedal_automatisms", "Pedal automatisms", "sc:Semiology-other-automatisms/Pedal-automatisms",
     "Repetitive, purposeless distal movements of the feet: shuffling, tapping.", "foot"),
    ("gestural_automatisms", "Gestural automatisms", "sc:Semiology-gestural",
     "Often unilateral fumbling or exploratory movements of the hand directed towards the self or the environment.", "hand"),
    ("mimetic_automatisms", "Mimetic automatisms", "sc:Semiology-mimetic", "A facial expression suggesting an emotional state, often fear.", "face"),
    ("fearful_face", "Fearful face (ictal fear)", "sc:Semiology-affective-emotional",
     "A facial expression of fear: raised brows, widened eyes, stretched mouth.", "face"),
    ("gelastic", "Gelastic", "sc:Semiology-gelastic", "Bursts of laughter or giggling, usually without an appropriate trigger.", "face"),
    ("behavioural_arrest", "Behavioural arrest", "sc:Semiology-motor-behavioral-arrest", "Interruption of ongoing motor activity or behaviour.", "whole_body"),
    ("eye_blinking", "Eye blinking", "sc:Semiology-eye-blinking", "Repetitive ictal blinking.", "eyes"),
    ("vocalisation", "Vocalisation", "sc:Semiology-vocalization", "Noises such as grunts or shrieks, not words.", "mouth"),
)


def upgrade() -> None:
    table = sa.table(
        "sign_terms",
        sa.column("term", sa.String),
        sa.column("label", sa.String),
        sa.column("hed", sa.String),
        sa.column("definition", sa.Text),
        sa.column("region", sa.String),
    )
    op.bulk_insert(table, [dict(zip(("term", "label", "hed", "definition", "region"), row, strict=True)) for row in TERMS])


def downgrade() -> None:
    terms = sa.table("sign_terms", sa.column("term", sa.String))
    op.execute(terms.delete().where(terms.c.term.in_([row[0] for row in TERMS])))
