"""What sources said (raw batches and records, retractions, quarantined records) and the
completions read from it. Every domain row keeps the raw record it came from."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


class RawBatch(Base):
    """The payloads of one written batch of records, together: zlib of a JSON array."""

    __tablename__ = "raw_batch"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    payloads: Mapped[bytes] = mapped_column(LargeBinary)


class RawRecord(Base):
    """Exactly what a source said, keyed by (source, external id)."""

    __tablename__ = "raw_record"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(500))
    # the payload as sent, inline; or, from a bulk load, row `batch_row` of batch `batch_id`
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=False)  # JSON null
    # raw_batch.id without a foreign key, which SQLite could not drop on a downgrade
    batch_id: Mapped[int | None] = mapped_column(Id)
    batch_row: Mapped[int | None] = mapped_column(Integer)
    payload_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_raw_record_last_run_id", "last_run_id"),
    )


class Completion(Base):
    """One completed course; `person_id` stays empty until identity resolution finds them."""

    __tablename__ = "completion"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_record.id"), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    agency_hint: Mapped[str | None] = mapped_column(String(64))
    employee_id: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    mbox_sha1sum: Mapped[str | None] = mapped_column(String(40))
    account: Mapped[str | None] = mapped_column(String(400))
    course_key: Mapped[str] = mapped_column(String(500))
    course_title: Mapped[str] = mapped_column(String(500))
    activity_type: Mapped[str | None] = mapped_column(String(300))
    provider: Mapped[str | None] = mapped_column(String(200))
    hours: Mapped[float | None] = mapped_column(Float)
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the completion is classified, by which rule version, and until when it counts;
    # all empty, with `classified_at`, until the classifier has decided it (migration 0025).
    category_id: Mapped[str | None] = mapped_column(ForeignKey("category.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("mapping_rule.id"))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[date | None] = mapped_column(Date)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_completion_unlinked", "person_id", "employee_id"),
        Index("ix_completion_course", "source_id", "course_key"),
        # everything coverage reads of a person's completions, without visiting the rows
        Index(
            "ix_completion_credit",
            *("person_id", "completed_on", "voided", "category_id", "valid_until"),
        ),
        # the few completions the classifier has still to decide (none after a load); migration
        # 0025 makes it partial on PostgreSQL too (naming `postgresql_where` here would import
        # that dialect into every command on SQLite)
        Index("ix_completion_unclassified", "id", sqlite_where=text("classified_at IS NULL")),
    )


class Voiding(Base):
    """A retraction naming its target, kept even when the target has not arrived yet."""

    __tablename__ = "voiding"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    target_external_id: Mapped[str] = mapped_column(String(300))
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_record.id"))
    __table_args__ = (UniqueConstraint("source_id", "target_external_id"),)


class QuarantinedRecord(Base):
    """A record that could not be taken in, with where it was and why."""

    __tablename__ = "quarantined_record"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    location: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("source_id", "location", "reason"),)


BULK_TABLES = (RawRecord.__table__, Completion.__table__)
"""Tables a load fills by the million. On PostgreSQL their foreign keys are not declared: each
would fire a trigger per row written, a quarter of a load's time; `store.references` verifies
the rows of each load transaction at once instead (migration 0019). SQLite checks a foreign key
by an index probe in C, cheap enough to keep."""


def declared_on(dialect: str, constraint: object) -> bool:
    """Whether the database of `dialect` holds this constraint (see BULK_TABLES)."""
    if dialect == "sqlite" or not isinstance(constraint, ForeignKeyConstraint):
        return True
    return not any(constraint.table is table for table in BULK_TABLES)


def _sqlite_only(tables: tuple[Table, ...]) -> None:
    for table in tables:
        for constraint in table.foreign_key_constraints:
            constraint.ddl_if(dialect="sqlite")


_sqlite_only(BULK_TABLES)
