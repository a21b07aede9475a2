"""`onemind serve`: APScheduler 3 fires each source's sync and the reports on their cron schedules.

Jobs live in the store's `apscheduler_jobs` table, so a restart keeps every job's next run time
and a night missed while the service was down still runs once (coalesced) within the misfire
grace time. A stored job is only a function name and its arguments; what it needs at run time
(settings, store, clock, stop signal) comes from the `Service` that `serve` registers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import obj_to_ref
from sqlalchemy import Engine

from onemind.config.model import Settings
from onemind.domain.cron import crontab_trigger
from onemind.errors import ConfigurationError, OneMindError
from onemind.reports.delivery import Delivery, Once, deliver_agency, deliver_hub, status_notices
from onemind.store.db import session_factory, transaction
from onemind.store.history import source_health
from onemind.store.status import mark_told
from onemind.sync import lock
from onemind.sync.logcontext import log_context
from onemind.sync.runner import SyncOutcome, SyncRunner

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
HUB_JOB = "report:hub"


@dataclass(frozen=True)
class JobSpec:
    """One job the configuration asks for."""

    id: str
    func: Callable[..., None]
    args: tuple[str, ...]
    trigger: CronTrigger


class Dispatch(Protocol):
    """Where scheduled jobs go when a worker pool runs them (`[workers]`): onto its queue."""

    def sync(self, source: str) -> None: ...

    def report(self, agency: str, period: str) -> None: ...

    def hub(self, period: str) -> None: ...


class Service:
    """What scheduled jobs run against: settings, the store, the clock and the stop signal.

    With a `dispatch`, the scheduled jobs are enqueued for workers instead of run here.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        now: Callable[[], datetime],
        stop: threading.Event | None = None,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = session_factory(engine)
        self.now = now
        self.stop = stop or threading.Event()
        self.zone = settings.schedule_zone
        self.dispatch = dispatch
        self.holder = lock.holder_id()
        self._notify = threading.Lock()

    def today(self) -> date:
        return self.now().astimezone(self.zone).date()

    def sync(self, source: str) -> SyncOutcome:
        """Sync one source, flag it if it keeps failing, and report agencies' status changes."""
        runner = SyncRunner(self.settings, self.sessions, self.now, stop=self.stop)
        outcome = runner.run([source], as_of=self.today())
        for result in outcome.results:
            if result.skipped:
                log.warning("scheduled sync of %s skipped: %s", source, result.skipped)
            if result.error:
                log.error("scheduled sync of %s failed: %s", source, result.error)
        self._flag_failing(source)
        if not outcome.stopped:
            self._notify_changes()
        return outcome

    def _flag_failing(self, source: str) -> None:
        threshold = self.settings.reports.flag_failing_after
        with self.sessions() as session:
            for health in source_health(session, self.zone, [source]):
                if health.flagged(threshold):
                    log.error(
                        "source %s has failed %d nights in a row; last error: %s",
                        health.source,
                        health.failing_nights,
                        health.last_error,
                    )

    def _notify_changes(self) -> None:
        """Send the report of every agency whose status changed since it was last told."""
        if self.settings.smtp is None:
            return
        with self._notify:
            with self.sessions() as session:
                notices = status_notices(session)
            for agency, notice in notices.items():
                told = notice.message is None
                if not told:
                    period = f"status-change:{max(notice.change_ids)}"
                    delivery = self._deliver(agency, "status-change", period, notice.message)
                    told = delivery is not None and delivery.sent
                if told:
                    with transaction(self.sessions) as session:
                        mark_told(session, notice.change_ids, self.now())

    def report(self, agency: str, period: str | None = None) -> Delivery | None:
        """The agency's scheduled report, once for its `period` (None: on demand, unguarded)."""
        return self._deliver(agency, "schedule", period)

    def hub(self, period: str | None = None) -> Delivery | None:
        """The hub summary for academy staff, once for its `period`."""
        once = None if period is None else self._once(period)
        try:
            return deliver_hub(
                self.settings, self.sessions, "schedule", self.now(), self.today(), once
            )
        except OneMindError as exc:
            log.error("hub summary not sent: %s", exc)
            return None

    def period(self, schedule: str | None) -> str:
        """The scheduled slot a job fired for: the schedule's latest time at or before now,
        so two schedulers (or a late, coalesced run) name the same period."""
        now = self.now()
        slot = now.replace(second=0, microsecond=0)
        if schedule is None:
            return slot.astimezone(UTC).isoformat()
        trigger = crontab_trigger(schedule, self.zone)
        fire = trigger.get_next_fire_time(None, now - self._grace())
        while fire is not None and fire <= now:
            slot = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return slot.astimezone(UTC).isoformat()

    def _grace(self) -> timedelta:
        return timedelta(seconds=self.settings.scheduler.misfire_grace_seconds)

    def _once(self, period: str) -> Once:
        ttl = timedelta(seconds=self.settings.scheduler.report_claim_ttl_seconds)
        return Once(period, self.holder, ttl, lock.gone_here)

    def _deliver(
        self, agency: str, reason: str, period: str | None, changed: str | None = None
    ) -> Delivery | None:
        once = None if period is None else self._once(period)
        try:
            delivery = deliver_agency(
                self.settings,
                self.sessions,
                agency,
                reason,
                self.now(),
                self.today(),
                changed,
                once,
            )
        except OneMindError as exc:
            log.error("report of %s not sent: %s", agency, exc)
            return None
        log.info("report of %s (%s): %s", agency, reason, outcome(delivery))
        return delivery

    def scheduler(self) -> BackgroundScheduler:
        """A scheduler on the store's job table, one run per job at a time, missed runs merged."""
        grace = self.settings.scheduler.misfire_grace_seconds
        return BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(self.settings.scheduler.workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
            timezone=self.zone,
        )

    def install(self, scheduler: BackgroundScheduler) -> list[Job]:
        """Make the stored jobs match the configuration; an unchanged job keeps its next run."""
        specs = plan(self.settings, self.zone)
        grace = self.settings.scheduler.misfire_grace_seconds
        stored = {job.id: job for job in scheduler.get_jobs()}
        for spec in specs:
            job = stored.get(spec.id)
            if job is not None and _same(job, spec):
                scheduler.modify_job(
                    spec.id, coalesce=True, max_instances=1, misfire_grace_time=grace
                )
                continue
            scheduler.add_job(
                spec.func,
                spec.trigger,
                args=spec.args,
                id=spec.id,
                name=spec.id,
                replace_existing=True,
                next_run_time=spec.trigger.get_next_fire_time(None, self.now()),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=grace,
            )
        for stale in set(stored) - {s.id for s in specs}:
            scheduler.remove_job(stale)
        return scheduler.get_jobs()

    def serve(
        self, run_now: bool = False, ready: Callable[[list[Job]], None] | None = None
    ) -> None:
        """Run the schedule until `stop` is set; a sync in progress ends at its next batch."""
        scheduler = self.scheduler()
        register(self)
        scheduler.start(paused=True)
        try:
            jobs = self.install(scheduler)
            if run_now:
                for job in jobs:
                    if job.id.startswith("sync:"):
                        job.modify(next_run_time=self.now())
            scheduler.resume()
            if ready is not None:
                ready(scheduler.get_jobs())
            while not self.stop.wait(1):
                pass
            log.info("stopping: waiting for running jobs to finish their current batch")
        finally:
            scheduler.shutdown(wait=True)
            register(None)


