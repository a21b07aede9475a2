"""Each agency's coverage kept as it moves: a snapshot for each date its figures changed (the
history reports draw) and `coverage_latest`, its newest figures for the hub dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, case, select, true, type_coerce, update
from sqlalchemy.orm import Session, aliased

from onemind.store.bulk import among
from onemind.store.coverage import CoverageReport
from onemind.store.models import Agency, CoverageLatest, CoverageLatestDate, CoverageSnapshot
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


@dataclass(frozen=True)
class Latest:
    """What a recompute compares its reports with: each reported agency's latest snapshot on or
    before their date (`SNAPSHOT_FIGURES`, in that order, the status last), and its
    `coverage_latest` row as stored: its own date, whether it mirrors the history, and its
    `SNAPSHOT_FIGURES`."""

    figures: dict[str, tuple[Any, ...]]
    rows: dict[str, tuple[date | None, bool, tuple[Any, ...]]]
    whole: bool  # `rows` is the whole table
    day: date | None  # the date of the rows whose own is NULL (`coverage_latest_date`)


def latest_snapshots(
    session: Session, reports: Sequence[CoverageReport]
) -> dict[str, tuple[Any, ...]]:
    """Each reported agency's latest snapshot on or before the reports' date: its
    `SNAPSHOT_FIGURES`, in that order (the status last)."""
    return read_latest(session, reports).figures


def read_latest(session: Session, reports: Sequence[CoverageReport]) -> Latest:
    """The reported agencies' latest snapshots and `coverage_latest` rows. A row that mirrors
    the history and is not newer than the reports gives its figures; the history is searched
    only for the other agencies (none, night after night)."""
    if not reports:
        return Latest({}, {}, False, None)
    agencies = [r.agency for r in reports]
    rows = _latest_rows(session, agencies)
    table = CoverageLatestDate.__table__
    hub = session.connection().execute(select(table.c.as_of).where(table.c.id == 1)).scalar()
    day = max(r.as_of for r in reports)
    figures, unsure = {}, []
    for agency in agencies:
        kept = rows.get(agency)
        if kept is not None and kept[1] and (kept[0] or hub) <= day:
            figures[agency] = kept[2]
        else:
            unsure.append(agency)
    if unsure:
        found = _snapshot_figures(session, unsure, day)
        figures.update((agency, found[agency]) for agency in unsure if agency in found)
    return Latest(figures, rows, len(agencies) > FEW, hub)


def _snapshot_figures(
    session: Session, agencies: list[str], day: date
) -> dict[str, tuple[Any, ...]]:
    """The agencies' latest snapshot on or before `day`, found in the history."""
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
    if len(agencies) <= FEW:
        query = query.where(Agency.id.in_(agencies))
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


def _snapshot_row(
    report: CoverageReport, figures: tuple[Any, ...], now: datetime
) -> dict[str, Any]:
    row = dict(zip(SNAPSHOT_FIGURES, figures, strict=True))
    return {"agency_id": report.agency, "as_of": report.as_of, "computed_at": now, **row}


def save_snapshots(
    session: Session,
    reports: Sequence[CoverageReport],
    now: datetime,
    latest: Latest | None = None,
    every: bool = False,
) -> int:
    """Keep an agency's snapshot for the date when its figures differ from its latest one on
    or before that date (`read_latest`, read here unless given); a later computation of the
    same day replaces it. An unchanged agency writes nothing: the latest snapshot still
    says what it says. `every`: the reports are every active agency's, of one date (a hub
    recompute), which `coverage_latest` then keeps once. Returns how many were written."""
    if not reports:
        return 0
    if latest is None:
        latest = read_latest(session, reports)
    figures = [_figures(r) for r in reports]
    changed = [
        _snapshot_row(r, f, now)
        for r, f in zip(reports, figures, strict=True)
        if latest.figures.get(r.agency) != f
    ]
    if changed:
        statement = insert_for(session, CoverageSnapshot.__table__)
        keep = {"agency_id", "as_of"}
        statement = statement.on_conflict_do_update(
            index_elements=["agency_id", "as_of"],
            set_={c: statement.excluded[c] for c in changed[0] if c not in keep},
        )
        session.execute(statement, changed)
    snapshotted = {row["agency_id"] for row in changed}
    _keep_newest(session, reports, figures, latest, snapshotted, every)
    return len(changed)


