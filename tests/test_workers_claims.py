"""Each scheduled report goes out once per period: the claimed row, its states, and what a
retry does after the SMTP server refused a recipient or its answer was lost (both backends)."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_run import onemind
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from workers_world import (
    AGENCIES,
    ENVIRON,
    SCHEDULE,
    Mailbox,
    config_text,
    smtp_server,
    write_world,
)

from onemind.config import Settings, parse_settings
from onemind.errors import ConfigurationError
from onemind.store import claims
from onemind.store.db import session_factory, transaction
from onemind.store.models import ReportArchive, ReportClaim
from onemind.sync.runner import SyncRunner
from onemind.sync.scheduler import Service

NOW = datetime(2026, 11, 27, 6, 0, 30, tzinfo=UTC)
TTL = timedelta(minutes=10)


def take(
    sessions: sessionmaker[Session], holder: str, now: datetime = NOW, gone: bool = False
) -> claims.Claim:
    with transaction(sessions) as session:
        return claims.claim(
            session, "agency", "pd-0", "2026-11-27T06:00", holder, now, TTL, lambda h: gone
        )


def test_a_claim_goes_to_one_holder_until_it_is_settled(sessions: sessionmaker[Session]) -> None:
    first = take(sessions, "a")
    assert first.go
    busy = take(sessions, "b")
    assert not busy.go and busy.busy_until == NOW + TTL
    with transaction(sessions) as session:
        claims.settle(session, first.id, claims.SENT, ["chief@pd-0.example"], None, None)
    done = take(sessions, "b", NOW + 2 * TTL)
    assert not done.go and done.settled


def test_a_failed_claim_is_taken_again_with_what_was_delivered(
    sessions: sessionmaker[Session],
) -> None:
    first = take(sessions, "a")
    with transaction(sessions) as session:
        claims.settle(session, first.id, claims.FAILED, ["chief@pd-0.example"], None, "450")
    again = take(sessions, "b")
    assert again.go and again.delivered == ("chief@pd-0.example",)
    with sessions() as session:
        assert session.get_one(ReportClaim, first.id).attempts == 2


@pytest.mark.parametrize(
    ("state", "later", "gone", "go", "after"),
    [
        (claims.CLAIMED, TTL, False, True, claims.CLAIMED),  # expired: taken over
        (claims.CLAIMED, timedelta(0), True, True, claims.CLAIMED),  # holder's process gone
        (claims.CLAIMED, timedelta(0), False, False, claims.CLAIMED),  # holder still at it
        (claims.SENDING, TTL, False, False, claims.UNKNOWN),  # died handing it over
        (claims.SENDING, timedelta(0), True, False, claims.UNKNOWN),
        (claims.UNKNOWN, TTL, False, False, claims.UNKNOWN),  # never resent by itself
    ],
)
def test_a_dead_holders_claim(
    sessions: sessionmaker[Session],
    state: str,
    later: timedelta,
    gone: bool,
    go: bool,
    after: str,
) -> None:
    first = take(sessions, "a")
    with transaction(sessions) as session:
        session.get_one(ReportClaim, first.id).state = state
    second = take(sessions, "b", NOW + later, gone)
    assert second.go is go
    with sessions() as session:
        row = session.get_one(ReportClaim, first.id)
        assert (row.state, row.holder) == (after, "b" if go else "a")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hub(
    tmp_path: Path, engine: Engine, sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> Settings:
    """The small hub synced in this process, its reports to the mailbox."""
    write_world(tmp_path)
    text = config_text(tmp_path, "sqlite:///unused.db", mailbox[1])
    settings = parse_settings(tomllib.loads(text), tmp_path / "onemind.toml", ENVIRON)
    assert SyncRunner(settings, sessions, lambda: NOW).run().ok
    return settings


def service(settings: Settings, engine: Engine, now: datetime = NOW) -> Service:
    return Service(settings, engine, lambda: now)


def test_the_period_is_the_slot_a_job_fired_for_even_late(hub: Settings, engine: Engine) -> None:
    on_time = service(hub, engine).period(SCHEDULE)
    late = service(hub, engine, NOW + timedelta(hours=3)).period(SCHEDULE)
    assert on_time == late == "2026-11-27T06:00:00+00:00"
    assert service(hub, engine, NOW + timedelta(days=1)).period(SCHEDULE) != on_time


def test_two_schedulers_send_each_report_once(
    hub: Settings, engine: Engine, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def serve() -> None:
        scheduler = service(hub, engine)
        start.wait()
        for agency in AGENCIES:
            delivery = scheduler.report(agency, scheduler.period(SCHEDULE))
            assert delivery is not None
            outcomes.append("sent" if delivery.archive_id else "skipped")

    threads = [threading.Thread(target=serve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["sent"] * 4 + ["skipped"] * 4
    assert set(inbox.counts().values()) == {1} and len(inbox.counts()) == 2 * len(AGENCIES)


def test_a_refused_recipient_gets_it_on_the_retry_and_the_other_not_twice(
    hub: Settings, engine: Engine, sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    inbox.refuse = {"training@pd-0.example"}
    scheduler = service(hub, engine)
    period = scheduler.period(SCHEDULE)
    first = scheduler.report("pd-0", period)
    assert first is not None and first.retry and first.claim == claims.FAILED
    assert inbox.counts() == {"chief@pd-0.example": 1}

    inbox.refuse = set()
    second = scheduler.report("pd-0", period)
    assert second is not None and second.sent and second.recipients == ["training@pd-0.example"]
    third = scheduler.report("pd-0", period)
    assert third is not None and third.archive_id is None and not third.retry
    assert inbox.counts() == {"chief@pd-0.example": 1, "training@pd-0.example": 1}
    assert len({message_id for _, _, message_id in inbox.received}) == 1
    with sessions() as session:
        row = session.scalars(select(ReportClaim)).one()
        assert (row.state, row.attempts) == (claims.SENT, 2)
        assert len(session.scalars(select(ReportArchive)).all()) == 2


def test_an_answer_lost_during_the_message_is_never_sent_again(
    hub: Settings, engine: Engine, sessions: sessionmaker[Session], mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    inbox.answer_after = 4  # beyond the client's 2 s timeout: did it arrive? we cannot know
    scheduler = service(hub, engine)
    period = scheduler.period(SCHEDULE)
    first = scheduler.report("pd-1", period)
    assert first is not None and first.claim == claims.UNKNOWN and not first.retry
    inbox.answer_after = 0
    again = scheduler.report("pd-1", period)
    assert again is not None and again.archive_id is None and again.claim == claims.UNKNOWN
    assert set(inbox.counts().values()) == {1}  # at most once per recipient
    with sessions() as session:
        row = session.scalars(select(ReportClaim)).one()
        assert row.state == claims.UNKNOWN and "may have arrived" in (row.error or "")


def test_on_demand_reports_are_not_claimed(
    hub: Settings, engine: Engine, mailbox: tuple[Mailbox, int]
) -> None:
    scheduler = service(hub, engine)
    for _ in range(2):
        delivery = scheduler.report("pd-2")
        assert delivery is not None and delivery.sent
    assert set(mailbox[0].counts().values()) == {2}
    with session_factory(engine)() as session:
        assert session.scalars(select(ReportClaim)).all() == []


def test_worker_without_a_workers_section_says_what_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "onemind.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "onemind.db"}"\n')
    code, _, err = onemind(capsys, "--config", str(path), "worker")
    assert code == 2 and "needs a [workers] section with a broker" in err


@pytest.mark.parametrize(
    ("workers", "problem"),
    [
        ('broker = "redis://:hunter2@127.0.0.1:6379/0"', "holds a password in plain text"),
        ('broker = "http://127.0.0.1:6379"', "broker"),
        ('broker = "redis://127.0.0.1"\nconcurrency = 0', "concurrency"),
    ],
)
def test_bad_workers_sections_are_refused(tmp_path: Path, workers: str, problem: str) -> None:
    text = f"[workers]\n{workers}\n"
    with pytest.raises(ConfigurationError, match=problem):
        parse_settings(tomllib.loads(text), tmp_path / "onemind.toml", {})


def test_the_broker_password_goes_into_the_url_only_when_connecting(tmp_path: Path) -> None:
    text = '[workers]\nbroker = "amqp://onemind@rabbit:5672//"\nbroker_password = "env:BROKER"\n'
    settings = parse_settings(tomllib.loads(text), tmp_path / "x.toml", {"BROKER": "p@ss/w"})
    assert settings.workers is not None
    assert settings.workers.broker_url() == "amqp://onemind:p%40ss%2Fw@rabbit:5672//"
