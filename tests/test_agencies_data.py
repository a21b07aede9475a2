"""Agencies and attestations as data: files that create, update, retire and bring back agencies,
and attestations loaded from a file, beside `[[agencies]]` (which wins)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.errors import ConfigurationError
from onemind.reports.batch import agencies as report_targets
from onemind.reports.delivery import status_notices
from onemind.store import coverage
from onemind.store.models import (
    Agency,
    AgencyStatusChange,
    Attestation,
    AuditEntry,
    CoverageSnapshot,
    QuarantinedRecord,
)
from onemind.sync.runner import SyncOutcome, SyncRunner

AS_OF = date(2026, 11, 26)
HEADER = "id,name,program,pledged_on,deadline_months,region,report_to,partnership_on,policy_on\n"
A_PD = "a-pd,A Police Department,one-mind,2025-01-15,36,North,chief@a.example; hr@a.example,,\n"
B_SO = "b-so,B Sheriff's Office,one-mind-2016,2024-03-01,24,South,,2024-05-01,\n"
ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on
a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01
b-so,1,Cy,Oak,cy@b.example,true,Deputy,,2020-01-01
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on
,ann@a.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01
,bob@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01
"""
ATTESTATIONS = """agency,kind,attested_on,evidence,recorded_by
a-pd,partnership,2025-03-01,MOU with county mental health (mou.pdf),Chief Lee
a-pd,policy,2025-04-01,https://a.example/policy,
"""


def settings_for(
    tmp_path: Path, configured: list[dict[str, Any]] | None = None, **files: str
) -> Settings:
    """Sources for each file given (agencies, attestations, roster, completions), in that name."""
    sources = []
    for role, content in files.items():
        (tmp_path / f"{role}.csv").write_text(content)
        sources.append({"name": role, "kind": "csv", "role": role, "path": f"{role}.csv"})
    raw = {"agencies": configured or [], "sources": sources}
    return parse_settings(raw, tmp_path / "onemind.toml", environ={})


def sync(
    settings: Settings, sessions: sessionmaker[Session], now: datetime, full: bool = False
) -> SyncOutcome:
    runner = SyncRunner(settings, sessions, lambda: now)
    if full:
        return runner.finish([runner.sync_source(s, full=True) for s in settings.sources], AS_OF)
    return runner.run(as_of=AS_OF)


def agencies(sessions: sessionmaker[Session]) -> dict[str, Agency]:
    with sessions() as session:
        return {a.id: a for a in session.scalars(select(Agency))}


def quarantined(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(select(QuarantinedRecord.location, QuarantinedRecord.reason))
        return sorted((location, reason) for location, reason in rows)


def audited(sessions: sessionmaker[Session], action: str) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.target)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return [(actor, target) for actor, target in rows]


