"""Coverage: snapshots, the latest standing, the cached standings and their marks, and the
dashboard's shares."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


class Figures:
    """An agency's head counts and requirements as a snapshot records them: the columns of the
    history and of its latest copy alike (the program and status are each table's own)."""

    sworn_total: Mapped[int] = mapped_column(Integer)
    sworn_crisis: Mapped[int] = mapped_column(Integer)
    sworn_trained: Mapped[int] = mapped_column(Integer)
    nonsworn_selected_total: Mapped[int] = mapped_column(Integer)
    nonsworn_trained: Mapped[int] = mapped_column(Integer)
    partnership: Mapped[bool] = mapped_column(Boolean)
    policy: Mapped[bool] = mapped_column(Boolean)
    crisis_20: Mapped[bool | None] = mapped_column(Boolean)
    all_trained: Mapped[bool | None] = mapped_column(Boolean)


class CoverageSnapshot(Figures, Base):
    """An agency's figures as of one date, kept so history can be drawn."""

    __tablename__ = "coverage_snapshot"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"))
    as_of: Mapped[date] = mapped_column(Date)
    program: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    __table_args__ = (UniqueConstraint("agency_id", "as_of"),)


class CoverageLatest(Figures, Base):
    """A copy of each agency's newest snapshot, kept by `save_snapshots`, so that the hub reads
    every agency's current standing without scanning the history (migration 0013).

    `as_of` is NULL on the rows of the agencies the newest every-agency recompute covered: they
    are as of its date, kept once in `coverage_latest_date`, so that a night whose figures
    barely move writes only the rows that changed (migration 0026). `mirrors` says the row's
    figures are those of the agency's latest snapshot on or before any date from its own on:
    a recompute then compares with the row, not the history."""

    __tablename__ = "coverage_latest"
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    as_of: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)  # the dashboard's counts
    program: Mapped[str | None] = mapped_column(String(40))  # NULL on rows from before 0026
    mirrors: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # On PostgreSQL, migration 0020 leaves half of each page free (fillfactor 50): the nightly
    # move of every row's date then stays on its page (a HOT update, no index touched), about a
    # tenth of the time. Not declared here: a `postgresql_` option loads that dialect at import.


class CoverageLatestDate(Base):
    """The date of the newest every-agency recompute: that of each `coverage_latest` row
    whose own date is NULL; one row (migration 0026)."""

    __tablename__ = "coverage_latest_date"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)


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
