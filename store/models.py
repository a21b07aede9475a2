"""The store's tables. Every domain row keeps the raw record it came from (provenance)."""

# No `from __future__ import annotations`: SQLAlchemy would parse each `Mapped[...]` from its
# text as the classes are declared, about a fifth of this module's import time.
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onemind.store.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Agency(Base):
    __tablename__ = "agency"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    program: Mapped[str] = mapped_column(String(40), default="one-mind")
    pledged_on: Mapped[date | None] = mapped_column(Date)
    deadline_months: Mapped[int] = mapped_column(Integer, default=36)
    report_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str | None] = mapped_column(String(100))
    # An agency that left the agencies file listing it: kept with its history, out of reports.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Who states it: "configuration" ([[agencies]]), an agencies source's name, NULL for neither.
    managed_by: Mapped[str | None] = mapped_column(String(64))


# the hub dashboard's default order, walked for its first page alone (migration 0017)
Index("ix_agency_name_key", func.lower(Agency.name), Agency.id)


class Attestation(Base):
    """Partnership or policy evidence, dated; the latest per kind counts."""

    __tablename__ = "attestation"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    attested_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # an evidence file kept under the store's private files folder, with its checked type
    evidence_file: Mapped[str | None] = mapped_column(String(100))
    evidence_name: Mapped[str | None] = mapped_column(String(300))
    evidence_type: Mapped[str | None] = mapped_column(String(100))
    # a rejected attestation no longer counts (migration 0013)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by: Mapped[str | None] = mapped_column(String(200))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("agency_id", "kind", "attested_on"),)


class Source(Base):
    __tablename__ = "source"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cursor_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncRun(Base):
    __tablename__ = "sync_run"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    voided: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    repeated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unmatched: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # what the run passed over without failing, e.g. a course a system will not report on
    warnings: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    # "full": the source was read whole (and what it no longer holds retracted); else "incremental"
    mode: Mapped[str] = mapped_column(
        String(12), default="incremental", server_default="incremental"
    )


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


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PersonIdentifier(Base):
    """A key by which some source names a person: email, mbox_sha1sum, xAPI account, …"""

    __tablename__ = "person_identifier"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(400))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    __table_args__ = (UniqueConstraint("kind", "value"),)


class Employment(Base):
    """A person on an agency's roster; a lateral hire is a second employment of one person."""

    __tablename__ = "employment"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"))
    employee_id: Mapped[str] = mapped_column(String(100))
    sworn: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[str] = mapped_column(String(200), default="")
    position_key: Mapped[str] = mapped_column(String(200), default="")
    selected: Mapped[bool | None] = mapped_column(Boolean)  # NULL: decided by position
    hired_on: Mapped[date] = mapped_column(Date)
    separated_on: Mapped[date | None] = mapped_column(Date)
    raw_record_id: Mapped[int | None] = mapped_column(ForeignKey("raw_record.id"))
    __table_args__ = (
        UniqueConstraint("agency_id", "employee_id"),
        Index("ix_employment_employee_id", "employee_id"),
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


class DeferredIndex(Base):
    """An index of `completion` dropped for a first load, with the statement that builds it
    again (see `store.deferred_indexes`); a row left here means a load was killed."""

    __tablename__ = "deferred_index"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)


class Voiding(Base):
    """A retraction naming its target, kept even when the target has not arrived yet."""

    __tablename__ = "voiding"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    target_external_id: Mapped[str] = mapped_column(String(300))
    raw_record_id: Mapped[int] = mapped_column(ForeignKey("raw_record.id"))
    __table_args__ = (UniqueConstraint("source_id", "target_external_id"),)


class Category(Base):
    """A kind of training that counts: its tier, who it counts for, how long it lasts."""

    __tablename__ = "category"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))
    population: Mapped[str] = mapped_column(String(20), default="all")
    validity_months: Mapped[int | None] = mapped_column(Integer)
    built_in: Mapped[bool] = mapped_column(Boolean, default=False)


class MappingRule(Base):
    """Course → category by course key, title pattern, activity type or provider.

    A NULL category means "not qualifying". Effective dates bound the completion dates it covers.
    """

    __tablename__ = "mapping_rule"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    match: Mapped[str] = mapped_column(String(20))
    pattern: Mapped[str] = mapped_column(String(500))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    category_id: Mapped[str | None] = mapped_column(ForeignKey("category.id"))
    min_hours: Mapped[float | None] = mapped_column(Float)
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_until: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    author: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Course(Base):
    """A distinct course seen in a source: the catalogue staff map from."""

    __tablename__ = "course"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    course_key: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500))
    hours: Mapped[float | None] = mapped_column(Float)
    provider: Mapped[str | None] = mapped_column(String(200))
    activity_type: Mapped[str | None] = mapped_column(String(300))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("source_id", "course_key"),)


