"""The label store's tables: sites, users, patients, seizures, recordings, labels, predictions, corrections, audit log.

The vocabularies are written out here as they were at this revision (a migration must not change
when the code's lists change later); `tests/store/test_migrations.py` checks that the migrated
schema equals `semiology.store.schema`.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ROLES = ("annotator", "reviewer", "admin")
STATUSES = ("human", "model_proposal", "accepted", "rejected", "edited")
SIDES = ("left", "right", "bilateral", "axial")
REGIONS = ("whole_body", "head", "face", "eyes", "mouth", "trunk", "upper_limb", "hand", "lower_limb", "foot")
MODALITIES = ("ir", "depth", "rgb", "keypoints")
SEIZURE_TYPES = (
    "focal_preserved_consciousness", "focal_impaired_consciousness", "focal_unknown_consciousness",
    "focal_to_bilateral_tonic_clonic", "generalised", "unknown", "unclassified",
)
EVENT_KINDS = ("epileptic", "psychogenic_non_epileptic", "other_non_epileptic")


def one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IS NULL OR {column} IN ({listed})"


def check(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("secret_check", sa.String(64), nullable=False),
        created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        created_at(),
        check("users", "role", one_of("role", ROLES)),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_patients_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("site_id", "pseudonym", name=op.f("uq_patients_site_id_pseudonym")),
    )
    op.create_table(
        "seizures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seizure_key", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("onset_s", sa.Float(), nullable=False),
        sa.Column("offset_s", sa.Float(), nullable=False),
        sa.Column("generalisation_s", sa.Float(), nullable=True),
        sa.Column("seizure_type", sa.String(60), nullable=True),
        sa.Column("event_kind", sa.String(40), nullable=True),
        check("seizures", "onset_not_negative", "onset_s >= 0"),
        check("seizures", "offset_after_onset", "offset_s > onset_s"),
        check("seizures", "generalisation_inside", "generalisation_s IS NULL OR (generalisation_s >= onset_s AND generalisation_s <= offset_s)"),
        check("seizures", "seizure_type", one_of("seizure_type", SEIZURE_TYPES)),
        check("seizures", "event_kind", one_of("event_kind", EVENT_KINDS)),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_seizures_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seizures")),
        sa.UniqueConstraint("seizure_key", name=op.f("uq_seizures_seizure_key")),
    )
    op.create_index(op.f("ix_seizures_patient_id"), "seizures", ["patient_id"])
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seizure_id", sa.Integer(), nullable=False),
        sa.Column("modality", sa.String(20), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("frame_count", sa.Integer(), nullable=True),
        sa.Column("checksum", sa.String(80), nullable=True),
        check("recordings", "modality", one_of("modality", MODALITIES)),
        check("recordings", "fps_positive", "fps IS NULL OR fps > 0"),
        check("recordings", "frame_count_not_negative", "frame_count IS NULL OR frame_count >= 0"),
        sa.ForeignKeyConstraint(["seizure_id"], ["seizures.id"], name=op.f("fk_recordings_seizure_id_seizures"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("seizure_id", "modality", name=op.f("uq_recordings_seizure_id_modality")),
    )
    op.create_table(
        "task_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seizure_id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(80), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        check("task_labels", "status", one_of("status", STATUSES)),
        sa.ForeignKeyConstraint(["seizure_id"], ["seizures.id"], name=op.f("fk_task_labels_seizure_id_seizures"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["annotator_id"], ["users.id"], name=op.f("fk_task_labels_annotator_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_labels")),
        sa.UniqueConstraint("seizure_id", "task", name=op.f("uq_task_labels_seizure_id_task")),
    )
    op.create_table(
        "sign_terms",
        sa.Column("term", sa.String(60), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("hed", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("region", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_sign_terms")),
    )
    op.create_table(
        "sign_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seizure_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(60), nullable=False),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("side", sa.String(20), nullable=True),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        check("sign_labels", "start_not_negative", "start_s >= 0"),
        check("sign_labels", "end_after_start", "end_s > start_s"),
        check("sign_labels", "confidence_range", "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)"),
        check("sign_labels", "side", one_of("side", SIDES)),
        check("sign_labels", "region", one_of("region", REGIONS)),
        check("sign_labels", "status", one_of("status", STATUSES)),
        check("sign_labels", "has_author", "annotator_id IS NOT NULL OR model IS NOT NULL"),
        sa.ForeignKeyConstraint(["seizure_id"], ["seizures.id"], name=op.f("fk_sign_labels_seizure_id_seizures"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["term"], ["sign_terms.term"], name=op.f("fk_sign_labels_term_sign_terms")),
        sa.ForeignKeyConstraint(["annotator_id"], ["users.id"], name=op.f("fk_sign_labels_annotator_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_labels")),
    )
    op.create_index(op.f("ix_sign_labels_seizure_id_term"), "sign_labels", ["seizure_id", "term"])
    op.create_index(op.f("ix_sign_labels_annotator_id"), "sign_labels", ["annotator_id"])
    op.create_table(
        "window_predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seizure_id", sa.Integer(), nullable=False),
        sa.Column("bundle_id", sa.String(80), nullable=False),
        sa.Column("bundle_version", sa.String(40), nullable=False),
        sa.Column("model", sa.String(120), nullable=False),
        sa.Column("task", sa.String(80), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        created_at(),
        check("window_predictions", "end_after_start", "end_s > start_s"),
        sa.ForeignKeyConstraint(["seizure_id"], ["seizures.id"], name=op.f("fk_window_predictions_seizure_id_seizures"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_predictions")),
    )
    op.create_index(op.f("ix_window_predictions_seizure_id_bundle_id_model"), "window_predictions", ["seizure_id", "bundle_id", "model"])
    op.create_table(
        "keypoint_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(60), nullable=False),
        sa.Column("joint", sa.String(60), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("z", sa.Float(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        created_at(),
        check("keypoint_corrections", "frame_not_negative", "frame >= 0"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], name=op.f("fk_keypoint_corrections_recording_id_recordings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_keypoint_corrections_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keypoint_corrections")),
    )
    op.create_index(op.f("ix_keypoint_corrections_recording_id_frame"), "keypoint_corrections", ["recording_id", "frame"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("table_name", sa.String(60), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("old_values", sa.JSON(), nullable=True),
        sa.Column("new_values", sa.JSON(), nullable=True),
        check("audit_log", "action", "action IN ('insert', 'update', 'delete')"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_table_name_row_id"), "audit_log", ["table_name", "row_id"])


def downgrade() -> None:
    for table in ("audit_log", "keypoint_corrections", "window_predictions", "sign_labels", "sign_terms", "task_labels", "recordings", "seizures",
                  "patients", "users", "sites"):
        op.drop_table(table)
