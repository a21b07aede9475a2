"""What the runs page shows: recent runs, failing sources and the locks held now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.store.history import recent_runs, source_health
from onemind.store.models import Source, SyncLock

RUNS_SHOWN = 100


def overview(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    health = source_health(session, settings.schedule_zone)
    failing = [h for h in health if h.last_status == "failed" or h.failing_nights > 0]
    return {
        "runs": recent_runs(session, RUNS_SHOWN),
        "failing": failing,
        "flag_after": settings.reports.flag_failing_after,
        "locks": held_locks(session, now),
    }


def held_locks(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Locks not expired: which source, held by whom, since when, for which run."""
    rows = session.execute(
        select(Source.name, SyncLock)
        .join(Source, Source.id == SyncLock.source_id)
        .where(SyncLock.expires_at > now)
        .order_by(Source.name)
    )
    return [
        {
            "source": name,
            "holder": lock.holder,
            "run": lock.run_id,
            "acquired_at": lock.acquired_at.isoformat(timespec="seconds"),
            "heartbeat_at": lock.heartbeat_at.isoformat(timespec="seconds"),
            "expires_at": lock.expires_at.isoformat(timespec="seconds"),
        }
        for name, lock in rows
    ]
