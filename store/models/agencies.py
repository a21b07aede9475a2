"""Agencies, their attestations and the changes of their status."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


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
