"""Run history: what `onemind runs` lists, and how each source has been doing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.store.models import Source, SyncRun

# what a sync_run row's status says
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
SKIPPED, STOPPED, ABANDONED = "skipped", "stopped", "abandoned"

COUNTS = ("fetched", "new", "updated", "voided", "quarantined", "repeated", "unmatched")
STREAK_WINDOW = 200


@dataclass(frozen=True)
class RunRow:
    """One line of `onemind runs`."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    error: str | None
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "status": self.status,
            **self.counts,
            "error": self.error,
            "warnings": self.warnings,
        }


def recent_runs(session: Session, limit: int = 20, source: str | None = None) -> list[RunRow]:
    """The newest runs first, of every source or of one."""
    query = (
        select(SyncRun, Source.name)
        .join(Source, Source.id == SyncRun.source_id)
        .order_by(SyncRun.id.desc())
        .limit(limit)
    )
    if source is not None:
        query = query.where(Source.name == source)
    return [
        RunRow(
            run.id,
            name,
            run.started_at,
            run.finished_at,
            run.status,
            {c: getattr(run, c) for c in COUNTS},
            run.error,
            list(run.warnings or []),
        )
        for run, name in session.execute(query)
    ]


@dataclass(frozen=True)
class SourceHealth:
    """How a source has been doing: its last run, and how many nights in a row it has failed."""

    source: str
    last_status: str | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    failing_nights: int
    last_error: str | None

    def flagged(self, threshold: int) -> bool:
        return self.failing_nights >= threshold


def source_health(
    session: Session, zone: tzinfo, names: Sequence[str] | None = None
) -> list[SourceHealth]:
    """Every source's health; a night counts once however many runs failed in it."""
    query = select(Source).order_by(Source.name)
    if names is not None:
        query = query.where(Source.name.in_(list(names)))
    return [_health(session, source, zone) for source in session.scalars(query)]


def _health(session: Session, source: Source, zone: tzinfo) -> SourceHealth:
    runs = list(
        session.scalars(
            select(SyncRun)
            .where(
                SyncRun.source_id == source.id,
                SyncRun.status.in_([SUCCEEDED, FAILED, ABANDONED]),
            )
            .order_by(SyncRun.id.desc())
            .limit(STREAK_WINDOW)
        )
    )
    nights: set[date] = set()
    for run in runs:
        if run.status == SUCCEEDED:
            break
        nights.add(run.started_at.astimezone(zone).date())
    success = next((r for r in runs if r.status == SUCCEEDED), None)
    last = runs[0] if runs else None
    return SourceHealth(
        source=source.name,
        last_status=last.status if last else None,
        last_run_at=last.started_at if last else None,
        last_success_at=success.started_at if success else None,
        failing_nights=len(nights),
        last_error=last.error if last and last.status != SUCCEEDED else None,
    )
