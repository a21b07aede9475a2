"""Agencies' status changes: found by comparing fresh figures with the last snapshot, kept as
rows until a report has told the agency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from onemind.store.coverage import CoverageReport
from onemind.store.models import Agency, AgencyStatusChange
from onemind.store.snapshots import latest_snapshots


@dataclass(frozen=True)
class StatusChange:
    """An agency whose status differs from the one its previous snapshot recorded."""

    agency: str
    before: str
    after: str


def status_changes(
    session: Session,
    reports: Sequence[CoverageReport],
    latest: dict[str, tuple[Any, ...]] | None = None,
) -> list[StatusChange]:
    """Compare fresh reports with each agency's latest snapshot on or before their date
    (`latest_snapshots`, read here unless given).

    Call it before the fresh snapshots are saved; an agency seen for the first time is no change.
    """
    if latest is None:
        latest = latest_snapshots(session, reports)
    before = {agency: figures[-1] for agency, figures in latest.items()}
    return [
        StatusChange(r.agency, before[r.agency], r.status)
        for r in reports
        if r.agency in before and before[r.agency] != r.status
    ]


def record_status_changes(
    session: Session,
    reports: Sequence[CoverageReport],
    now: datetime,
    latest: dict[str, tuple[Any, ...]] | None = None,
) -> list[StatusChange]:
    """Find the changes and keep each as a row waiting to be reported."""
    changes = status_changes(session, reports, latest)
    as_of = {r.agency: r.as_of for r in reports}
    if changes:
        session.execute(
            insert(AgencyStatusChange),
            [
                {
                    "agency_id": c.agency,
                    "as_of": as_of[c.agency],
                    "before": c.before,
                    "after": c.after,
                    "recorded_at": now,
                }
                for c in changes
            ],
        )
    return changes


def pending_status_changes(session: Session) -> dict[str, list[AgencyStatusChange]]:
    """Recorded changes no report has told yet, per active agency, oldest first (an inactive
    agency's wait until it is back)."""
    pending: dict[str, list[AgencyStatusChange]] = {}
    query = (
        select(AgencyStatusChange)
        .join(Agency, Agency.id == AgencyStatusChange.agency_id)
        .where(AgencyStatusChange.notified_at.is_(None), Agency.active)
        .order_by(AgencyStatusChange.id)
    )
    for row in session.scalars(query):
        pending.setdefault(row.agency_id, []).append(row)
    return pending


def mark_told(session: Session, change_ids: Sequence[int], now: datetime) -> None:
    """These recorded changes have been reported (or needed no report)."""
    if change_ids:
        session.execute(
            update(AgencyStatusChange)
            .where(AgencyStatusChange.id.in_(list(change_ids)))
            .values(notified_at=now)
        )