class CourseTitle(Base):
    """Every title a course has been seen under."""

    __tablename__ = "course_title"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    __table_args__ = (UniqueConstraint("course_id", "title"),)


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


class CoverageSnapshot(Base):
    """An agency's figures as of one date, kept so history can be drawn."""

    __tablename__ = "coverage_snapshot"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"))
    as_of: Mapped[date] = mapped_column(Date)
    program: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sworn_total: Mapped[int] = mapped_column(Integer)
    sworn_crisis: Mapped[int] = mapped_column(Integer)
    sworn_trained: Mapped[int] = mapped_column(Integer)
    nonsworn_selected_total: Mapped[int] = mapped_column(Integer)
    nonsworn_trained: Mapped[int] = mapped_column(Integer)
    partnership: Mapped[bool] = mapped_column(Boolean)
    policy: Mapped[bool] = mapped_column(Boolean)
    crisis_20: Mapped[bool | None] = mapped_column(Boolean)
    all_trained: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    __table_args__ = (UniqueConstraint("agency_id", "as_of"),)


class CoverageLatest(Base):
    """A copy of each agency's newest snapshot, kept by `save_snapshots`, so that the hub reads
    every agency's current standing without scanning the history (migration 0013)."""

    __tablename__ = "coverage_latest"
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)  # the dashboard's counts
    sworn_total: Mapped[int] = mapped_column(Integer)
    sworn_crisis: Mapped[int] = mapped_column(Integer)
    sworn_trained: Mapped[int] = mapped_column(Integer)
    nonsworn_selected_total: Mapped[int] = mapped_column(Integer)
    nonsworn_trained: Mapped[int] = mapped_column(Integer)
    partnership: Mapped[bool] = mapped_column(Boolean)
    policy: Mapped[bool] = mapped_column(Boolean)
    # On PostgreSQL, migration 0020 leaves half of each page free (fillfactor 50): the nightly
    # move of every row's date then stays on its page (a HOT update, no index touched), about a
    # tenth of the time. Not declared here: a `postgresql_` option loads that dialect at import.


class CoverageBasis(Base):
    """The date and rules the cached standings (`coverage_person`, `coverage_counts`) were
    worked out for; one row (migration 0020). `store.coverage_cache` redoes only what changed."""

    __tablename__ = "coverage_basis"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    rules: Mapped[str] = mapped_column(String(64))


class CoveragePerson(Base):
    """Where one person stands in one agency that employs them, at the basis date and at its
    rate window's start (1 or 0 each), with the first dates on which the passing of time alone
    could change that: `changes_on` (a hire, a separation, a credential starting or expiring)
    and `window_changes_on` (a credential starting or expiring at the window's start)."""

    __tablename__ = "coverage_person"
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, primary_key=True)
    counted: Mapped[int] = mapped_column(Integer)
    sworn: Mapped[int] = mapped_column(Integer)
    crisis: Mapped[int] = mapped_column(Integer)
    trained: Mapped[int] = mapped_column(Integer)
    window_crisis: Mapped[int] = mapped_column(Integer)
    window_trained: Mapped[int] = mapped_column(Integer)
    changes_on: Mapped[date | None] = mapped_column(Date, index=True)
    window_changes_on: Mapped[date | None] = mapped_column(Date, index=True)
    __table_args__ = (Index("ix_coverage_person_person_id", "person_id"),)


class CoverageCounts(Base):
    """An agency's head counts at the basis date and at its rate window's start: the sums of
    its `coverage_person` rows."""

    __tablename__ = "coverage_counts"
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sworn_total: Mapped[int] = mapped_column(Integer)
    sworn_crisis: Mapped[int] = mapped_column(Integer)
    sworn_trained: Mapped[int] = mapped_column(Integer)
    nonsworn_total: Mapped[int] = mapped_column(Integer)
    nonsworn_trained: Mapped[int] = mapped_column(Integer)
    window_crisis: Mapped[int] = mapped_column(Integer)
    window_trained: Mapped[int] = mapped_column(Integer)
    window_nonsworn_trained: Mapped[int] = mapped_column(Integer)


