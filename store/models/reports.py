"""Reports sent (the archive) and the claims that send each once."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


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
