"""The sources, their sync runs and locks, a first load's deferred indexes, and the scheduler's job
table."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


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
    # whether a finish has catalogued the courses of its completions (migration 0027)
    catalogued: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DeferredIndex(Base):
    """An index of `completion` dropped for a first load, with the statement that builds it
    again (see `store.deferred_indexes`); a row left here means a load was killed."""

    __tablename__ = "deferred_index"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    definition: Mapped[str] = mapped_column(Text)


class SyncLock(Base):
    """Who is syncing a source now; a row whose `expires_at` has passed is free to take."""

    __tablename__ = "sync_lock"
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# APScheduler's SQLAlchemyJobStore table, declared here so migrations create it and
# autogenerate leaves it alone; the job store finds it existing and uses it as it is.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
