"""Each agency's coverage kept as it moves: a snapshot for each date its figures changed (the
history reports draw) and `coverage_latest`, its newest figures for the hub dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true, update
from sqlalchemy.orm import Session, aliased

from onemind.store.bulk import among
from onemind.store.coverage import CoverageReport
from onemind.store.models import Agency, CoverageLatest, CoverageSnapshot
from onemind.store.upsert import insert_for

FEW = 500  # up to this many agencies are named in the snapshot query; more read every agency
SNAPSHOT_FIGURES = (
    "program",
    "sworn_total",
    "sworn_crisis",
    "sworn_trained",
    "nonsworn_selected_total",
    "nonsworn_trained",
    "partnership",
    "policy",
    "crisis_20",
    "all_trained",
    "status",
)


def latest_snapshots(
    session: Session, reports: Sequence[CoverageReport]
) -> dict[str, tuple[Any, ...]]:
    """Each reported agency's latest snapshot on or before the reports' date: its
    `SNAPSHOT_FIGURES`, in that order (the status last)."""
    if not reports:
        return {}
    day = max(r.as_of for r in reports)
    older = aliased(CoverageSnapshot)
    figures = [getattr(older, c) for c in SNAPSHOT_FIGURES]
    newest = (
        select(older.id, *figures)
        .where(older.agency_id == Agency.id, older.as_of <= day)
        .order_by(older.as_of.desc())
        .limit(1)
    )
    # one index seek per agency, however long the history of snapshots grows
    if session.get_bind().dialect.name == "postgresql":  # the figures read by the seek itself
        found = newest.lateral()
        query = select(Agency.id, *(found.c[c] for c in SNAPSHOT_FIGURES)).join(found, true())
    else:  # no LATERAL: the seek finds the row's id
        latest = newest.with_only_columns(older.id).correlate(Agency).scalar_subquery()
        query = select(
            CoverageSnapshot.agency_id,
            *(CoverageSnapshot.__table__.c[c] for c in SNAPSHOT_FIGURES),
        ).join(Agency, CoverageSnapshot.id == latest)
    if len(reports) <= FEW:
        query = query.where(Agency.id.in_([r.agency for r in reports]))
    rows = session.connection().execute(query).all()  # flushed: the caller's reports read
    return {row[0]: row[1:] for row in rows}  # a row's slice is a plain tuple


def _figures(report: CoverageReport) -> tuple[Any, ...]:
    """The report's `SNAPSHOT_FIGURES`, in that order."""
    c = report.counts
    return (
        *(report.program, c.sworn_total, c.sworn_crisis, c.sworn_trained, c.nonsworn_total),
        *(c.nonsworn_trained, report.partnership, report.policy, report.crisis_20),
        *(report.all_trained, report.status),
    )


def _snapshot_row(report: CoverageReport, now: datetime) -> dict[str, Any]:
    row = dict(zip(SNAPSHOT_FIGURES, _figures(report), strict=True))
    return {"agency_id": report.agency, "as_of": report.as_of, "computed_at": now, **row}


def save_snapshots(
    session: Session,
    reports: Sequence[CoverageReport],
    now: datetime,
    latest: dict[str, tuple[Any, ...]] | None = None,
) -> int:
    """Keep an agency's snapshot for the date when its figures differ from its latest one on
    or before that date (`latest_snapshots`, read here unless given); a later computation of
    the same day replaces it. An unchanged agency writes nothing: the latest snapshot still
    says what it says. Returns how many were written."""
    if not reports:
        return 0
    if latest is None:
        latest = latest_snapshots(session, reports)
    changed = [_snapshot_row(r, now) for r in reports if latest.get(r.agency) != _figures(r)]
    if changed:
        statement = insert_for(session, CoverageSnapshot.__table__)
        keep = {"agency_id", "as_of"}
        statement = statement.on_conflict_do_update(
            index_elements=["agency_id", "as_of"],
            set_={c: statement.excluded[c] for c in changed[0] if c not in keep},
        )
        session.execute(statement, changed)
    _keep_newest(session, reports)
    return len(changed)


LATEST_COLUMNS = (
    *("agency_id", "as_of", "status", "sworn_total", "sworn_crisis", "sworn_trained"),
    *("nonsworn_selected_total", "nonsworn_trained", "partnership", "policy"),
)


def _newest(report: CoverageReport) -> tuple[Any, ...]:
    """The report as a `coverage_latest` row, in LATEST_COLUMNS' order."""
    c = report.counts
    return (
        *(report.agency, report.as_of, report.status, c.sworn_total, c.sworn_crisis),
        *(c.sworn_trained, c.nonsworn_total, c.nonsworn_trained, report.partnership),
        report.policy,
    )


def _keep_newest(session: Session, reports: Sequence[CoverageReport]) -> None:
    """`coverage_latest` (the hub dashboard's) follows each agency's newest computation,
    whether or not its figures changed (its date moves on); a row already saying the same is
    not written again (a rerun rewrote every agency's row, 18,000 on a state hub)."""
    table = CoverageLatest.__table__
    stored = _latest_rows(session, [r.agency for r in reports])
    changed, dated = [], {}
    for row in map(_newest, reports):
        kept = stored.get(row[0])
        if kept is not None and kept[1] > row[1]:
            continue  # a newer computation's: kept (the upsert below would refuse it too)
        if kept is not None and kept[2:] == row[2:] and kept[1] < row[1]:
            dated.setdefault(row[1], []).append(row[0])  # only its date moves on
        elif kept != row:
            changed.append(dict(zip(LATEST_COLUMNS, row, strict=True)))
    whole = len(reports) > FEW  # `stored` is the whole table
    for day, agencies in dated.items():  # one statement, not a row each
        rows = _older(session, stored if whole else None, day, agencies)
        session.execute(update(table).where(rows).values(as_of=day))
    if not changed:
        return
    newest = insert_for(session, table)
    newest = newest.on_conflict_do_update(
        index_elements=["agency_id"],
        set_={c: newest.excluded[c] for c in LATEST_COLUMNS if c != "agency_id"},
        where=CoverageLatest.as_of <= newest.excluded.as_of,
    )
    session.execute(newest, changed)


def _older(
    session: Session, stored: dict[str, tuple[Any, ...]] | None, day: date, agencies: list[str]
) -> ColumnElement[bool]:
    """The `coverage_latest` rows of `agencies` dated before `day`. When `stored` holds the
    whole table and fewer of its rows before `day` are left out, those are named instead: a
    night moves the date of nearly every agency's row, and sending, then parsing, 18,000 names
    cost more than the rest of the statement. (Only a recompute writes the table, under its
    lock: no row appears meanwhile.)"""
    table = CoverageLatest.__table__
    older = table.c.as_of < day
    dialect = session.get_bind().dialect
    if stored is not None:
        moving = set(agencies)
        left = [a for a, kept in stored.items() if kept[1] < day and a not in moving]
        if len(left) < len(agencies):
            return and_(older, ~among(dialect, table.c.agency_id, left)) if left else older
    return and_(among(dialect, table.c.agency_id, agencies), older)


def _latest_rows(session: Session, agencies: list[str]) -> dict[str, tuple[Any, ...]]:
    """The stored `coverage_latest` rows of `agencies`, as LATEST_COLUMNS tuples: named when
    few, else the whole table in one read."""
    table = CoverageLatest.__table__
    query = select(*(table.c[c] for c in LATEST_COLUMNS))
    if len(agencies) <= FEW:
        query = query.where(table.c.agency_id.in_(agencies))
    return {row[0]: tuple(row) for row in session.connection().execute(query).all()}


__all__ = ["latest_snapshots", "save_snapshots"]
