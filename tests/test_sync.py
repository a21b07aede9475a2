"""The whole pipeline on both backends: idempotent, lossless, and honest about bad input."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from snapshot import dump
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.store.models import Completion, QuarantinedRecord, SyncRun
from onemind.sync.runner import SyncOutcome, SyncRunner

AS_OF = date(2026, 11, 26)
ROSTER_HEADER = (
    "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on\n"
)
COMPLETIONS_HEADER = (
    "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
)
ROSTER = (
    ROSTER_HEADER
    + """a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cat,Kim,cat@a.example,false,Dispatcher,,2020-01-01,
a-pd,4,Dan,Fox,dan@a.example,true,Officer,,2020-01-01,
a-pd,5,Eve,Orr,eve@a.example,true,Officer,,2020-01-01,
"""
)
COMPLETIONS = (
    COMPLETIONS_HEADER
    + """1,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,BOB@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,
,cat@a.example,CIT-TC,CIT for Telecommunicators,,16,2024-01-01,
,nobody@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,
4,,FQ,Firearms Qualification,,8,2026-13-45,
"""
)


SETTINGS = """
[[agencies]]
id = "a-pd"
name = "A Police Department"
pledged_on = 2025-01-01

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "completions.csv"
"""
"""One agency, its roster and its completions (ROSTER and COMPLETIONS, as `files` writes them)."""


def make_settings(tmp_path: Path, extra_sources: str = "") -> Settings:
    text_ = SETTINGS + extra_sources
    return parse_settings(tomllib.loads(text_), tmp_path / "onemind.toml")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    return tmp_path


def run(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, **kw: Any
) -> SyncOutcome:
    return SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF, **kw)


def test_first_sync_counts_and_quarantines(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    outcome = run(make_settings(files), sessions, now)
    assert outcome.ok
    stats = {r.source: r.stats for r in outcome.results}
    assert (stats["roster"].fetched, stats["roster"].new) == (5, 5)
    assert (stats["completions"].new, stats["completions"].quarantined) == (4, 1)
    report = outcome.reports[0].to_json()
    assert (report["sworn_total"], report["sworn_crisis"], report["sworn_trained"]) == (4, 1, 2)
    assert (report["nonsworn_selected_total"], report["nonsworn_trained"]) == (1, 1)
    assert outcome.unmatched == 1
    with sessions() as session:
        bad = session.scalars(select(QuarantinedRecord)).one()
    assert (bad.location, bad.reason) == (
        "completions.csv:6",
        "completed_on: '2026-13-45' is not a date (YYYY-MM-DD)",
    )
    assert bad.payload["course_id"] == "FQ"


def test_rerun_and_full_rerun_change_nothing(
    files: Path, sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    settings = make_settings(files)
    run(settings, sessions, now)
    before = dump(engine)
    second = run(settings, sessions, now)
    assert [r.stats.fetched for r in second.results] == [0, 0]
    assert dump(engine) == before
    full = run(settings, sessions, now, full=True)
    assert sum(r.stats.new + r.stats.updated for r in full.results) == 0
    assert dump(engine) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 6


def test_unmatched_completion_links_when_the_roster_catches_up(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(files)
    assert run(settings, sessions, now).unmatched == 1
    (files / "roster.csv").write_text(
        ROSTER + "a-pd,6,Ned,Noe,Nobody@A.example,true,Officer,,2021-01-01,\n"
    )
    outcome = run(settings, sessions, now)
    assert outcome.unmatched == 0
    report = outcome.reports[0].to_json()
    assert (report["sworn_total"], report["sworn_trained"]) == (5, 3)


def test_changed_row_is_updated_not_doubled(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(files)
    run(settings, sessions, now)
    (files / "completions.csv").write_text(
        COMPLETIONS.replace(
            ",BOB@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,",
            ",BOB@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,2025-06-01",
        )
    )
    outcome = run(settings, sessions, now)
    stats = {r.source: r.stats for r in outcome.results}
    assert (stats["completions"].new, stats["completions"].updated) == (0, 1)
    assert outcome.reports[0].counts.sworn_trained == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 4


def test_a_failing_source_does_not_stop_the_others(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    extra = '[[sources]]\nname = "gone"\nkind = "csv"\nrole = "roster"\npath = "gone.csv"\n'
    outcome = run(make_settings(files, extra), sessions, now)
    results = {r.source: r for r in outcome.results}
    assert not outcome.ok
    assert "gone.csv does not exist" in (results["gone"].error or "")
    assert results["roster"].ok and results["completions"].ok
    assert outcome.reports[0].counts.sworn_total == 4
    with sessions() as session:
        statuses = session.execute(select(SyncRun.status, SyncRun.error)).all()
    assert sorted(s for s, _ in statuses) == ["failed", "succeeded", "succeeded"]


def test_voiding_retracts_credit_whichever_arrives_first(
    files: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    target = "0b5e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    completed = {
        "id": target,
        "actor": {"mbox": "mailto:dan@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/cit", "definition": {"name": {"en": "CIT 40-hour"}}},
        "timestamp": "2025-05-05T12:00:00Z",
    }
    voiding = {
        "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        "actor": {"mbox": "mailto:admin@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": "2025-05-06T12:00:00Z",
    }
    extra = '[[sources]]\nname = "lrs"\nkind = "xapi-file"\npath = "statements.json"\n'
    settings = make_settings(files, extra)
    statements = files / "statements.json"
    statements.write_text(json.dumps([voiding]))
    run(settings, sessions, now)
    statements.write_text(json.dumps([completed]))
    outcome = run(settings, sessions, now)
    assert outcome.reports[0].counts.sworn_crisis == 1
    statements.write_text(json.dumps([completed, voiding]))
    assert run(settings, sessions, now).reports[0].counts.sworn_crisis == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Completion.voided.is_(True))) == 1


def test_unknown_agency_in_roster_is_quarantined(
    files: Path, sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    (files / "roster.csv").write_text(ROSTER + "zz-pd,9,Zed,Zee,,true,Officer,,2020-01-01,\n")
    outcome = run(make_settings(files), sessions, now)
    assert {r.source: r.stats.quarantined for r in outcome.results}["roster"] == 1
    with engine.connect() as connection:
        reason = connection.execute(
            text("SELECT reason FROM quarantined_record WHERE location = 'roster.csv:7'")
        ).scalar_one()
    assert "unknown agency 'zz-pd'" in reason


def test_an_employee_id_two_agencies_share_links_only_with_the_agency_or_an_email(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(
        ROSTER_HEADER
        + "a-pd,7,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,\n"
        + "b-pd,7,Bo,Ray,bo@b.example,true,Officer,,2020-01-01,\n"
    )
    (tmp_path / "completions.csv").write_text(
        COMPLETIONS_HEADER
        + "7,,CIT-40,Crisis Intervention Team (CIT) 40-Hour,,40,2024-01-01,\n"
        + "7,BO@b.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,\n"
    )
    (tmp_path / "b.csv").write_text(
        COMPLETIONS_HEADER + "7,,CRIT,Crisis Response and Intervention Training,,40,2024-02-01,\n"
    )
    raw = {
        "agencies": [{"id": "a-pd", "name": "A"}, {"id": "b-pd", "name": "B"}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {"name": "all", "kind": "csv", "role": "completions", "path": "completions.csv"},
            {
                "name": "b-only",
                "kind": "csv",
                "role": "completions",
                "path": "b.csv",
                "agency": "b-pd",
            },
        ],
    }
    outcome = run(parse_settings(raw, tmp_path / "onemind.toml"), sessions, now)
    assert outcome.unmatched == 1
    counts = {r.agency: r.counts for r in outcome.reports}
    assert (counts["a-pd"].sworn_crisis, counts["a-pd"].sworn_trained) == (0, 0)
    assert (counts["b-pd"].sworn_crisis, counts["b-pd"].sworn_trained) == (1, 1)
