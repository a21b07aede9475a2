"""The per-source sync lock: one holder at a time, across threads, processes and backends."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import files, make_settings  # noqa: F401  (fixture)

from onemind.config.model import SourceConfig
from onemind.connectors.base import CheckResult, Connector
from onemind.connectors.registry import build_connector
from onemind.domain.records import Checkpoint, CompletionRecord, PullItem
from onemind.store.db import transaction
from onemind.store.models import Completion, Source, SyncLock, SyncRun
from onemind.sync import lock, runs
from onemind.sync.runner import SyncRunner

TTL = timedelta(minutes=15)
AS_OF = date(2026, 11, 26)


@pytest.fixture
def source_id(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        source = Source(name="lrs", kind="xapi")
        session.add(source)
        session.flush()
        return source.id


def take(sessions: sessionmaker[Session], source: int, holder: str, at: datetime) -> Any:
    with transaction(sessions) as session:
        return lock.acquire(session, source, holder, at, TTL)


def test_a_held_lock_refuses_others_until_released(
    sessions: sessionmaker[Session], source_id: int, now: datetime
) -> None:
    assert take(sessions, source_id, "a", now) is None
    held = take(sessions, source_id, "b", now + timedelta(minutes=1))
    assert held is not None and held.holder == "a"
    assert "locked by a" in held.describe()
    with transaction(sessions) as session:
        lock.release(session, source_id, "a")
    assert take(sessions, source_id, "b", now + timedelta(minutes=2)) is None


def test_an_expired_lock_is_taken_over_and_its_holder_can_no_longer_renew(
    sessions: sessionmaker[Session], source_id: int, now: datetime
) -> None:
    assert take(sessions, source_id, "a", now) is None
    with transaction(sessions) as session:
        assert lock.renew(session, source_id, "a", now + timedelta(minutes=10), TTL)
    assert take(sessions, source_id, "b", now + timedelta(minutes=20)) is not None
    assert take(sessions, source_id, "b", now + timedelta(minutes=26)) is None
    with transaction(sessions) as session:
        assert not lock.renew(session, source_id, "a", now + timedelta(minutes=27), TTL)
        lock.release(session, source_id, "a")
        assert session.get_one(SyncLock, source_id).holder == "b"


def test_a_dead_holder_on_this_host_is_replaced_at_once_and_its_run_abandoned(
    sessions: sessionmaker[Session], source_id: int, now: datetime
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = f"{socket.gethostname()}:{finished.stdout.strip()}:0000"
    elsewhere = f"another-host:{finished.stdout.strip()}:0000"
    with transaction(sessions) as session:
        run = SyncRun(source_id=source_id, started_at=now)
        session.add(run)
        session.flush()
        session.add(
            SyncLock(
                source_id=source_id,
                holder=elsewhere,
                run_id=run.id,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=now + TTL,
            )
        )
    assert (
        take(sessions, source_id, "b", now) is not None
    )  # another host's process: wait for expiry
    with transaction(sessions) as session:
        session.get_one(SyncLock, source_id).holder = dead
    with transaction(sessions) as session:
        started = runs.start(session, "lrs", "b", now + timedelta(minutes=1), TTL)
    assert started.held is None
    with sessions() as session:
        statuses = dict(session.execute(select(SyncRun.id, SyncRun.status)).all())
        assert statuses == {run.id: "abandoned", started.run_id: "running"}
        assert session.get_one(SyncLock, source_id).run_id == started.run_id


def test_of_many_simultaneous_contenders_exactly_one_wins(
    sessions: sessionmaker[Session], source_id: int, now: datetime
) -> None:
    contenders = 6
    barrier = threading.Barrier(contenders)
    outcomes: list[Any] = []

    def contend(name: str) -> None:
        barrier.wait()
        outcomes.append(take(sessions, source_id, name, now))

    threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == contenders
    assert sum(o is None for o in outcomes) == 1
    with sessions() as session:
        winner = session.get_one(SyncLock, source_id).holder
    assert {o.holder for o in outcomes if o is not None} == {winner}


class HeldOpen(Connector):
    """A completions source that, mid-pull, waits until the test lets it finish."""

    def __init__(self, inside: threading.Event, release: threading.Event) -> None:
        self.name = "completions"
        self.inside, self.release = inside, release

    def check(self) -> CheckResult:
        return CheckResult(())

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        for i in range(3):
            yield CompletionRecord(
                f"x{i}",
                f"x:{i}",
                "CIT-40",
                "CIT Basic 40-Hour",
                date(2025, 1, 1),
                employee_id=str(i + 1),
            )
        self.inside.set()
        assert self.release.wait(30)
        yield Checkpoint({"version": 1, "done": True})


def test_two_concurrent_syncs_of_one_source_never_both_run(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    now: datetime,
) -> None:
    settings = make_settings(files)
    inside, release = threading.Event(), threading.Event()

    def factory(config: SourceConfig) -> Connector:
        return (
            HeldOpen(inside, release) if config.name == "completions" else build_connector(config)
        )

    first = SyncRunner(settings, sessions, lambda: now, connector_factory=factory)
    outcome: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(first=first.run(["completions"], as_of=AS_OF))
    )
    thread.start()
    assert inside.wait(30)
    second = SyncRunner(settings, sessions, lambda: now).run(["completions"], as_of=AS_OF)
    release.set()
    thread.join(60)
    [skipped] = second.results
    [ran] = outcome["first"].results
    assert second.ok and skipped.skipped is not None and skipped.stats.fetched == 0
    assert f"locked by {first.holder} (run {ran.run_id})" in skipped.skipped
    assert ran.ok and ran.skipped is None and ran.stats.new == 3
    with sessions() as session:
        rows = session.execute(select(SyncRun.status, SyncRun.error).order_by(SyncRun.id)).all()
        assert [status for status, _ in rows] == ["succeeded", "skipped"]
        assert "locked by" in (rows[1].error or "")
        assert session.scalar(select(func.count()).select_from(Completion)) == 3
        assert session.scalar(select(func.count()).select_from(SyncLock)) == 0
