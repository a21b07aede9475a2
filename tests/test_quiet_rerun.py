"""A rerun that brings nothing new does no linking, classification or recomputation; a new day,
new records, an open run or a changed configuration still recompute."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS_HEADER, ROSTER, make_settings

from onemind.config import Settings
from onemind.store.models import AgencyStatusChange, CoverageSnapshot
from onemind.sync.runner import SyncOutcome, SyncRunner

DAY = date(2026, 11, 26)
# pledged 2023-11-26 with the default 36 months: due on DAY; Ann's MHFA runs out the day after
COMPLETIONS = (
    COMPLETIONS_HEADER
    + """1,,MHFA-PS,Mental Health First Aid for Public Safety,,8,2024-01-01,2026-11-27
2,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
"""
)
RECOMPUTING = ("classification", "coverage_snapshot", "status_change")


class Clock:
    """A clock that moves on a little at every reading, as a real one does."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    return tmp_path


def configured(files: Path, pledged_on: str = "2023-11-26") -> Settings:
    settings = make_settings(files)
    agency = settings.agencies[0].model_copy(update={"pledged_on": date.fromisoformat(pledged_on)})
    return settings.model_copy(update={"agencies": [agency]})


def sync(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, **kw: Any
) -> SyncOutcome:
    clock.tick(minutes=1)
    return SyncRunner(settings, sessions, clock).run(as_of=clock.now.date(), **kw)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(" ".join(args[2].split()).lower())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def recomputing(seen: list[str]) -> list[str]:
    """The statements of linking, classification and the recomputation: they read the
    classifications, write completions or write figures."""
    return [
        s
        for s in seen
        if any(table in s for table in RECOMPUTING[:1])
        or s.startswith("update completion")
        or any(s.startswith(f"insert into {table}") for table in RECOMPUTING[1:])
    ]


def test_a_rerun_with_nothing_new_does_no_recompute_work(
    files: Path, engine: Engine, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings, clock = configured(files), Clock(datetime.combine(DAY, now.timetz()))
    first = sync(settings, sessions, clock)
    assert first.recomputed and first.unmatched == 0
    with sessions() as session:
        computed = session.scalars(select(CoverageSnapshot.computed_at)).one()

    with statements(engine) as seen:
        again = sync(settings, sessions, clock)

    assert again.ok and not again.recomputed and again.reports == []
    assert [r.stats.new for r in again.results] == [0, 0]
    assert recomputing(seen) == []
    assert again.unmatched == 0
    with sessions() as session:
        assert session.scalars(select(CoverageSnapshot.computed_at)).one() == computed


def test_the_first_sync_of_a_day_records_what_the_date_changed(
    files: Path, engine: Engine, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings, clock = configured(files), Clock(datetime.combine(DAY, now.timetz()))
    first = sync(settings, sessions, clock)
    assert first.reports[0].counts.sworn_trained == 2
    assert not sync(settings, sessions, clock).recomputed

    clock.tick(days=1)
    with statements(engine) as seen:
        next_day = sync(settings, sessions, clock)

    assert next_day.recomputed and recomputing(seen) != []
    [report] = next_day.reports
    assert report.counts.sworn_trained == 1  # Ann's MHFA expired
    assert [(c.before, c.after) for c in next_day.changes] == [(first.reports[0].status, "overdue")]
    with sessions() as session:
        days = session.scalars(select(CoverageSnapshot.as_of).order_by(CoverageSnapshot.as_of))
        assert list(days) == [DAY, DAY + timedelta(days=1)]
        assert session.scalars(select(AgencyStatusChange.after)).one() == "overdue"
    assert not sync(settings, sessions, clock).recomputed


def test_new_records_recompute(files: Path, sessions: sessionmaker[Session], now: datetime) -> None:
    settings, clock = configured(files), Clock(datetime.combine(DAY, now.timetz()))
    sync(settings, sessions, clock)
    with (files / "completions.csv").open("a") as out:
        out.write("4,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-02-01,\n")

    outcome = sync(settings, sessions, clock)

    assert outcome.recomputed and outcome.reports[0].counts.sworn_crisis == 2


def test_records_a_run_wrote_without_its_finish_are_recomputed_by_the_next_sync(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings, clock = configured(files), Clock(datetime.combine(DAY, now.timetz()))
    sync(settings, sessions, clock)
    with (files / "completions.csv").open("a") as out:
        out.write("4,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-02-01,\n")
    clock.tick(minutes=1)
    # what a sync that died (or was stopped) after its pull leaves: records, no finish
    written = SyncRunner(settings, sessions, clock).sync_source(settings.source("completions"))
    assert written.stats.new == 1

    outcome = sync(settings, sessions, clock)

    assert [r.stats.new for r in outcome.results] == [0, 0]
    assert outcome.recomputed and outcome.reports[0].counts.sworn_crisis == 2


def test_a_changed_configuration_recomputes(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    clock = Clock(datetime.combine(DAY, now.timetz()))
    first = sync(configured(files), sessions, clock)
    assert first.reports[0].deadline == DAY

    outcome = sync(configured(files, pledged_on="2025-06-01"), sessions, clock)

    assert outcome.recomputed
    assert outcome.reports[0].deadline == date(2028, 6, 1)