class CoverageTodo(Base):
    """The people a recompute is working out again; filled and emptied in its transaction."""

    __tablename__ = "coverage_todo"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id)


class CoverageDirtyPerson(Base):
    """A person whose records or employments changed since the cached standings; written by
    triggers on `completion` and `employment` (migrations 0020, 0025), claimed and
    deleted by a recompute."""

    __tablename__ = "coverage_dirty_person"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id)


class CoverageDirtyAgency(Base):
    """An agency whose program or standing changed since the cached standings ('*': every
    agency, after a category changed); written by triggers on `agency` and `category`."""

    __tablename__ = "coverage_dirty_agency"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64))


SHARES = {
    "crisis": ("sworn_crisis", "sworn_total"),
    "trained": ("sworn_trained", "sworn_total"),
    "nonsworn": ("nonsworn_trained", "nonsworn_selected_total"),
}
"""The hub dashboard's shares of `coverage_latest`: (part, whole) columns."""


def share_key(name: str, table: str = "") -> str:
    """A share's sort key, NULL where nobody is counted, in SQL both backends index alike
    (`table` qualifies the columns in a query; an index names them bare)."""
    part, whole = (f"{table}.{c}" if table else c for c in SHARES[name])
    return f"(CAST({part} AS FLOAT) / NULLIF({whole}, 0))"


SHARE_INDEXES = [
    Index(f"ix_coverage_latest_{name}_key", text(share_key(name)), CoverageLatest.agency_id)
    for name in SHARES
]
"""What the dashboard sorted by a share walks for one page (migration 0017)."""


class AgencyStatusChange(Base):
    """An agency's status moved: written by the recomputation, sent once as a report."""

    __tablename__ = "status_change"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    before: Mapped[str] = mapped_column(String(20))
    after: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SigningKey(Base):
    """An issuer key; the private half is stored encrypted (PKCS#8 with a passphrase)."""

    __tablename__ = "signing_key"
    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Credential(Base):
    """A signed Open Badges 3.0 credential for a person (per tier) or an agency (recognition)."""

    __tablename__ = "credential"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"), index=True)
    tier: Mapped[str | None] = mapped_column(String(20))
    category_id: Mapped[str | None] = mapped_column(ForeignKey("category.id"))
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("mapping_rule.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kid: Mapped[str] = mapped_column(ForeignKey("signing_key.kid"))
    jwt: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class CredentialPush(Base):
    """Delivery of one credential action (issue or revoke) to one source that accepts it."""

    __tablename__ = "credential_push"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credential.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    action: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    remote_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("credential_id", "source_id", "action"),)


class SyncLock(Base):
    """Who is syncing a source now; a row whose `expires_at` has passed is free to take."""

    __tablename__ = "sync_lock"
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportArchive(Base):
    """A report as it was delivered (or failed to be): its content, recipients and outcome."""

    __tablename__ = "report_archive"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    csv: Mapped[str | None] = mapped_column(Text)


class ReportClaim(Base):
    """A report's one delivery per scheduled period: the row claimed before anything is sent.

    `subject` is the agency id (or `hub`); `period` names the scheduled slot. `state` moves from
    `claimed` to `sending` (committed just before the message is handed to the server) and ends
    `sent`, `failed` (nothing was accepted: a retry may claim it again) or `unknown` (the
    server's answer was lost: never resent by itself). `delivered` lists the recipients the
    server accepted, so a retry after a partial refusal goes only to the others.
    """

    __tablename__ = "report_claim"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    delivered: Mapped[list[str]] = mapped_column(JSON, default=list)
    archive_id: Mapped[int | None] = mapped_column(ForeignKey("report_archive.id"))
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("kind", "subject", "period"),)


class User(Base):
    """Someone who signs in to the web app; an agency user sees only `agencies`."""

    __tablename__ = "web_user"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # raised when the password changes or the account is disabled: older sessions end
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for scripts, acting as its user; only its SHA-256 is kept."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """A sign-in attempt, kept to slow down password guessing."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)


class WebSecret(Base):
    """The key that signs the web app's session cookies, made once per store."""

    __tablename__ = "web_secret"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# APScheduler's SQLAlchemyJobStore table, declared here so migrations create it and
# autogenerate leaves it alone; the job store finds it existing and uses it as it is.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
