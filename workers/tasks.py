"""The tasks workers run, each the same code `onemind serve` runs in-process, and idempotent.

- sync one source (under its database lock; a sync skipped because the lock is held is retried);
- recompute coverage (serialised across processes by the recomputation itself);
- issue or revoke the credentials of a range of people (their rows locked, only what is missing
  is issued), and the fan-out of every person into such ranges;
- render and send one agency's report, or the hub summary, once per period (a claimed row);
- push pending credentials to the sources that take them (pushes are idempotent PUTs).

A passing failure (`TransientError`, a lost database connection) is retried with exponential
backoff and jitter, at most `[workers] max_retries` times.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from onemind.certificates.issuer import reconcile_people
from onemind.certificates.outbox import pushing_sources
from onemind.config.model import Settings, WorkersConfig
from onemind.errors import TransientError
from onemind.pipeline.recompute import deliver_pushes, recompute
from onemind.store.db import open_engine, transaction
from onemind.store.models import Person
from onemind.sync.scheduler import Service, outcome, summary

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)

SYNC = "onemind.sync"
RECOMPUTE = "onemind.recompute"
CREDENTIALS = "onemind.credentials"
CREDENTIALS_RANGE = "onemind.credentials.range"
REPORT = "onemind.report"
HUB = "onemind.hub"
PUSH = "onemind.push"


class Again(TransientError):
    """Not done yet for a reason that passes (a lock or claim held, a failed attempt)."""


class _Process:
    """This worker process's settings and service; a forked child makes its own engine."""

    settings: Settings | None = None
    service: Service | None = None
    pid: int = 0


_PROCESS = _Process()


def service() -> Service:
    if _PROCESS.settings is None:
        raise RuntimeError("no settings: start workers with 'onemind worker'")
    if _PROCESS.service is None or _PROCESS.pid != os.getpid():
        engine = open_engine(_PROCESS.settings.store.url)
        _PROCESS.service = Service(_PROCESS.settings, engine, lambda: datetime.now(UTC))
        _PROCESS.pid = os.getpid()
    return _PROCESS.service


def sync_source(task: Task, source: str) -> str:
    outcome_ = service().sync(source)
    held = [r.skipped for r in outcome_.results if r.skipped]
    if held:
        raise Again(f"sync of {source} not run: {held[0]}")
    return summary(outcome_)


def recompute_all(task: Task, as_of: str | None = None, agencies: list[str] | None = None) -> str:
    s = service()
    with transaction(s.sessions) as session:
        done = recompute(session, s.settings, s.now(), _day(s, as_of), agencies)
    pushed = deliver_pushes(s.sessions, s.settings, s.now)
    return f"{len(done.reports)} agencies, {len(done.changes)} status change(s), {pushed} pushed"


def credentials(task: Task, as_of: str | None = None) -> str:
    """Fan out: one range task per `issue_batch` people, in id order."""
    s = service()
    size = _workers_of(s.settings).issue_batch
    with s.sessions() as session:
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
    ranges = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    for first, last in ranges:
        task.app.send_task(CREDENTIALS_RANGE, args=[first, last, as_of])
    return f"{len(ranges)} range(s) of up to {size} people enqueued"


def credentials_range(task: Task, first: int, last: int, as_of: str | None = None) -> str:
    """The credentials of people `first`..`last`: their rows locked, only what is missing."""
    s = service()
    config = s.settings.certificates
    if config is None:
        return "no [certificates] section: nothing issued"
    with transaction(s.sessions) as session:
        people = list(
            session.scalars(
                select(Person.id).where(Person.id.between(first, last)).with_for_update()
            )
        )
        pushing = pushing_sources(s.settings)
        changes = reconcile_people(session, config, s.now(), _day(s, as_of), people, pushing)
    if pushing and (changes.issued or changes.revoked):
        task.app.send_task(PUSH)
    return f"{len(changes.issued)} issued, {len(changes.revoked)} revoked"


def push(task: Task) -> str:
    s = service()
    return f"{deliver_pushes(s.sessions, s.settings, s.now)} push(es) delivered"


def send_report(task: Task, agency: str, period: str) -> str:
    delivery = service().report(agency, period)
    if delivery is not None and delivery.retry:
        raise Again(f"report of {agency} for {period}: {outcome(delivery)}")
    return outcome(delivery)


def send_hub(task: Task, period: str) -> str:
    delivery = service().hub(period)
    if delivery is not None and delivery.retry:
        raise Again(f"hub summary for {period}: {outcome(delivery)}")
    return outcome(delivery)


TASKS: dict[str, Callable[..., str]] = {
    SYNC: sync_source,
    RECOMPUTE: recompute_all,
    CREDENTIALS: credentials,
    CREDENTIALS_RANGE: credentials_range,
    REPORT: send_report,
    HUB: send_hub,
    PUSH: push,
}


def install(app: Celery, settings: Settings) -> None:
    """Register every task on the app, with this process's settings behind them."""
    config = _workers_of(settings)
    _PROCESS.settings = settings
    options: dict[str, Any] = {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": (TransientError, OperationalError),
        "retry_backoff": config.retry_backoff_seconds,
        "retry_backoff_max": 3600,
        "retry_jitter": True,
        "max_retries": config.max_retries,
    }
    for name, function in TASKS.items():
        app.task(name=name, **options)(function)


def _day(s: Service, as_of: str | None) -> date:
    return s.today() if as_of is None else date.fromisoformat(as_of)


def _workers_of(settings: Settings) -> WorkersConfig:
    if settings.workers is None:
        raise RuntimeError("no [workers] section in the configuration")
    return settings.workers
