"""`onemind serve`'s scheduling: crontab schedules, the persistent job store, the nightly run."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select
from test_sync import COMPLETIONS, ROSTER, make_settings

from onemind.domain.cron import crontab_trigger, weekday_names
from onemind.errors import ConfigurationError
from onemind.store.models import SyncRun
from onemind.sync.scheduler import Service, plan, register

CHICAGO = ZoneInfo("America/Chicago")
SCHEDULER = '[scheduler]\ntimezone = "America/Chicago"\nmisfire_grace_seconds = 21600\n'


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-7", "sun,fri,sat"),
        ("0-7", "*"),
        ("1,3,5", "mon,wed,fri"),
    ],
)
def test_crontab_weekdays_become_apscheduler_names(field: str, names: str) -> None:
    assert weekday_names(field) == names


@pytest.mark.parametrize("expr", ["0 2 * *", "0 25 * * *", "0 2 * * 8", "0 2 * * 5-1", "x 2 * * *"])
def test_bad_crontab_is_refused(expr: str) -> None:
    with pytest.raises(ValueError):
        crontab_trigger(expr, CHICAGO)


@pytest.mark.parametrize(
    ("expr", "after", "fires"),
    [
        ("0 2 * * *", datetime(2026, 11, 26, 1, 59, tzinfo=CHICAGO), datetime(2026, 11, 26, 2, 0)),
        ("0 2 * * *", datetime(2026, 11, 26, 2, 1, tzinfo=CHICAGO), datetime(2026, 11, 27, 2, 0)),
        ("0 6 * * 1", datetime(2026, 11, 26, 12, 0, tzinfo=CHICAGO), datetime(2026, 11, 30, 6, 0)),
        (
            "30 2 * * 0",
            datetime(2026, 11, 26, 12, 0, tzinfo=CHICAGO),
            datetime(2026, 11, 29, 2, 30),
        ),
        # 2:00 does not exist the night clocks spring forward: the run comes at 3:00
        ("0 2 * * *", datetime(2026, 3, 8, 1, 0, tzinfo=CHICAGO), datetime(2026, 3, 8, 3, 0)),
    ],
)
def test_schedules_fire_in_the_configured_zone_as_crontab_means(
    expr: str, after: datetime, fires: datetime
) -> None:
    fired = crontab_trigger(expr, CHICAGO).get_next_fire_time(None, after)
    assert fired.astimezone(UTC) == fires.replace(tzinfo=CHICAGO).astimezone(UTC)


def test_report_schedules_need_smtp(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "")
    agency = settings.agencies[0].model_copy(update={"report_schedule": "0 6 * * 1"})
    settings = settings.model_copy(update={"agencies": [agency]})
    with pytest.raises(ConfigurationError, match="no \\[smtp\\] section"):
        plan(settings, CHICAGO)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            '[smtp]\nhost = "h"\nsender = "s@h"\nusername = "u"\n',
            "smtp: give both username and password",
        ),
        (
            '[reports]\nhub_schedule = "0 25 * * *"\n',
            "reports.hub_schedule: '0 25 * * *' is not a 5-field",
        ),
        (
            '[scheduler]\ntimezone = "Mars/Olympus"\n',
            "scheduler.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "[scheduler]\nlock_ttl_seconds = 1\n",
            "scheduler.lock_ttl_seconds: Input should be greater",
        ),
    ],
)
def test_scheduling_settings_are_checked_when_loaded(
    tmp_path: Path, extra: str, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)):
        make_settings(tmp_path, extra)


class Clock:
    """The injected clock: the service, the runner and APScheduler all read this time."""

    def __init__(self, start: datetime) -> None:
        self.time = start

    def __call__(self) -> datetime:
        return self.time


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock that APScheduler 3 reads too: it asks `datetime.now` only in these two modules
    (its own test suite freezes time the same way)."""
    injected = Clock(datetime(2026, 11, 26, 1, 59, 59, tzinfo=CHICAGO))

    class ClockedDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return injected().astimezone(tz)  # type: ignore[arg-type]

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", ClockedDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", ClockedDatetime)
    return injected


@pytest.fixture
def service(tmp_path: Path, engine: Engine, clock: Clock) -> Iterator[Service]:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    service = Service(make_settings(tmp_path, SCHEDULER), engine, clock)
    register(service)
    yield service
    register(None)


