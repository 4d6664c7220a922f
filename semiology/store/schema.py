"""The store's tables as SQLAlchemy 2 ORM classes.

One database holds sites, users, patients under pseudonyms, seizures with their recordings and
labels, model predictions, keypoint corrections and the audit log. The migrations in
`semiology/store/migrations` create exactly these tables (a test compares them); a change here
needs a new migration.

Nothing here can hold a patient identifier: a patient row has only its site and its pseudonym
(`semiology.pseudonyms`), and a site keeps only a check value of its secret, never the secret.
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from semiology.io.manifest import MODALITIES
from semiology.store.vocabulary import EVENT_KIND_KEYS, REGIONS, ROLES, SEIZURE_TYPE_KEYS, SIDES, STATUSES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names fixed by rule, so migrations can name (and drop) them on SQLite and PostgreSQL alike."""


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL of a check that `column` is NULL or one of `values` (vocabulary keys: plain identifiers)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IS NULL OR {column} IN ({listed})"


def utc_now() -> datetime.datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Site(Base):
    """An epilepsy monitoring unit; `secret_check` tells whether an import used the site's own secret."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    secret_check: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class User(Base):
    """A person who labels (annotator), reviews (reviewer) or administers (admin); the password is an Argon2 hash."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class Patient(Base):
    """A patient as the store knows them: a site and a pseudonym, nothing else."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("site_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    pseudonym: Mapped[str] = mapped_column(String(64))

    site: Mapped[Site] = relationship()


class Seizure(Base):
    """One seizure (or non-epileptic event): clinical times in seconds from the first frame of its recordings.

    `seizure_key` is the site's seizure id (the manifest's `seizure_id`); `seizure_type` an ILAE
    2025 term; `event_kind` epileptic or not.
    """

    __tablename__ = "seizures"
    __table_args__ = (
        CheckConstraint("onset_s >= 0", name="onset_not_negative"),
        CheckConstraint("offset_s > onset_s", name="offset_after_onset"),
        CheckConstraint("generalisation_s IS NULL OR (generalisation_s >= onset_s AND generalisation_s <= offset_s)", name="generalisation_inside"),
        CheckConstraint(one_of("seizure_type", SEIZURE_TYPE_KEYS), name="seizure_type"),
        CheckConstraint(one_of("event_kind", EVENT_KIND_KEYS), name="event_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_key: Mapped[str] = mapped_column(String(200), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    onset_s: Mapped[float] = mapped_column(Float)
    offset_s: Mapped[float] = mapped_column(Float)
    generalisation_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    seizure_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    event_kind: Mapped[str | None] = mapped_column(String(40), nullable=True)

    patient: Mapped[Patient] = relationship()
    recordings: Mapped[list[Recording]] = relationship(back_populates="seizure", cascade="all, delete-orphan", order_by="Recording.id")
    task_labels: Mapped[list[TaskLabel]] = relationship(back_populates="seizure", cascade="all, delete-orphan", order_by="TaskLabel.id")
    sign_labels: Mapped[list[SignLabel]] = relationship(back_populates="seizure", cascade="all, delete-orphan", order_by="SignLabel.id")


class Recording(Base):
    """A file of one modality of a seizure: a video, depth or IR stream, or the cached keypoint record."""

    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint("seizure_id", "modality"),
        CheckConstraint(one_of("modality", MODALITIES), name="modality"),
        CheckConstraint("fps IS NULL OR fps > 0", name="fps_positive"),
        CheckConstraint("frame_count IS NULL OR frame_count >= 0", name="frame_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_id: Mapped[int] = mapped_column(ForeignKey("seizures.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    frame_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    checksum: Mapped[str | None] = mapped_column(String(80), nullable=True)

    seizure: Mapped[Seizure] = relationship(back_populates="recordings")


class TaskLabel(Base):
    """A seizure-level label of a study task (a manifest label column): `dystonia` = `yes`, `seizure_type` = `FLE`."""

    __tablename__ = "task_labels"
    __table_args__ = (UniqueConstraint("seizure_id", "task"), CheckConstraint(one_of("status", STATUSES), name="status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_id: Mapped[int] = mapped_column(ForeignKey("seizures.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(80))
    value: Mapped[str] = mapped_column(String(200))
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="human")

    seizure: Mapped[Seizure] = relationship(back_populates="task_labels")


class SignTerm(Base):
    """A term of the controlled sign vocabulary (seeded from the ILAE semiology glossary by a migration)."""

    __tablename__ = "sign_terms"

    term: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    hed: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)


class SignLabel(Base):
    """A sign seen during a seizure: a term, where and on which side, from when to when, by whom, how sure, and its status.

    A person's label has an annotator; a model's proposal names its model (bundle and model name).
    `version` counts the label's changes (migration 0003): an edit or delete that read an older
    version is refused, so concurrent annotators never overwrite each other silently.
    """

    __tablename__ = "sign_labels"
    __table_args__ = (
        CheckConstraint("start_s >= 0", name="start_not_negative"),
        CheckConstraint("end_s > start_s", name="end_after_start"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence_range"),
        CheckConstraint(one_of("side", SIDES), name="side"),
        CheckConstraint(one_of("region", REGIONS), name="region"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("annotator_id IS NOT NULL OR model IS NOT NULL", name="has_author"),
        Index(None, "seizure_id", "term"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_id: Mapped[int] = mapped_column(ForeignKey("seizures.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(ForeignKey("sign_terms.term"))
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)
    side: Mapped[str | None] = mapped_column(String(20), nullable=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="human")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    seizure: Mapped[Seizure] = relationship(back_populates="sign_labels")
    annotator: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
    """Every UPDATE and DELETE names the version it read and raises StaleDataError when another session changed the row first."""


class WindowPrediction(Base):
    """A model's class probabilities for one window of a seizure's recording (written by screening)."""

    __tablename__ = "window_predictions"
    __table_args__ = (
        Index(None, "seizure_id", "bundle_id", "model"),
        CheckConstraint("end_s > start_s", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seizure_id: Mapped[int] = mapped_column(ForeignKey("seizures.id", ondelete="CASCADE"))
    bundle_id: Mapped[str] = mapped_column(String(80))
    bundle_version: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(120))
    task: Mapped[str] = mapped_column(String(80))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class KeypointCorrection(Base):
    """A person's correction of one joint in one frame of a recording's keypoints (pixels, or millimetres in 3D)."""

    __tablename__ = "keypoint_corrections"
    __table_args__ = (CheckConstraint("frame >= 0", name="frame_not_negative"), Index(None, "recording_id", "frame"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    frame: Mapped[int] = mapped_column(Integer)
    layout: Mapped[str] = mapped_column(String(60))
    joint: Mapped[str] = mapped_column(String(60))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    z: Mapped[float | None] = mapped_column(Float, nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class AuditEntry(Base):
    """One change: who (`actor`), when, which row of which table, and its values before and after.

    Written by `semiology.store.audit` inside the transaction that makes the change, so a change
    and its audit entry are committed or rolled back together. Password hashes are never copied here.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "table_name", "row_id"), CheckConstraint("action IN ('insert', 'update', 'delete')", name="action"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    actor: Mapped[str] = mapped_column(String(200))
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(10))
    old_values: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    new_values: Mapped[dict | None] = mapped_column(JSON, nullable=True)
