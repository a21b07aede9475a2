"""Categories, mapping rules and the course catalogue."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


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
