"""The bookkeeping of one source's run: its lock, its `sync_run` row, its counts and its outcome."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from onemind.domain.text import plain
from onemind.store.history import ABANDONED, RUNNING, SKIPPED
from onemind.store.history import FAILED as FAILED
from onemind.store.history import STOPPED as STOPPED
from onemind.store.history import SUCCEEDED as SUCCEEDED
from onemind.store.models import Completion, Source, SyncRun
from onemind.store.writer import BatchStats
from onemind.sync import lock
from onemind.sync.lock import Held

log = logging.getLogger(__name__)

FULL = "full"  # a run's mode when it read its source whole
ABANDONED_NOTE = (
    "abandoned: its process ended without finishing (killed?); "
    "what it committed is kept and the next run resumed from the last committed cursor"
)


@dataclass(frozen=True)
class Started:
    """A run that began: its row, its source, the cursor to resume from, or who held the lock."""

    run_id: int
    source_id: int
    cursor: dict[str, Any] | None
    held: Held | None = None


def start(
    session: Session, source_name: str, holder: str, now: datetime, ttl: timedelta
) -> Started:
    """Take the source's lock and open a `running` row, or record a `skipped` one if it is held."""
    source = session.scalars(select(Source).where(Source.name == source_name)).one()
    held = lock.acquire(session, source.id, holder, now, ttl)
    if held is None:
        abandon_leftovers(session, source.id, now)
        run = SyncRun(source_id=source.id, started_at=now)
    else:
        run = SyncRun(
            source_id=source.id,
            started_at=now,
            finished_at=now,
            status=SKIPPED,
            error=held.describe(),
        )
    session.add(run)
    session.flush()
    if held is None:
        lock.attach_run(session, source.id, holder, run.id)
    return Started(run.id, source.id, source.cursor, held)


def abandon_leftovers(session: Session, source_id: int, now: datetime) -> None:
    """Runs still `running` once we hold the lock belong to processes that died: say so."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.source_id == source_id, SyncRun.status == RUNNING)
        .values(status=ABANDONED, finished_at=now, error=ABANDONED_NOTE)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.warning("marked %d earlier run(s) of this source abandoned", result.rowcount)


def mark_full(session: Session, run_id: int) -> None:
    """This run reads its source whole: its history says so."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(mode=FULL)
        .execution_options(synchronize_session=False)
    )


def last_full_pass(session: Session, source_id: int) -> datetime | None:
    """When the source's last successful full pass began; if it never had one, when its
    first run began (its first read was whole, or the history is older than run modes)."""
    runs = select(SyncRun.started_at).where(SyncRun.source_id == source_id)
    full = runs.where(SyncRun.mode == FULL, SyncRun.status == SUCCEEDED)
    latest = session.scalar(full.order_by(SyncRun.started_at.desc()).limit(1))
    return latest or session.scalar(runs.order_by(SyncRun.started_at).limit(1))


def record_counts(session: Session, run_id: int, stats: BatchStats) -> None:
    """The run's counts so far, in the transaction of the batch they include."""
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(asdict(stats))
        .execution_options(synchronize_session=False)
    )


def finish(
    session: Session,
    started: Started,
    holder: str,
    outcome: tuple[str, str | None],
    stats: BatchStats,
    now: datetime,
    warnings: Sequence[str] = (),
) -> None:
    """Close the run with its status, error and warnings, and give the lock back."""
    status, error = outcome
    session.execute(
        update(SyncRun)
        .where(SyncRun.id == started.run_id)
        .values(
            finished_at=now,
            status=status,
            error=error,
            warnings=[plain(w) for w in warnings],
            **asdict(stats),
        )
        .execution_options(synchronize_session=False)
    )
    lock.release(session, started.source_id, holder)


def note_unmatched(session: Session, run_ids: Iterable[int]) -> None:
    """Each run's `unmatched`: completions of its source not matched to a roster person now."""
    runs = dict(
        session.execute(
            select(SyncRun.id, SyncRun.source_id).where(SyncRun.id.in_(list(run_ids)))
        ).all()
    )
    if not runs:
        return
    counts = _unlinked_by_source(session, set(runs.values()))
    for run_id, source_id in runs.items():
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(unmatched=counts.get(source_id, 0))
            .execution_options(synchronize_session=False)
        )


def _unlinked_by_source(session: Session, sources: set[int]) -> dict[int, int]:
    """How many completions of each of these sources no person is linked to. When one source
    holds every completion, they are all counted on an index, none of the rows read (a
    count by source reads each of them)."""
    holding = set(
        session.scalars(select(Source.id).where(exists().where(Completion.source_id == Source.id)))
    )
    if len(holding) == 1:
        unlinked = select(func.count()).where(Completion.person_id.is_(None))
        return {holding.pop(): session.scalar(unlinked) or 0}
    counted = (
        select(Completion.source_id, func.count())
        .where(Completion.person_id.is_(None), Completion.source_id.in_(sources))
        .group_by(Completion.source_id)
    )
    return {source_id: count for source_id, count in session.execute(counted)}
