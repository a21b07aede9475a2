"""One sync of a source at a time, across processes and machines: a lock row per source.

A holder takes the row when it is absent or expired (one INSERT … ON CONFLICT DO UPDATE … WHERE
expired, atomic on SQLite and PostgreSQL), pushes `expires_at` forward each time it commits a
batch, and deletes the row when done. A holder killed with SIGKILL leaves its row behind: it
expires after the time to live, or at once when the holder ran on this host and its process is
gone.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from onemind.store.models import SyncLock
from onemind.store.upsert import insert_for


def holder_id() -> str:
    """Who takes a lock: host, process and a random part (two runners in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Held:
    """The lock is someone else's."""

    holder: str
    run_id: int | None
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        run = f" (run {self.run_id})" if self.run_id else ""
        return (
            f"locked by {self.holder}{run} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"expires {self.expires_at:%Y-%m-%d %H:%M:%S} UTC unless renewed"
        )


def acquire(
    session: Session, source_id: int, holder: str, now: datetime, ttl: timedelta
) -> Held | None:
    """Take the source's lock in the caller's transaction: None when taken, else who holds it."""
    values = {
        "source_id": source_id,
        "holder": holder,
        "run_id": None,
        "acquired_at": now,
        "heartbeat_at": now,
        "expires_at": now + ttl,
    }
    statement = insert_for(session, SyncLock.__table__).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["source_id"],
        set_={k: statement.excluded[k] for k in values if k != "source_id"},
        where=SyncLock.__table__.c.expires_at < now,
    )
    session.execute(statement)
    current = session.get_one(SyncLock, source_id, populate_existing=True)
    if current.holder == holder:
        return None
    if gone_here(current.holder) and _take_over(session, current, values):
        return None
    return Held(current.holder, current.run_id, current.acquired_at, current.expires_at)


def _take_over(session: Session, dead: SyncLock, values: dict[str, object]) -> bool:
    """Replace a dead holder's row, unless someone else replaced it first."""
    result = session.execute(
        update(SyncLock)
        .where(SyncLock.source_id == dead.source_id, SyncLock.holder == dead.holder)
        .values({k: v for k, v in values.items() if k != "source_id"})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def gone_here(holder: str) -> bool:
    """Whether the holder ran on this host in a process that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def attach_run(session: Session, source_id: int, holder: str, run_id: int) -> None:
    """Name the run the holder is performing, so others can say which run holds the lock."""
    session.execute(
        update(SyncLock)
        .where(SyncLock.source_id == source_id, SyncLock.holder == holder)
        .values(run_id=run_id)
        .execution_options(synchronize_session=False)
    )


def renew(session: Session, source_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Push the expiry forward; False when the lock is no longer the holder's."""
    result = session.execute(
        update(SyncLock)
        .where(SyncLock.source_id == source_id, SyncLock.holder == holder)
        .values(heartbeat_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release(session: Session, source_id: int, holder: str) -> None:
    session.execute(
        delete(SyncLock)
        .where(SyncLock.source_id == source_id, SyncLock.holder == holder)
        .execution_options(synchronize_session=False)
    )


def current_locks(session: Session) -> list[SyncLock]:
    """Every lock row, held or expired, by source."""
    return list(session.scalars(select(SyncLock).order_by(SyncLock.source_id)))