def test_an_agencies_file_creates_then_updates_agencies(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    outcome = sync(settings_for(tmp_path, agencies=HEADER + A_PD + B_SO), sessions, now)
    assert outcome.ok
    assert (outcome.results[0].stats.new, outcome.results[0].stats.updated) == (2, 0)
    found = agencies(sessions)
    a, b = found["a-pd"], found["b-so"]
    assert (a.name, a.program, a.pledged_on, a.deadline_months, a.region) == (
        "A Police Department",
        "one-mind",
        date(2025, 1, 15),
        36,
        "North",
    )
    assert a.report_to == ["chief@a.example", "hr@a.example"]
    assert (b.program, b.deadline_months, b.report_to, b.active, b.managed_by) == (
        "one-mind-2016",
        24,
        [],
        True,
        "agencies",
    )
    with sessions() as session:
        rows = session.execute(
            select(Attestation.agency_id, Attestation.kind, Attestation.attested_on)
        )
        assert list(rows) == [("b-so", "partnership", date(2024, 5, 1))]
    moved = A_PD.replace("North", "East").replace("A Police", "A City Police")
    outcome = sync(settings_for(tmp_path, agencies=HEADER + moved + B_SO), sessions, now)
    assert (outcome.results[0].stats.new, outcome.results[0].stats.updated) == (0, 1)
    a = agencies(sessions)["a-pd"]
    assert (a.name, a.region) == ("A City Police Department", "East")
    assert audited(sessions, "attestation.record") == [("source:agencies", "b-so")]


def test_an_agency_that_leaves_the_file_is_inactive_keeps_its_history_and_can_come_back(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    files = {"agencies": HEADER + A_PD + B_SO, "roster": ROSTER}
    assert sync(settings_for(tmp_path, **files), sessions, now).ok
    outcome = sync(settings_for(tmp_path, **{**files, "agencies": HEADER + A_PD}), sessions, now)
    assert outcome.ok
    assert [r.agency for r in outcome.reports] == ["a-pd"]
    b = agencies(sessions)["b-so"]
    assert (b.active, b.name) == (False, "B Sheriff's Office")
    with sessions() as session:
        assert [r.agency for r in coverage.compute(session, AS_OF)] == ["a-pd"]
        assert report_targets(session, None) == ["a-pd"]
        assert report_targets(session, "b-so") == ["b-so"]  # named, its history is there
        kept = session.scalar(select(func.count()).where(CoverageSnapshot.agency_id == "b-so"))
        assert kept == 1
        assert [r.counts.sworn_total for r in coverage.compute(session, AS_OF, ["b-so"])] == [1]
    assert audited(sessions, "agency.leave") == [("source:agencies", "b-so")]
    outcome = sync(settings_for(tmp_path, **files), sessions, now)
    assert [r.agency for r in outcome.reports] == ["a-pd", "b-so"]
    assert agencies(sessions)["b-so"].active
    assert audited(sessions, "agency.return") == [("source:agencies", "b-so")]


def test_an_agencies_file_emptied_to_its_header_changes_nothing_and_says_so(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    files = {"agencies": HEADER + A_PD + B_SO, "roster": ROSTER}
    assert sync(settings_for(tmp_path, **files), sessions, now).ok
    for emptied in (HEADER, HEADER + ",,,,,,,,\n\n"):
        outcome = sync(settings_for(tmp_path, **{**files, "agencies": emptied}), sessions, now)
        assert not outcome.ok
        error = outcome.results[0].error or ""
        assert "agencies.csv lists no agency, only its header: nothing was changed" in error
    assert {i: a.active for i, a in agencies(sessions).items()} == {"a-pd": True, "b-so": True}
    assert audited(sessions, "agency.leave") == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("A-PD!,Bad Id,,,,,,,\n", "id: 'A-PD!' is not an agency id"),
        ("c-pd,,,,,,,,\n", "name: missing"),
        ("c-pd,C,one-mind-2030,,,,,,\n", "program: 'one-mind-2030' is not one of"),
        ("c-pd,C,,,40,,,,\n", "deadline_months: '40' is not a number of months from 12 to 36"),
        ("c-pd,C,,2025-13-01,,,,,\n", "pledged_on: '2025-13-01' is not a date"),
        ("c-pd,C,,,,,chief at c,,\n", "report_to: 'chief at c' is not one e-mail address"),
        ("c-pd,C,,,,,,yesterday,\n", "partnership_on: 'yesterday' is not a date"),
        ("a-pd,A Renamed,,,,,,,\n", "repeats agencies.csv:2 with other"),
    ],
)
def test_a_bad_row_is_quarantined_with_its_line_and_field(
    row: str, reason: str, tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    outcome = sync(settings_for(tmp_path, agencies=HEADER + A_PD + row + B_SO), sessions, now)
    assert outcome.ok
    [(location, why)] = quarantined(sessions)
    assert location == "agencies.csv:3"
    assert why.startswith(reason), why
    assert sorted(agencies(sessions)) == ["a-pd", "b-so"]


def test_a_bad_row_keeps_its_agency_listed_as_it_was(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    assert sync(settings_for(tmp_path, agencies=HEADER + A_PD + B_SO), sessions, now).ok
    broken = B_SO.replace("24,South", "99,South")
    assert sync(settings_for(tmp_path, agencies=HEADER + A_PD + broken), sessions, now).ok
    b = agencies(sessions)["b-so"]
    assert (b.active, b.deadline_months) == (True, 24)
    assert [location for location, _ in quarantined(sessions)] == ["agencies.csv:3"]


def test_the_configuration_wins_over_a_file_and_hands_an_agency_back_when_it_drops_it(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    configured = [{"id": "a-pd", "name": "A PD (configured)", "region": "Capital"}]
    files = {"agencies": HEADER + A_PD + B_SO}
    assert sync(settings_for(tmp_path, configured, **files), sessions, now).ok
    a = agencies(sessions)["a-pd"]
    assert (a.name, a.region, a.managed_by, a.active) == (
        "A PD (configured)",
        "Capital",
        "configuration",
        True,
    )
    [(location, reason)] = quarantined(sessions)
    assert location == "agencies.csv:2"
    assert reason.startswith("id: agency 'a-pd' is in [[agencies]] of the configuration too")
    assert sync(settings_for(tmp_path, **files), sessions, now).ok
    a = agencies(sessions)["a-pd"]
    assert (a.name, a.region, a.managed_by) == ("A Police Department", "North", "agencies")


def test_two_files_cannot_both_state_an_agency(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "agencies.csv").write_text(HEADER + A_PD)
    (tmp_path / "more.csv").write_text(HEADER + A_PD.replace("North", "West") + B_SO)
    raw = {
        "sources": [
            {"name": name, "kind": "csv", "role": "agencies", "path": f"{file}.csv"}
            for name, file in (("agencies", "agencies"), ("more-agencies", "more"))
        ]
    }
    assert sync(parse_settings(raw, tmp_path / "onemind.toml", environ={}), sessions, now).ok
    assert agencies(sessions)["a-pd"].region == "North"
    [(location, reason)] = quarantined(sessions)
    assert location == "more.csv:2"
    assert "listed by source 'agencies' too" in reason


def test_an_attestations_file_is_loaded_once_and_audited_once(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = settings_for(tmp_path, agencies=HEADER + A_PD, attestations=ATTESTATIONS)
    for full in (False, False, True):
        assert sync(settings, sessions, now, full=full).ok
    with sessions() as session:
        rows = session.execute(
            select(Attestation.kind, Attestation.evidence, Attestation.recorded_by).order_by(
                Attestation.kind
            )
        )
        assert list(rows) == [
            ("partnership", "MOU with county mental health (mou.pdf)", "Chief Lee"),
            ("policy", "https://a.example/policy", "source:attestations"),
        ]
    assert audited(sessions, "attestation.record") == [
        ("Chief Lee", "a-pd"),
        ("source:attestations", "a-pd"),
    ]
    revised = ATTESTATIONS.replace("/policy", "/policy-v2")
    assert sync(
        settings_for(tmp_path, agencies=HEADER + A_PD, attestations=revised), sessions, now
    ).ok
    assert len(audited(sessions, "attestation.record")) == 3


def test_bad_attestation_rows_are_quarantined_with_their_line_and_field(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    rows = "x-pd,policy,2025-01-01,,\na-pd,charter,2025-01-01,,\na-pd,policy,soon,,\n"
    files = {"agencies": HEADER + A_PD, "attestations": ATTESTATIONS + rows}
    [_, attestations] = sync(settings_for(tmp_path, **files), sessions, now).results
    assert "3 of 5 record(s) quarantined" in (attestations.error or "")
    assert quarantined(sessions) == [
        (
            "attestations.csv:4",
            "agency: unknown agency 'x-pd': list it in an agencies file or in [[agencies]]",
        ),
        ("attestations.csv:5", "kind: 'charter' is not partnership or policy"),
        ("attestations.csv:6", "attested_on: 'soon' is not a date (YYYY-MM-DD)"),
    ]


def test_attestations_from_a_file_change_the_status_once(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    files = {
        "agencies": HEADER + A_PD,
        "roster": ROSTER.replace("b-so", "a-pd").replace(",1,Cy", ",3,Cy"),
        "completions": COMPLETIONS,
    }
    files["completions"] += (
        ",cy@b.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01\n"
    )
    before = sync(settings_for(tmp_path, **files), sessions, now)
    assert [r.status for r in before.reports] != ["complete"]
    for _ in range(2):
        outcome = sync(settings_for(tmp_path, **files, attestations=ATTESTATIONS), sessions, now)
        assert [r.status for r in outcome.reports] == ["complete"]
    with sessions() as session:
        changes = session.execute(select(AgencyStatusChange.agency_id, AgencyStatusChange.after))
        assert list(changes) == [("a-pd", "complete")]
        assert list(status_notices(session)) == ["a-pd"]
    gone = {**files, "agencies": HEADER + B_SO, "attestations": ATTESTATIONS}
    assert [r.agency for r in sync(settings_for(tmp_path, **gone), sessions, now).reports] == [
        "b-so"
    ]
    with sessions() as session:
        assert "a-pd" not in status_notices(session)  # told when it is back


def test_an_agencies_workbook_is_read_like_a_csv_file(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ID", "Name", "Pledged", "Region"])
    sheet.append(["a-pd", "A Police Department", datetime(2025, 1, 15), "North"])
    workbook.save(tmp_path / "agencies.xlsx")
    source = {
        "name": "agencies",
        "kind": "xlsx",
        "role": "agencies",
        "path": "agencies.xlsx",
        "columns": {"id": "ID", "name": "Name", "pledged_on": "Pledged"},
    }
    settings = parse_settings({"sources": [source]}, tmp_path / "onemind.toml", environ={})
    assert sync(settings, sessions, now).ok
    a = agencies(sessions)["a-pd"]
    assert (a.name, a.pledged_on, a.region, a.active) == (
        "A Police Department",
        date(2025, 1, 15),
        "North",
        True,
    )


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"role": "agencies", "agency": "a-pd"}, "an agencies file lists agencies"),
        ({"role": "agencies", "columns": {"agency": "A"}}, "agency not among the agencies fields"),
        ({"role": "attestations", "columns": {"id": "A"}}, "id not among the attestations fields"),
    ],
)
def test_agencies_and_attestation_sources_are_checked_when_loaded(
    source: dict[str, Any], problem: str, tmp_path: Path
) -> None:
    raw = {"sources": [{"name": "file", "kind": "csv", "path": "file.csv", **source}]}
    with pytest.raises(ConfigurationError, match=problem):
        parse_settings(raw, tmp_path / "onemind.toml", environ={})


def test_a_source_may_name_an_agency_only_an_agencies_file_lists(tmp_path: Path) -> None:
    roster = {"name": "roster", "kind": "csv", "role": "roster", "path": "r.csv", "agency": "x-pd"}
    listing = {"name": "agencies", "kind": "csv", "role": "agencies", "path": "a.csv"}
    with pytest.raises(ConfigurationError, match="agency 'x-pd' is not in"):
        parse_settings({"sources": [roster]}, tmp_path / "onemind.toml", environ={})
    settings = parse_settings({"sources": [roster, listing]}, tmp_path / "o.toml", environ={})
    assert [s.name for s in settings.sources] == ["roster", "agencies"]
