"""The mapping workflow on both backends: queue, safe changes, dry runs, sharing, explaining."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from snapshot import dump
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.errors import ConfigurationError
from onemind.mapping import changes, exchange
from onemind.mapping.catalogue import review_queue
from onemind.store.explain import explain_person, find_person
from onemind.store.models import AuditEntry, Completion, Course
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cy,Orr,cy@a.example,true,Officer,,2020-01-01,
b-pd,7,Di,Fox,di@b.example,true,Officer,,2020-01-01,
b-pd,8,Ed,Kim,ed@b.example,true,Officer,,2020-01-01,
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
,ann@a.example,SCIA-40,State Crisis Intervention Academy,State POST,40,2024-03-01,
,bob@a.example,SCIA-40,State Crisis Intervention Academy,State POST,40,2024-03-01,
,di@b.example,SCIA-40,State Crisis Intervention Academy,State POST,40,2024-03-01,
,cy@a.example,FQ,Firearms Qualification,State POST,8,2024-03-01,
,ann@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-03-01,
"""


def settings(tmp_path: Path, roster: str = ROSTER, completions: str = COMPLETIONS) -> Settings:
    """Two agencies, a roster and an academy's completions file."""
    (tmp_path / "roster.csv").write_text(roster)
    (tmp_path / "completions.csv").write_text(completions)
    raw = {
        "agencies": [{"id": "a-pd", "name": "A"}, {"id": "b-pd", "name": "B"}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {"name": "academy", "kind": "csv", "role": "completions", "path": "completions.csv"},
        ],
    }
    return parse_settings(raw, tmp_path / "onemind.toml")


@pytest.fixture
def synced(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> sessionmaker[Session]:
    SyncRunner(settings(tmp_path), sessions, lambda: now).run(as_of=AS_OF)
    return sessions


def course_id(session: Session, key: str) -> int:
    return session.scalars(select(Course.id).where(Course.course_key == key)).one()


def test_queue_lists_unmapped_courses_by_people_affected(synced: sessionmaker[Session]) -> None:
    with synced() as session:
        queue = review_queue(session)
    assert [(q.course_key, q.people, q.agencies) for q in queue] == [
        ("SCIA-40", 3, 2),
        ("FQ", 1, 1),
    ]
    best = queue[0].suggestions[0]
    assert (best.category, best.high_confidence) == ("crisis-equivalent", False)
    assert queue[1].suggestions == []


def test_approving_a_course_moves_exactly_its_people(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        report = changes.approve(
            session,
            course_id(session, "SCIA-40"),
            "crisis-equivalent",
            "state 40-hour CIT-equivalent curriculum",
            "staff",
            now,
            AS_OF,
        )
    assert sorted(p.name for p in report.people) == ["Ann Lee", "Bob Ray", "Di Fox"]
    assert {p.name: (p.before, p.after) for p in report.people}["Ann Lee"] == ("mh", "crisis+mh")
    a_before, a_after = report.agencies["a-pd"]
    assert (a_before.sworn_crisis, a_after.sworn_crisis) == (0, 2)
    assert (a_before.sworn_trained, a_after.sworn_trained) == (1, 2)
    assert report.agencies["b-pd"][1].sworn_crisis == 1
    with synced() as session:
        assert [q.course_key for q in review_queue(session)] == ["FQ"]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "mapping.approve"))
        entry = audit.one()
    assert entry.actor == "staff"
    assert entry.details["agencies_changed"] == ["a-pd", "b-pd"]