def plan(settings: Settings, tz: ZoneInfo) -> list[JobSpec]:
    """The jobs the configuration asks for: every source, and the reports that have a schedule.

    Raises:
        ConfigurationError: a report schedule without an [smtp] section to send it.
    """
    specs = [
        JobSpec(f"sync:{s.name}", sync_job, (s.name,), crontab_trigger(s.schedule, tz))
        for s in settings.sources
    ]
    specs += [
        JobSpec(f"report:{a.id}", report_job, (a.id,), crontab_trigger(a.report_schedule, tz))
        for a in settings.agencies
        if a.report_schedule
    ]
    hub = settings.reports.hub_schedule
    if hub and settings.reports.hub_to:
        specs.append(JobSpec(HUB_JOB, hub_job, (), crontab_trigger(hub, tz)))
    if settings.smtp is None and any(s.id.startswith("report:") for s in specs):
        raise ConfigurationError("report schedules are set but there is no [smtp] section")
    return specs


def _same(job: Job, spec: JobSpec) -> bool:
    """Whether a stored job already runs the same function, arguments and schedule."""
    return (
        job.func_ref == obj_to_ref(spec.func)
        and tuple(job.args) == spec.args
        and repr(job.trigger) == repr(spec.trigger)
    )


_SERVICE: Service | None = None