LATEST_READ = ("agency_id", "as_of", "mirrors", *SNAPSHOT_FIGURES)
"""The columns of `coverage_latest` a recompute reads, in this order."""


def _keep_newest(
    session: Session,
    reports: Sequence[CoverageReport],
    figures: list[tuple[Any, ...]],
    latest: Latest,
    snapshotted: set[str],
    every: bool,
) -> None:
    """`coverage_latest` (the hub dashboard's) follows each agency's newest computation: a
    row is written only when its figures or its own date change. A hub recompute's rows take
    their date from `coverage_latest_date`, written once: the nightly move of 18,000 dates
    is one row. (Only a recompute writes the table, under its lock: the rows read are those
    in place.)"""
    day = max(r.as_of for r in reports)
    moves = every and (latest.day is None or latest.day <= day)
    own = None if moves or latest.day == day else day
    written, behind = [], []
    for report, figured in zip(reports, figures, strict=True):
        kept = latest.rows.get(report.agency)
        if kept is not None and (kept[0] or latest.day) > report.as_of:
            if report.agency in snapshotted:  # an older snapshot: the row no longer mirrors
                behind.append(report.agency)
            continue  # a newer computation's: kept
        if kept is None or kept[0] != own or not kept[1] or kept[2] != figured:
            written.append((report.agency, own, True, *figured))
    table = CoverageLatest.__table__
    dialect = session.get_bind().dialect
    if behind:
        rows = among(dialect, table.c.agency_id, behind)
        session.execute(update(table).where(rows).values(mirrors=False))
    if moves and latest.day is not None and latest.day < day:
        _pin(session, reports, latest)
    if written:
        newest = insert_for(session, table)
        newest = newest.on_conflict_do_update(
            index_elements=["agency_id"],
            set_={c: newest.excluded[c] for c in LATEST_READ if c != "agency_id"},
        )
        session.execute(newest, [dict(zip(LATEST_READ, row, strict=True)) for row in written])
    if moves and latest.day != day:
        dated = insert_for(session, CoverageLatestDate.__table__)
        dated = dated.on_conflict_do_update(index_elements=["id"], set_={"as_of": day})
        session.execute(dated, {"id": 1, "as_of": day})


def _pin(session: Session, reports: Sequence[CoverageReport], latest: Latest) -> None:
    """Before a hub recompute moves `coverage_latest_date` on: the rows it leaves (inactive
    agencies') take the date they are as of as their own."""
    table = CoverageLatest.__table__
    if latest.whole:
        reported = {r.agency for r in reports}
        left = [a for a, kept in latest.rows.items() if kept[0] is None and a not in reported]
        if not left:
            return
        rows = among(session.get_bind().dialect, table.c.agency_id, left)
    else:
        rows = table.c.agency_id.not_in([r.agency for r in reports])
    session.execute(update(table).where(table.c.as_of.is_(None), rows).values(as_of=latest.day))


def _latest_rows(
    session: Session, agencies: list[str]
) -> dict[str, tuple[date | None, bool, tuple[Any, ...]]]:
    """The stored `coverage_latest` rows of `agencies` (`Latest.rows`): named when few, else
    the whole table in one read."""
    table = CoverageLatest.__table__
    query = select(*(table.c[c] for c in LATEST_READ))
    if len(agencies) <= FEW:
        query = query.where(table.c.agency_id.in_(agencies))
    rows = session.connection().execute(query).all()
    return {row[0]: (row[1], row[2], row[3:]) for row in rows}  # a row's slice: a plain tuple


def latest_as_of() -> ColumnElement[date]:
    """A `coverage_latest` row's date: its own, else the hub recompute's (NULL where an outer
    join found no row)."""
    hub = select(CoverageLatestDate.as_of).where(CoverageLatestDate.id == 1).scalar_subquery()
    row = CoverageLatest.__table__.c
    found = case((row.as_of.is_not(None), row.as_of), (row.agency_id.is_not(None), hub))
    return type_coerce(found, Date)


__all__ = ["Latest", "latest_as_of", "latest_snapshots", "read_latest", "save_snapshots"]
