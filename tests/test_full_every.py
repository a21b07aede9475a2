"""Periodic full passes: a source read whole when its last full pass is older than `full_every`
(by default, an LRS that filters `since` on `timestamp`), so back-dated statements come in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lrs_server import LrsServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_xapi_ralph import CIT, MHFA, settings, statement

from onemind.config import Settings
from onemind.config.model import SourceConfig
from onemind.connectors.base import Connector
from onemind.connectors.registry import build_connector
from onemind.domain.records import Checkpoint, PullItem
from onemind.store.models import Source, SyncRun
from onemind.sync.runner import SyncOutcome, SyncRunner

CURRENT, BACK_DATED = 21, 16


def sync(config: Settings, sessions: sessionmaker[Session], now: datetime) -> SyncOutcome:
    outcome = SyncRunner(config, sessions, lambda: now).run(as_of=now.date())
    assert outcome.ok, [r.error for r in outcome.results]
    return outcome


def credited(outcome: SyncOutcome) -> int:
    counts = outcome.reports[0].counts
    return counts.sworn_trained


def lrs_runs(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(SyncRun.mode, SyncRun.status)
            .join(Source, Source.id == SyncRun.source_id)
            .where(Source.name == "lrs")
            .order_by(SyncRun.id)
        )
        return [(mode, status) for mode, status in rows]


def passed(person: int, at: datetime) -> dict[str, Any]:
    return statement(person, MHFA if person % 2 else CIT, "passed", at, sid=str(uuid.uuid4()))


def test_back_dated_statements_on_ralph_come_in_with_the_weekly_full_pass(
    tmp_path: Path, fresh_lrs: LrsServer, sessions: sessionmaker[Session]
) -> None:
    start = datetime.now(UTC)
    config = settings(tmp_path, fresh_lrs)
    fresh_lrs.post_statements([passed(p, start - timedelta(hours=1)) for p in range(CURRENT)])
    assert credited(sync(config, sessions, start)) == CURRENT
    with sessions() as session:
        cursor = session.scalars(select(Source.cursor).where(Source.name == "lrs")).one()
    assert cursor["key"] == "timestamp"  # Ralph compares `since` with `timestamp`: found out

    # credited later with the date the training was done, a month before: `since` misses them
    month_ago = start - timedelta(days=30)
    late = [passed(p, month_ago) for p in range(CURRENT, CURRENT + BACK_DATED)]
    fresh_lrs.post_statements(late)
    day_later = sync(config, sessions, start + timedelta(days=1))
    assert credited(day_later) == CURRENT

    week_later = sync(config, sessions, start + timedelta(days=7, minutes=1))
    assert credited(week_later) == CURRENT + BACK_DATED
    assert lrs_runs(sessions) == [
        ("full", "succeeded"),
        ("incremental", "succeeded"),
        ("full", "succeeded"),
    ]
    again = sync(config, sessions, start + timedelta(days=8))
    assert credited(again) == CURRENT + BACK_DATED
    assert lrs_runs(sessions)[-1] == ("incremental", "succeeded")


@pytest.mark.parametrize(
    ("full_every", "since_field", "modes"),
    [
        ("never", "timestamp", ["full", "incremental", "incremental"]),
        ("2d", "stored", ["full", "incremental", "full"]),
        (None, "stored", ["full", "incremental", "incremental"]),
    ],
)
def test_full_every_as_configured_or_the_connectors_default(
    tmp_path: Path,
    fresh_lrs: LrsServer,
    sessions: sessionmaker[Session],
    full_every: str | None,
    since_field: str,
    modes: list[str],
) -> None:
    start = datetime.now(UTC)
    config = settings(tmp_path, fresh_lrs)
    [lrs] = [s for s in config.sources if s.name == "lrs"]
    changed = type(lrs).model_validate(
        lrs.model_dump() | {"since_field": since_field, "full_every": full_every}
    )
    config = config.model_copy(
        update={"sources": [changed if s is lrs else s for s in config.sources]}
    )
    fresh_lrs.post_statements([passed(1, start - timedelta(hours=1))])
    for days in (0, 1, 9):
        sync(config, sessions, start + timedelta(days=days))
    assert [mode for mode, _ in lrs_runs(sessions)] == modes


class Periodic(Connector):
    """A source whose connector asks for a full pass every week (as Moodle's report route)."""

    name = "lrs"

    def __init__(self, cursors: list[Any]) -> None:
        self.cursors = cursors

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        self.cursors.append(cursor)
        yield Checkpoint({"version": 1, "read": True})

    def check(self) -> None:
        return None

    def full_pass_every(self, cursor: dict[str, Any] | None) -> timedelta | None:
        return timedelta(days=7)


def test_any_connector_may_ask_for_full_passes(
    tmp_path: Path, lrs: LrsServer, sessions: sessionmaker[Session]
) -> None:
    config = settings(tmp_path, lrs)
    cursors: list[Any] = []
    start = datetime.now(UTC)

    def factory(source: SourceConfig) -> Connector:
        return Periodic(cursors) if source.name == "lrs" else build_connector(source)

    for days in (0, 1, 8):
        now = start + timedelta(days=days)
        SyncRunner(config, sessions, lambda now=now: now, connector_factory=factory).run()
    assert cursors == [None, {"version": 1, "read": True}, None]
    assert [mode for mode, _ in lrs_runs(sessions)] == ["full", "incremental", "full"]