def test_retiring_the_rule_moves_them_back_and_classifications_name_the_version(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        added = changes.approve(
            session,
            course_id(session, "SCIA-40"),
            "crisis-equivalent",
            "approved",
            "staff",
            now,
            AS_OF,
        )
        edited = changes.edit_rule(
            session, added.rule_id, {"category": "cit"}, "it is CIT", "staff", now, AS_OF
        )
        versions = set(
            session.scalars(
                select(Completion.rule_version).where(Completion.rule_id == added.rule_id)
            )
        )
        retired = changes.retire_rule(session, added.rule_id, "mistake", "staff", now, AS_OF)
    assert edited.people == [] and edited.reclassified_courses == 1
    assert versions == {2}
    assert sorted(p.name for p in retired.people) == ["Ann Lee", "Bob Ray", "Di Fox"]
    assert retired.agencies["a-pd"][1].sworn_crisis == 0


def test_dry_run_changes_nothing(
    synced: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    before = dump(engine)
    with synced() as session:
        session.begin()
        report = changes.approve(
            session, course_id(session, "SCIA-40"), "cit", "try", "staff", now, AS_OF
        )
        session.rollback()
    assert len(report.people) == 3
    assert dump(engine) == before


def test_bad_rules_are_refused_with_every_reason(
    synced: sessionmaker[Session], now: datetime
) -> None:
    spec = changes.RuleSpec(
        "title",
        "(unclosed",
        "cpr",
        " ",
        "staff",
        source="nope",
        effective_from=date(2025, 1, 1),
        effective_until=date(2024, 1, 1),
    )
    with synced.begin() as session, pytest.raises(changes.InvalidRuleError) as caught:
        changes.add_rule(session, spec, now, AS_OF)
    message = str(caught.value)
    for expected in (
        "not a valid regular expression",
        "unknown category 'cpr'",
        "unknown source 'nope'",
        "effective_from must be before",
        "reason",
    ):
        assert expected in message


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_export_import_round_trip_and_conflicts(
    fmt: str, synced: sessionmaker[Session], now: datetime, tmp_path: Path
) -> None:
    with synced.begin() as session:
        changes.approve(
            session, course_id(session, "SCIA-40"), "crisis-equivalent", "ok", "staff", now, AS_OF
        )
        exported = exchange.export_rules(session)
    path = tmp_path / f"rules.{fmt}"
    path.write_text(exchange.dump(exported, fmt))
    loaded = exchange.load(path)
    with synced.begin() as session:
        again = exchange.import_rules(session, loaded, path.name, "other", now, AS_OF)
    assert (again.added, again.unchanged, again.conflicts) == ([], len(exported), [])
    if fmt == "csv":
        rows = list(csv.DictReader(path.open()))
        rows[0]["category"] = "cit"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=exchange.FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        with synced.begin() as session:
            clash = exchange.import_rules(
                session, exchange.load(path), "x.csv", "other", now, AS_OF
            )
            kept = exchange.export_rules(session)[0]["category"]
        [conflict] = clash.conflicts
        assert conflict.startswith(
            "row 1 of rules.csv (line 2), course_key 'SCIA-40': stored rule #"
        )
        assert "yields crisis-equivalent at priority 1000, the file says cit" in conflict
        assert kept == "crisis-equivalent"


def test_import_into_an_empty_store_reproduces_the_rules(
    synced: sessionmaker[Session], now: datetime, tmp_path: Path
) -> None:
    new_rule = {
        "match": "course_key",
        "pattern": "SCIA-40",
        "category": "crisis-equivalent",
        "source": "academy",
        "priority": 900,
        "reason": "shared by another academy",
        "author": "Ohio academy",
    }
    with synced.begin() as session:
        report = exchange.import_rules(
            session, [exchange.FileRule("rule 1", new_rule)], "shared.yaml", "staff", now, AS_OF
        )
        count = session.scalar(
            select(func.count())
            .select_from(Completion)
            .where(Completion.category_id == "crisis-equivalent")
        )
    assert len(report.added) == 1
    assert count == 3


def test_explain_person_across_agencies(synced: sessionmaker[Session]) -> None:
    with synced() as session:
        person = find_person(session, "ANN@a.example")
        [part] = explain_person(session, person, AS_OF)
        with pytest.raises(ConfigurationError, match="no person"):
            find_person(session, "nobody")
    assert (part.agency, part.in_population, part.person.trained) == ("a-pd", True, True)
    verdicts = sorted(n.verdict for n in part.person.notes)
    assert verdicts[0] == "counts: mhfa (mh tier, rule #5)" or verdicts[0].startswith(
        "counts: mhfa"
    )
    assert "course not mapped to any category" in verdicts