def runs_of(engine: Engine) -> list[tuple[int, datetime, str]]:
    with engine.connect() as connection:
        query = select(SyncRun.source_id, SyncRun.started_at, SyncRun.status).order_by(SyncRun.id)
        return [tuple(row) for row in connection.execute(query)]


class JobEvents:
    """The scheduler's reports of jobs run, failed or missed, to wait on."""

    def __init__(self, scheduler: BackgroundScheduler) -> None:
        self.seen: list[tuple[str, int]] = []
        self.changed = threading.Condition()
        scheduler.add_listener(
            self._record, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
        )

    def _record(self, event: JobExecutionEvent) -> None:
        with self.changed:
            self.seen.append((event.job_id, event.code))
            self.changed.notify_all()

    def wait(self, count: int, seconds: float = 30) -> list[int]:
        """The codes of the first `count` events, once that many have come."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.seen) >= count, seconds), self.seen
            return sorted(code for _, code in self.seen[:count])


def next_runs(scheduler: BackgroundScheduler) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


def test_the_nightly_job_fires_when_the_injected_clock_reaches_two(
    service: Service, engine: Engine, clock: Clock
) -> None:
    scheduler = service.scheduler()
    events = JobEvents(scheduler)
    scheduler.start(paused=True)
    try:
        service.install(scheduler)
        tonight = datetime(2026, 11, 26, 2, 0, tzinfo=CHICAGO)
        assert next_runs(scheduler) == {"sync:roster": tonight, "sync:completions": tonight}
        scheduler.resume()
        scheduler.wakeup()
        time.sleep(0.5)
        assert runs_of(engine) == [] and events.seen == []

        clock.time = tonight
        scheduler.wakeup()
        assert events.wait(2) == [EVENT_JOB_EXECUTED] * 2
        assert sorted(status for _, _, status in runs_of(engine)) == ["succeeded", "succeeded"]
        assert {started for _, started, _ in runs_of(engine)} == {tonight.astimezone(UTC)}
        tomorrow = tonight + timedelta(days=1)
        assert next_runs(scheduler) == {"sync:roster": tomorrow, "sync:completions": tomorrow}

        clock.time = datetime(2026, 11, 29, 2, 0, 30, tzinfo=CHICAGO)  # three nights missed
        scheduler.wakeup()
        assert events.wait(4) == [EVENT_JOB_EXECUTED] * 4
        assert len(runs_of(engine)) == 4  # coalesced: one run each, not three

        clock.time = datetime(2026, 12, 5, 9, 0, tzinfo=CHICAGO)  # 7 h late, grace is 6 h
        scheduler.wakeup()
        assert events.wait(6) == [EVENT_JOB_EXECUTED] * 4 + [EVENT_JOB_MISSED] * 2
        assert len(runs_of(engine)) == 4
        assert next_runs(scheduler)["sync:roster"] == datetime(2026, 12, 6, 2, 0, tzinfo=CHICAGO)
    finally:
        scheduler.shutdown()


def test_jobs_persist_and_follow_the_configuration(service: Service, clock: Clock) -> None:
    first = service.scheduler()
    first.start(paused=True)
    service.install(first)
    first.shutdown()

    clock.time += timedelta(days=3)  # a restart after missing nights keeps the missed run due
    again = service.scheduler()
    again.start(paused=True)
    try:
        assert next_runs(again)["sync:roster"] == datetime(2026, 11, 26, 2, 0, tzinfo=CHICAGO)
        service.install(again)
        assert next_runs(again)["sync:roster"] == datetime(2026, 11, 26, 2, 0, tzinfo=CHICAGO)

        roster = service.settings.sources[0].model_copy(update={"schedule": "30 3 * * 1-5"})
        service.settings = service.settings.model_copy(update={"sources": [roster]})
        service.install(again)
        assert next_runs(again) == {"sync:roster": datetime(2026, 11, 30, 3, 30, tzinfo=CHICAGO)}
    finally:
        again.shutdown()


def test_a_failed_scheduled_sync_is_logged_once_as_an_error(
    service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "completions.csv").unlink()
    with caplog.at_level(logging.INFO):
        outcome = service.sync("completions")
    assert not outcome.ok
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"scheduled sync of completions failed: source 'completions': file "
        f"{tmp_path / 'completions.csv'} does not exist"
    ]
