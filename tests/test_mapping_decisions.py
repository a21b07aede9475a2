"""Deciding the review queue on both backends: by title, by key, in bulk, and only once."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from test_mapping_workflow import settings

from onemind.domain.rules import Rule
from onemind.mapping import changes, decisions
from onemind.mapping.catalogue import review_groups, title_group, title_pattern
from onemind.store.models import AuditEntry, Course, MappingRule
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cy,Orr,cy@a.example,true,Officer,,2020-01-01,
a-pd,4,Dee,Ng,dee@a.example,false,Dispatcher,,2020-01-01,
b-pd,7,Di,Fox,di@b.example,true,Officer,,2020-01-01,
"""
# One course under four ids (as a 200,000-row export gives it), titled four ways that differ
# only in case and punctuation; two courses whose suggestions are confident (0.92 and 0.90);
# one unrelated course.
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
,ann@a.example,RCRA-1,Regional Crisis Response Academy,,40,2024-03-01,
,bob@a.example,RCRA-2,regional crisis-response academy,,40,2024-03-01,
,cy@a.example,RCRA-3,Regional Crisis Response Academy.,,40,2024-03-01,
,di@b.example,RCRA-4,REGIONAL  CRISIS RESPONSE ACADEMY,,40,2024-03-01,
,ann@a.example,CRAIT,Crisis Response & Intervention Training,,40,2024-05-01,
,dee@a.example,TCIT-1,TCIT,,16,2024-05-01,
,cy@a.example,FQ,Firearms Qualification,,8,2024-03-01,
,bob@a.example,FQ,Firearms Qualification,,8,2024-03-01,
"""


@pytest.fixture
def synced(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> sessionmaker[Session]:
    SyncRunner(settings(tmp_path, ROSTER, COMPLETIONS), sessions, lambda: now).run(as_of=AS_OF)
    return sessions


def rule_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MappingRule)) or 0


def course_id(session: Session, key: str) -> int:
    return session.scalars(select(Course.id).where(Course.course_key == key)).one()


@pytest.mark.parametrize(
    ("title", "same"),
    [
        ("regional crisis-response academy", True),
        ("Regional Crisis Response Academy.", True),
        ("  REGIONAL  CRISIS   RESPONSE ACADEMY ", True),
        ("Regional Crisis Response Academy II", False),
        ("Regional Crisis ResponseAcademy", False),
    ],
)
def test_a_title_pattern_matches_exactly_its_group(title: str, same: bool) -> None:
    pattern = title_pattern("Regional Crisis Response Academy")
    assert (Rule(1, "title", pattern, "cit").regex.search(title) is not None) is same
    assert (title_group(title) == title_group("Regional Crisis Response Academy")) is same


def test_the_queue_shows_one_row_per_title_with_its_keys(synced: sessionmaker[Session]) -> None:
    with synced() as session:
        groups = review_groups(session)
    rows = [(len(g.courses), g.completions, g.people, g.agencies) for g in groups]
    assert rows[0] == (4, 4, 4, 2)
    assert sorted(groups[0].keys) == [f"academy:RCRA-{n}" for n in range(1, 5)]
    assert [title_group(g.title) for g in groups] == [
        "regional crisis response academy",
        "firearms qualification",
        "crisis response intervention training",
        "tcit",
    ]
    assert groups[1].to_json()["keys"] == ["academy:FQ"]
    assert groups[1].people == 2 and groups[1].completions == 2


def test_approving_a_title_decides_every_course_of_it_with_one_rule(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        before = rule_count(session)
        chosen = decisions.by_title(session, "Regional Crisis Response Academy", "cit")
        report = changes.decide(session, [chosen], "state CIT", "staff", now, AS_OF)
        assert rule_count(session) == before + 1
    assert len(report.rule_ids) == 1 and report.reclassified_courses == 4
    assert report.agencies["a-pd"][1].sworn_crisis == 3
    assert report.agencies["b-pd"][1].sworn_crisis == 1
    with synced() as session:
        left = [title_group(g.title) for g in review_groups(session)]
    assert "regional crisis response academy" not in left


def test_an_unknown_title_or_key_says_what_there_is(synced: sessionmaker[Session]) -> None:
    with synced() as session:
        with pytest.raises(changes.InvalidRuleError, match="did you mean 'Firearms Qual"):
            decisions.by_title(session, "Firearm Qualification", "cit")
        with pytest.raises(changes.InvalidRuleError, match="give SOURCE:KEY"):
            decisions.by_key(session, "FQ", None)
        with pytest.raises(changes.InvalidRuleError, match=r"sources: academy, roster"):
            decisions.by_key(session, "lms:FQ", None)


def test_the_same_decision_again_changes_nothing_and_says_so(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        fq = course_id(session, "FQ")
        first = changes.approve(session, fq, None, "not crisis training", "staff", now, AS_OF)
        count = rule_count(session)
        again = changes.approve(session, fq, None, "not crisis training", "staff", now, AS_OF)
        by_key = changes.decide(
            session, [decisions.by_key(session, "academy:FQ", None)], "r", "staff", now, AS_OF
        )
        assert rule_count(session) == count
        rejections = session.scalar(
            select(func.count()).where(AuditEntry.action == "mapping.reject")
        )
    assert (first.rule_ids, again.rule_ids, by_key.rule_ids) == ([first.rule_id], [], [])
    assert again.rule_id == first.rule_id and again.reclassified_courses == 0
    assert again.unchanged == [
        f"course #{fq} (academy:FQ): rule #{first.rule_id} already says not-qualifying"
    ]
    assert rejections == 1


def test_a_changed_mind_edits_the_approval_instead_of_adding_a_rival(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        crait = course_id(session, "CRAIT")
        rejected = changes.approve(session, crait, None, "unsure", "staff", now, AS_OF)
        approved = changes.approve(session, crait, "crit", "it is CRIT", "staff", now, AS_OF)
        rule = session.get_one(MappingRule, rejected.rule_id)
        assert (rule.category_id, rule.version, rule.active) == ("crit", 2, True)
    assert approved.rule_ids == [rejected.rule_id]
    assert approved.agencies["a-pd"][1].sworn_crisis == 1


def test_every_confident_suggestion_is_approved_in_one_change(
    synced: sessionmaker[Session], now: datetime
) -> None:
    with synced.begin() as session:
        chosen = decisions.suggested(session, 0.9)
        report = changes.decide(session, chosen, "reviewed the list", "staff", now, AS_OF)
        categories = dict(
            session.execute(
                select(MappingRule.pattern, MappingRule.category_id).where(
                    MappingRule.id.in_(report.rule_ids)
                )
            ).all()
        )
    assert [d.subject for d in chosen] == [
        "title 'Crisis Response & Intervention Training' (suggested crit 0.92)",
        "title 'TCIT' (suggested dispatch-crisis 0.90)",
    ]
    assert sorted(categories.values()) == ["crit", "dispatch-crisis"]
    assert report.agencies["a-pd"][0].nonsworn_trained == 0
    assert report.agencies["a-pd"][1].nonsworn_trained == 1
    assert report.agencies["a-pd"][1].sworn_crisis == 1


@pytest.mark.parametrize(
    ("limits", "by_hours", "by_dates"),
    [
        ({"min_hours": 50}, 4, 0),
        ({"effective_from": date(2025, 1, 1)}, 0, 4),
        ({"min_hours": 8}, 0, 0),
    ],
)
def test_a_rule_says_which_matching_courses_its_hours_or_dates_left_out(
    synced: sessionmaker[Session],
    now: datetime,
    limits: dict[str, Any],
    by_hours: int,
    by_dates: int,
) -> None:
    spec = changes.RuleSpec("title", "crisis.response academy", "cit", "r", "staff", **limits)
    with synced.begin() as session:
        report = changes.add_rule(session, spec, now, AS_OF)
    assert (report.excluded.by_hours, report.excluded.by_dates) == (by_hours, by_dates)
    assert report.to_json()["excluded_courses"] == {"by_hours": by_hours, "by_dates": by_dates}
