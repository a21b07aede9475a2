"""Real parts: Redis (and RabbitMQ once), `onemind worker` processes, PostgreSQL, aiosmtpd.

A nightly run on two workers leaves the store a single process leaves; a worker killed with
SIGKILL in the middle of a report loses and doubles nothing; two schedulers enqueueing the same
period send every report once.
"""

from __future__ import annotations

import threading
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from workers_world import (
    AGENCIES,
    ENVIRON,
    RABBITMQ,
    REDIS,
    SCHEDULE,
    Mailbox,
    config_text,
    forget_queue,
    pg_database,
    require_broker,
    scalar,
    smtp_server,
    until,
    workers,
    workers_section,
    write_world,
)

from onemind.config import parse_settings
from onemind.store import coverage
from onemind.store.db import make_engine, session_factory
from onemind.store.models import Credential, Person, ReportClaim
from onemind.sync.scheduler import Service
from onemind.workers.app import make_app
from onemind.workers.dispatch import CeleryDispatch

RECIPIENTS = 2 * len(AGENCIES)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def store() -> Iterator[str]:
    with pg_database() as url:
        yield url


class Hub:
    """A configuration file for the workers, the same settings in this process, the store."""

    def __init__(self, folder: Path, store: str, port: int, broker: str) -> None:
        self.sources = write_world(folder)
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        text = config_text(folder, store, port, workers_section(broker, self.queue))
        self.path = folder / "onemind.toml"
        self.path.write_text(text)
        self.settings = parse_settings(tomllib.loads(text), self.path, ENVIRON)
        self.engine = make_engine(store)
        self.service = Service(self.settings, self.engine, lambda: datetime.now(UTC))
        assert self.settings.workers is not None
        self.dispatch = CeleryDispatch(make_app(self.settings.workers))

    def period(self) -> str:
        return self.service.period(SCHEDULE)

    def sync_all(self) -> None:
        for source in self.sources:
            self.dispatch.sync(source)
        until(lambda: self.finished_runs() >= len(self.sources), 240, "every source synced")

    def finished_runs(self) -> int:
        return int(
            scalar(self.engine, "SELECT count(*) FROM sync_run WHERE finished_at IS NOT NULL")
        )

    def settled_reports(self) -> int:
        return int(
            scalar(
                self.engine,
                "SELECT count(*) FROM report_claim "
                "WHERE state = 'sent' AND period NOT LIKE 'status-change:%'",
            )
        )


@pytest.fixture
def hub(tmp_path: Path, store: str, mailbox: tuple[Mailbox, int]) -> Iterator[Hub]:
    require_broker(REDIS)
    made = Hub(tmp_path, store, mailbox[1], REDIS)
    yield made
    made.engine.dispose()
    forget_queue(REDIS, made.queue)


def snapshot(engine: Engine, period: str) -> dict[str, Any]:
    """What a nightly run leaves: coverage, who holds which credential, what was reported."""
    with session_factory(engine)() as session:
        reports = coverage.compute(session, datetime.now(UTC).date())
        held = session.execute(
            select(Person.email, Credential.tier, Credential.category_id, Credential.status)
            .join(Person, Person.id == Credential.person_id)
            .order_by(Person.email, Credential.tier)
        ).all()
        claimed = session.execute(
            select(ReportClaim.subject, ReportClaim.state, ReportClaim.delivered)
            .where(ReportClaim.period == period)
            .order_by(ReportClaim.subject)
        ).all()
        people = session.scalar(select(func.count()).select_from(Person))
    return {
        "coverage": [r.to_json() for r in reports],
        "credentials": [tuple(row) for row in held],
        "claims": [tuple(row) for row in claimed],
        "people": people,
    }


def test_a_nightly_run_on_two_workers_leaves_what_one_process_leaves(
    hub: Hub, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    with workers(hub.path, tmp_path, 2):
        hub.sync_all()
        period = hub.period()
        for agency in AGENCIES:
            hub.dispatch.report(agency, period)
        until(lambda: hub.settled_reports() == len(AGENCIES), 240, "every report sent")
    on_workers = snapshot(hub.engine, period)
    assert set(inbox.counts().values()) == {1} and len(inbox.counts()) == RECIPIENTS
    assert inbox.doubled() == []

    with pg_database() as single:
        engine = make_engine(single)
        alone = Service(hub.settings, engine, lambda: datetime.now(UTC))
        for source in hub.sources:
            alone.sync(source)
        for agency in AGENCIES:
            alone.report(agency, period)
        in_one_process = snapshot(engine, period)
        engine.dispose()
    assert on_workers == in_one_process
    assert on_workers["credentials"] and on_workers["people"] == 6 * len(AGENCIES)


def test_a_worker_killed_in_the_middle_of_a_report_loses_and_doubles_nothing(
    hub: Hub, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    with workers(hub.path, tmp_path, 2) as (first, second):
        hub.sync_all()
        inbox.hold = hold = threading.Event()
        hub.dispatch.report(AGENCIES[0], hub.period())
        until(inbox.holding.is_set, 120, "a worker talking to the SMTP server")
        holder = scalar(hub.engine, "SELECT holder FROM report_claim")
        victim = first if f":{first.process.pid}:" in holder else second
        victim.kill()
        hold.set()
        for agency in AGENCIES[1:]:
            hub.dispatch.report(agency, hub.period())
        until(lambda: hub.settled_reports() == len(AGENCIES), 240, "every report sent")
        attempts = scalar(
            hub.engine, f"SELECT attempts FROM report_claim WHERE subject = '{AGENCIES[0]}'"
        )
    assert attempts == 2  # the redelivered task took the dead worker's claim over
    assert set(inbox.counts().values()) == {1} and len(inbox.counts()) == RECIPIENTS
    assert inbox.doubled() == []


def test_two_schedulers_enqueueing_the_same_period_send_every_report_once(
    hub: Hub, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    other = CeleryDispatch(make_app(hub.settings.workers))  # type: ignore[arg-type]
    with workers(hub.path, tmp_path, 2):
        hub.sync_all()
        for agency in AGENCIES:
            hub.dispatch.report(agency, hub.period())
            other.report(agency, hub.period())
        until(lambda: hub.settled_reports() == len(AGENCIES), 240, "every report sent")
        until(lambda: len(inbox.received) >= RECIPIENTS, 30, "the messages")
    assert set(inbox.counts().values()) == {1} and len(inbox.counts()) == RECIPIENTS
    assert inbox.doubled() == []


def test_a_round_trip_on_rabbitmq(tmp_path: Path, store: str, mailbox: tuple[Mailbox, int]) -> None:
    require_broker(RABBITMQ)
    hub = Hub(tmp_path, store, mailbox[1], RABBITMQ)
    try:
        with workers(hub.path, tmp_path, 1):
            hub.sync_all()
            hub.dispatch.report(AGENCIES[0], hub.period())
            until(lambda: hub.settled_reports() == 1, 180, "the report sent")
    finally:
        hub.engine.dispose()
        forget_queue(RABBITMQ, hub.queue)
    assert mailbox[0].counts() == {
        f"chief@{AGENCIES[0]}.example": 1,
        f"training@{AGENCIES[0]}.example": 1,
    }
