"""Syncs through a fault-injecting proxy, in front of Ralph and of a conformant LRS (oldest
first as asked, or newest first whatever is asked): retryable faults are absorbed, a fault that
fails a run keeps the pages read before it, and reruns end with every statement, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conformant_lrs import PASSWORD, USERNAME, ConformantLrs, serving
from fault_figures import FIGURES
from fault_proxy import FaultProxy, fault_proxy
from lrs_server import LrsServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_xapi_ralph import CIT, MHFA, roster, statement

from onemind.config import Settings, parse_settings
from onemind.config.model import SourceConfig, XapiSourceConfig
from onemind.connectors.base import Connector
from onemind.connectors.registry import build_connector
from onemind.connectors.xapi import XapiConnector
from onemind.store.db import make_engine, session_factory, upgrade
from onemind.store.models import RawRecord, Source
from onemind.sync.runner import SyncRunner

STATEMENTS, PAGE = 240, 12
MAX_RUNS = 25
Upstream = tuple[str, str, str, Any]  # endpoint, username, password, what to post to


def seed(at: datetime) -> tuple[list[dict[str, Any]], set[str]]:
    """Statements a second apart, three in four credited; the ids that earn credit."""
    out = []
    for n in range(STATEMENTS):
        verb = "attempted" if n % 4 == 3 else "completed"
        sid = str(uuid.uuid4())
        out.append(
            statement(n % 60, CIT if n % 2 else MHFA, verb, at + timedelta(seconds=n), sid=sid)
        )
    return out, {s["id"] for s in out if s["verb"]["id"].endswith("completed")}


@contextmanager
def upstream(kind: str, request: pytest.FixtureRequest) -> Iterator[Upstream]:
    if kind == "ralph":
        lrs: LrsServer = request.getfixturevalue("fresh_lrs")
        yield lrs.endpoint, lrs.username, lrs.password, lrs
        return
    with serving(ConformantLrs(newest_first=kind == "newest-first")) as fake:
        yield fake.endpoint, USERNAME, PASSWORD, fake


def settings(tmp_path: Path, endpoint: str, username: str, password: str) -> Settings:
    roster(tmp_path)
    source = {
        "name": "lrs",
        "kind": "xapi",
        "endpoint": endpoint,
        "username": username,
        "password": "env:LRS_PASSWORD",
        "page_size": PAGE,
        "overlap_minutes": 0,  # the statements are minutes apart: an overlap would read all again
        "max_retries": 2,
        "read_timeout": 0.25,
        "connect_timeout": 2,
    }
    raw = {
        "agencies": [{"id": "a-pd", "name": "A PD"}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            source,
        ],
    }
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": password})


def factory(config: SourceConfig) -> Connector:
    if isinstance(config, XapiSourceConfig):
        return XapiConnector(config, sleep=lambda _: None)
    return build_connector(config)


def progress(sessions: sessionmaker[Session]) -> tuple[int, Any]:
    with sessions() as session:
        kept = session.scalar(
            select(func.count()).select_from(RawRecord).where(RawRecord.kind == "completion")
        )
        cursor = session.scalars(select(Source.cursor).where(Source.name == "lrs")).one_or_none()
        return kept or 0, cursor


def stored_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(select(RawRecord.external_id).where(RawRecord.kind == "completion"))
        )


def sync_until_ok(
    config: Settings, sessions: sessionmaker[Session], proxy: FaultProxy
) -> tuple[int, int]:
    """Sync through the proxy until a run succeeds: how many runs a fault failed, and how many
    of those committed what they had read before it."""
    kept = 0
    for failed in range(MAX_RUNS):
        before = progress(sessions)
        outcome = SyncRunner(
            config, sessions, lambda: datetime.now(UTC), connector_factory=factory
        ).run()
        if outcome.ok:
            return failed, kept
        kept += progress(sessions) != before
    raise AssertionError(f"no run succeeded in {MAX_RUNS}; faults {dict(proxy.injected)}")


@pytest.mark.parametrize("kind", ["ralph", "conformant", "newest-first"])
def test_faults_are_survived_or_resumed_without_loss_or_doubles(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = make_engine(f"sqlite:///{tmp_path / 'onemind.db'}")
    upgrade(store)
    sessions = session_factory(store)
    statements, credited = seed(datetime.now(UTC) - timedelta(days=1))
    with upstream(kind, request) as (endpoint, username, password, lrs):
        lrs.post_statements(statements)
        plan = {"share": 0.25, "seed": len(kind), "hang_seconds": 0.4}
        with fault_proxy(endpoint, max_requests=600, max_seconds=45, **plan) as proxy:
            failed, kept = sync_until_ok(
                settings(tmp_path, proxy.endpoint, username, password), sessions, proxy
            )
    assert proxy.over_budget == 0 and proxy.total > 0
    ids = stored_ids(sessions)
    FIGURES["faults injected"] += proxy.total
    FIGURES["faults survived"] += proxy.total - failed
    FIGURES["data lost"] += len(credited - set(ids))
    FIGURES["failed runs"] += failed
    FIGURES["failed runs that kept pages"] += kept
    assert kept == failed  # every run a fault ended committed the pages read before it
    assert sorted(ids) == sorted(credited)  # every credited statement, once
    _, cursor = progress(sessions)
    assert cursor["window"] is None
