"""Each role's entry: how its sources are ordered, batched, written and committed."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.config.model import SourceConfig
from onemind.connectors.base import Connector
from onemind.errors import ConfigurationError
from onemind.store import deferred_indexes
from onemind.store.agencies import AgencyWriter
from onemind.store.db import transaction
from onemind.store.models import RawRecord, Source
from onemind.store.set_aside import SetAsideWriter
from onemind.store.writer import RecordWriter
from onemind.sync.loading import GROWN_TABLES
from onemind.sync.roles import (
    BATCH_SIZE,
    ROSTER_BATCH_SIZE,
    ROSTER_COMMIT_RECORDS,
    ROSTER_GROWN_TABLES,
    ROSTER_PAGE_CACHE_KIB,
    role_of,
)
from onemind.sync.runner import SyncRunner

SOURCES: list[dict[str, Any]] = [
    {"name": "lrs", "kind": "xapi-file", "path": "statements.json"},
    {"name": "attested", "kind": "csv", "role": "attestations", "path": "a.csv"},
    {"name": "people", "kind": "csv", "role": "roster", "path": "r.csv"},
    {"name": "done", "kind": "csv", "role": "completions", "path": "c.csv"},
    {"name": "listed", "kind": "csv", "role": "agencies", "path": "ag.csv"},
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    raw = {"agencies": [{"id": "a-pd", "name": "A", "pledged_on": date(2025, 1, 1)}]}
    return parse_settings({**raw, "sources": SOURCES}, tmp_path / "onemind.toml")


@pytest.mark.parametrize(
    ("source", "batch", "deferral", "page_cache_kib", "commit_records", "grown"),
    [
        ("lrs", BATCH_SIZE, deferred_indexes.COMPLETIONS, None, None, GROWN_TABLES),
        ("done", BATCH_SIZE, deferred_indexes.COMPLETIONS, None, None, GROWN_TABLES),
        (
            "people",
            ROSTER_BATCH_SIZE,
            deferred_indexes.ROSTER,
            ROSTER_PAGE_CACHE_KIB,
            ROSTER_COMMIT_RECORDS,
            ROSTER_GROWN_TABLES,
        ),
        ("listed", BATCH_SIZE, None, None, None, GROWN_TABLES),
        ("attested", BATCH_SIZE, None, None, None, GROWN_TABLES),
    ],
)
def test_a_sources_role_says_how_it_is_loaded(
    settings: Settings,
    source: str,
    batch: int,
    deferral: deferred_indexes.Deferral | None,
    page_cache_kib: int | None,
    commit_records: int | None,
    grown: tuple[str, ...],
) -> None:
    role = role_of(settings.source(source))
    assert (role.batch_size, role.deferral) == (batch, deferral)
    assert (role.page_cache_kib, role.commit_records, role.grown) == (
        page_cache_kib,
        commit_records,
        grown,
    )


def test_each_role_writes_with_its_own_writer(
    settings: Settings, sessions: sessionmaker[Session], engine: Engine
) -> None:
    """A roster load's digests are its own, and so are a completions file's (a system's
    completions are not set aside); a completions load's first load on PostgreSQL inserts
    its raw rows without looking them up."""
    for source in ("listed", "attested"):
        assert (
            role_of(settings.source(source)).writer(sessions, settings.source(source))
            is AgencyWriter
        )
    people = role_of(settings.source("people"))
    first, second = (people.writer(sessions, settings.source("people")) for _ in range(2))
    assert isinstance(first, partial) and isinstance(second, partial)
    assert first.func is second.func is SetAsideWriter
    assert first.keywords["digests"] is not second.keywords["digests"]
    first_load = engine.dialect.name == "postgresql"
    lrs = role_of(settings.source("lrs")).writer(sessions, settings.source("lrs"))
    assert isinstance(lrs, partial) and lrs.func is RecordWriter
    assert lrs.keywords == {"unlooked": first_load}
    done = role_of(settings.source("done")).writer(sessions, settings.source("done"))
    again = role_of(settings.source("done")).writer(sessions, settings.source("done"))
    assert isinstance(done, partial) and isinstance(again, partial)
    assert done.func is again.func is SetAsideWriter
    assert done.keywords["unlooked"] is first_load
    assert done.keywords["digests"].kind == "completion"
    assert done.keywords["digests"] is not again.keywords["digests"]


def test_only_postgresql_is_asked_whether_a_completions_load_is_a_first_one(
    settings: Settings, sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    """SQLite always looks keys up: the writer is made without a query."""
    sent: list[str] = []

    def noting(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    def unlooked() -> bool:
        event.listen(engine, "before_cursor_execute", noting)
        try:
            writer = role_of(settings.source("done")).writer(sessions, settings.source("done"))
        finally:
            event.remove(engine, "before_cursor_execute", noting)
        assert isinstance(writer, partial)
        return bool(writer.keywords["unlooked"])

    postgres = engine.dialect.name == "postgresql"
    assert unlooked() is postgres
    assert len(sent) == postgres and all("EXISTS" in s for s in sent)
    with transaction(sessions) as session:
        source = Source(name="done", kind="csv")
        session.add(source)
        session.flush()
        session.add(
            RawRecord(
                source_id=source.id,
                external_id="1",
                kind="completion",
                location="c.csv:2",
                payload={},
                payload_hash="h",
                first_seen=now,
                last_seen=now,
            )
        )
    sent.clear()
    assert unlooked() is False  # a later load looks its keys up on both
    assert len(sent) == postgres


def test_agencies_are_synced_first_then_rosters_then_the_rest_as_configured(
    settings: Settings, sessions: sessionmaker[Session], now: datetime
) -> None:
    synced: list[str] = []

    def refusing(config: SourceConfig) -> Connector:
        synced.append(config.name)
        raise ConfigurationError("not built in this test")

    SyncRunner(settings, sessions, lambda: now, connector_factory=refusing).run()
    assert synced == ["listed", "people", "lrs", "attested", "done"]
