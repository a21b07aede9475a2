"""The xAPI source against a real LRS (Ralph): incremental, idempotent, voiding, push-back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from lrs_server import LrsServer
from snapshot import dump
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.config.model import SourceConfig, XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.connectors.base import Connector
from onemind.connectors.registry import build_connector
from onemind.connectors.xapi import XapiConnector
from onemind.domain.records import CredentialNotice
from onemind.sync.runner import SyncOutcome, SyncRunner

PEOPLE = 60
CIT = "https://academy.example/courses/cit-40"
MHFA = "https://academy.example/courses/mhfa-ps"


class CountingSession(requests.Session):
    """Counts the requests a connector makes."""

    calls = 0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        CountingSession.calls += 1
        return super().request(*args, **kwargs)


def roster(tmp_path: Path) -> None:
    lines = [
        "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"
        "separated_on"
    ]
    lines += [
        f"a-pd,E{i},First{i},Last{i},p{i}@a.test,true,Officer,,2015-01-01," for i in range(PEOPLE)
    ]
    (tmp_path / "roster.csv").write_text("\n".join(lines) + "\n")


def settings(tmp_path: Path, lrs: LrsServer, overlap_minutes: float = 5) -> Settings:
    roster(tmp_path)
    raw = {
        "agencies": [{"id": "a-pd", "name": "A PD"}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {
                "name": "lrs",
                "kind": "xapi",
                "endpoint": lrs.endpoint,
                "username": lrs.username,
                "password": "env:LRS_PASSWORD",
                "page_size": 50,
                "overlap_minutes": overlap_minutes,
            },
        ],
    }
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": lrs.password})


def factory(config: SourceConfig) -> Connector:
    if isinstance(config, XapiSourceConfig):
        return XapiConnector(config, session=CountingSession())
    return build_connector(config)


def statement(
    person: int, course: str, verb: str, at: datetime, success: bool = True, sid: str | None = None
) -> dict[str, Any]:
    return {
        "id": sid or str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:p{person}@a.test"},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {
            "objectType": "Activity",
            "id": course,
            "definition": {
                "name": {
                    "en-US": "Crisis Intervention Team (CIT) 40-hour"
                    if course == CIT
                    else "Mental Health First Aid for Public Safety"
                }
            },
        },
        "result": {"completion": True, "success": success},
        "timestamp": at.isoformat(),
    }


def seed(at: datetime) -> list[dict[str, Any]]:
    """300 statements: CIT for 15 people, MHFA for 40, the rest noise that earns nothing."""
    out = [statement(i, CIT, "completed", at) for i in range(15)]
    out += [statement(i, MHFA, "passed", at) for i in range(10, 50)]
    out += [statement(i % PEOPLE, CIT, "attempted", at) for i in range(200)]
    out += [statement(i, MHFA, "completed", at, success=False) for i in range(50, 60)]
    out += [statement(i, CIT, "experienced", at) for i in range(35)]
    return out


def run(settings_: Settings, sessions: sessionmaker[Session], now: datetime) -> SyncOutcome:
    outcome = SyncRunner(settings_, sessions, lambda: now, connector_factory=factory).run(
        as_of=now.date()
    )
    assert outcome.ok, [r.error for r in outcome.results]
    return outcome


def test_pull_rerun_new_statements_and_voiding(
    tmp_path: Path, fresh_lrs: LrsServer, sessions: sessionmaker[Session], engine: Engine
) -> None:
    now = datetime.now(UTC)
    # Ralph filters `since` on `timestamp`, and every seeded statement has the same one: an
    # overlap would read them all again (harmlessly); without one, a quiet rerun reads nothing
    config = settings(tmp_path, fresh_lrs, overlap_minutes=0)
    fresh_lrs.post_statements(seed(now - timedelta(minutes=10)))
    first = run(config, sessions, now)
    counts = first.reports[0].counts
    assert (counts.sworn_total, counts.sworn_crisis, counts.sworn_trained) == (60, 15, 50)
    assert {r.source: r.stats.new for r in first.results}["lrs"] == 55

    before = dump(engine)
    CountingSession.calls = 0
    second = run(config, sessions, now)
    assert CountingSession.calls == 1
    assert {r.source: r.stats.fetched for r in second.results}["lrs"] == 0
    assert dump(engine) == before

    target = fresh_lrs.all_statements(
        agent='{"mbox": "mailto:p0@a.test"}', verb=("http://adlnet.gov/expapi/verbs/completed")
    )[0]["id"]
    later = datetime.now(UTC)
    fresh_lrs.post_statements(
        [
            statement(55, CIT, "completed", later),
            statement(56, MHFA, "passed", later),
            {
                "id": str(uuid.uuid4()),
                "actor": {"mbox": "mailto:admin@a.test"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": target},
                "timestamp": later.isoformat(),
            },
        ]
    )
    third = run(config, sessions, later)
    counts = third.reports[0].counts
    assert (counts.sworn_crisis, counts.sworn_trained) == (15 - 1 + 1, 50 - 1 + 2)


def test_late_statement_inside_the_overlap_window_is_not_lost(
    tmp_path: Path, fresh_lrs: LrsServer, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    config = settings(tmp_path, fresh_lrs, overlap_minutes=120)
    fresh_lrs.post_statements([statement(1, CIT, "completed", now - timedelta(minutes=5))])
    run(config, sessions, now)
    fresh_lrs.post_statements([statement(2, CIT, "completed", now - timedelta(minutes=60))])
    outcome = run(config, sessions, datetime.now(UTC))
    assert outcome.reports[0].counts.sworn_crisis == 2


def test_push_a_credential_twice_then_revoke(tmp_path: Path, fresh_lrs: LrsServer) -> None:
    config = settings(tmp_path, fresh_lrs).source("lrs")
    assert isinstance(config, XapiSourceConfig)
    connector = XapiConnector(config)
    assert connector.check().ok
    notice = CredentialNotice(
        "cred-42",
        "cit",
        "Crisis Intervention Team (CIT)",
        datetime(2026, 3, 1, tzinfo=UTC),
        "eyJhbGciOi.x.y",
        email="p3@a.test",
        person_name="First3 Last3",
    )
    first = connector.push(notice)
    assert connector.push(notice) == first
    stored = fresh_lrs.get_statements(statementId=first)["statements"]
    assert len(stored) == 1
    assert stored[0]["verb"]["id"] == "https://w3id.org/xapi/tla/verbs/achieved"
    assert (
        stored[0]["result"]["extensions"]["https://onemind.example/xapi/extensions/credential"]
        == "eyJhbGciOi.x.y"
    )
    voiding = connector.revoke(notice)
    assert connector.revoke(notice) == voiding
    [void] = fresh_lrs.get_statements(statementId=voiding)["statements"]
    assert void["object"] == {"objectType": "StatementRef", "id": first}
    assert len(fresh_lrs.all_statements()) == 2


def test_wrong_password_is_a_configuration_error(tmp_path: Path, lrs: LrsServer) -> None:
    config = settings(tmp_path, lrs).source("lrs")
    assert isinstance(config, XapiSourceConfig)
    wrong = config.model_copy(update={"password": Secret("nope", "env:X")})
    [problem] = XapiConnector(wrong).check().problems
    assert "refused with 401" in problem