def register(service: Service | None) -> None:
    """Make the service the one that stored jobs run against (None: no longer serving)."""
    global _SERVICE
    _SERVICE = service


def _current() -> Service:
    if _SERVICE is None:
        raise RuntimeError("no onemind service is running in this process")
    return _SERVICE


def sync_job(source: str) -> None:
    """Scheduled: sync one source (or put it on the workers' queue)."""
    service = _current()
    dispatch = service.dispatch
    if dispatch is not None:
        _run(f"sync:{source}", lambda: _enqueue(lambda: dispatch.sync(source)))
        return
    _run(f"sync:{source}", lambda: summary(service.sync(source)))


def report_job(agency: str) -> None:
    """Scheduled: send one agency's report, once for this period."""
    service = _current()
    schedule = next((a.report_schedule for a in service.settings.agencies if a.id == agency), None)
    period = service.period(schedule)
    dispatch = service.dispatch
    if dispatch is not None:
        _run(f"report:{agency}", lambda: _enqueue(lambda: dispatch.report(agency, period)))
        return
    _run(f"report:{agency}", lambda: outcome(service.report(agency, period)))


def hub_job() -> None:
    """Scheduled: send the hub summary to academy staff, once for this period."""
    service = _current()
    period = service.period(service.settings.reports.hub_schedule)
    dispatch = service.dispatch
    if dispatch is not None:
        _run(HUB_JOB, lambda: _enqueue(lambda: dispatch.hub(period)))
        return
    _run(HUB_JOB, lambda: outcome(service.hub(period)))


def _enqueue(put: Callable[[], None]) -> str:
    put()
    return "enqueued"


def outcome(delivery: Delivery | None) -> str:
    """A delivery on one line: sent, already sent by another, in progress elsewhere, failed."""
    if delivery is None:
        return "not sent"
    if delivery.error:
        return f"not sent ({delivery.claim or 'failed'}): {delivery.error}"
    if delivery.busy_until is not None:
        return f"being sent by another process (claim held until {delivery.busy_until:%H:%M:%S})"
    if delivery.archive_id is None and delivery.claim is not None:
        return f"already {delivery.claim} for this period"
    return f"sent to {', '.join(delivery.recipients)}"


def _run(job: str, work: Callable[[], str]) -> None:
    """Run a scheduled job with its id on every log line: its start, result and duration."""
    started = time.monotonic()
    with log_context(job=job):
        log.info("job started")
        try:
            result = work()
        except Exception:
            log.exception("job failed after %.1f s", time.monotonic() - started)
            raise
        log.info("job %s in %.1f s", result, time.monotonic() - started)


def summary(outcome: SyncOutcome) -> str:
    """A sync's result on one line: each source's status and counts, then what it changed."""
    sources = "; ".join(
        f"{r.source} {r.status} (fetched {r.stats.fetched}, new {r.stats.new}, "
        f"updated {r.stats.updated}, quarantined {r.stats.quarantined})"
        for r in outcome.results
    )
    return (
        f"{sources or 'nothing synced'}; {outcome.unmatched} unmatched, "
        f"{len(outcome.changes)} status change(s), "
        f"{len(outcome.certificates.issued)} credential(s) issued, "
        f"{len(outcome.certificates.revoked)} revoked"
    )
