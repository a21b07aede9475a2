"""People, the identifiers they are found by, and their employments."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


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
