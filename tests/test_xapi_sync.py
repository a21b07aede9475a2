"""An LRS source inside a sync: the cursor moves only past what is committed."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import responses
from responses.registries import OrderedRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.config.model import SourceConfig, XapiSourceConfig
from onemind.connectors.base import Connector
from onemind.connectors.registry import build_connector
from onemind.connectors.xapi import XapiConnector
from onemind.store.models import Completion, Source
from onemind.sync.runner import SyncRunner

STATEMENTS = "https://lrs.example/xAPI/statements"


def settings(tmp_path: Path) -> Settings:
    raw = {
        "agencies": [{"id": "a-pd", "name": "A PD"}],
        "sources": [
            {
                "name": "lrs",
                "kind": "xapi",
                "endpoint": "https://lrs.example/xAPI/",
                "username": "sync",
                "password": "env:LRS_PASSWORD",
                "page_size": 2,
                "max_retries": 1,
                "overlap_minutes": 60,
            }
        ],
    }
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": "pw"})


def factory(config: SourceConfig) -> Connector:
    if isinstance(config, XapiSourceConfig):
        return XapiConnector(config, sleep=lambda _: None)
    return build_connector(config)


def statement(n: int) -> dict[str, Any]:
    stored = f"2026-01-0{n}T00:00:00Z"
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:p{n}@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {
            "id": "https://lms.example/mhfa",
            "definition": {"name": {"en-US": "Mental Health First Aid"}},
        },
        "timestamp": stored,
        "stored": stored,
    }


def stored_cursor(sessions: sessionmaker[Session]) -> Any:
    with sessions() as session:
        return session.scalars(select(Source.cursor).where(Source.name == "lrs")).one()


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_timeout_mid_run_keeps_the_cursor_and_the_rerun_loses_and_doubles_nothing(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    responses.get(
        STATEMENTS,
        json={"statements": [statement(1), statement(2)], "more": "/xAPI/statements?more=p2"},
    )
    responses.get(STATEMENTS + "?more=p2", body=responses.ConnectionError("reset"))
    responses.get(STATEMENTS + "?more=p2", body=responses.ConnectionError("reset"))
    runner = SyncRunner(settings(tmp_path), sessions, lambda: now, connector_factory=factory)
    first = runner.run(as_of=date(2026, 11, 26))
    assert not first.ok and "ConnectionError" in (first.results[0].error or "")
    # the page read is kept; the next may hold more statements stored at its newest instant
    assert stored_cursor(sessions)["through"] == "2026-01-01T00:00:00Z"

    responses.get(STATEMENTS, json={"statements": [statement(2), statement(3)], "more": ""})
    second = runner.run(as_of=date(2026, 11, 26))
    assert second.ok
    assert "since=2025-12-31T23%3A00%3A00Z" in (responses.calls[-1].request.url or "")
    assert (second.results[0].stats.new, second.results[0].stats.fetched) == (1, 2)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 3
    assert stored_cursor(sessions)["through"] == "2026-01-03T00:00:00Z"
