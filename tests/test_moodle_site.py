"""The Moodle source against what a real Moodle 5.1 answered a restricted web-service user
(issue 13): courses without criteria, hidden profile fields, ended enrolments, push-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from fixtures.moodle.fake import URL, body, connector, enrolled, reply, runner, sent, status
from responses.registries import OrderedRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.connectors.moodle_ws import capabilities
from onemind.domain.records import Checkpoint, CompletionRecord, CredentialNotice, Rejected, Skipped
from onemind.errors import InvalidRecordError
from onemind.store.history import recent_runs
from onemind.store.models import Completion, Source

COURSES = "core_course_get_courses_by_field"
OVERRIDE = "core_completion_override_activity_completion_status"
ACTIVITIES = "core_completion_get_activities_completion_status"
NOTICE = CredentialNotice(
    credential_id="cred-mh",
    category="mhfa",
    achievement_name="Mental Health First Aid (MHFA)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann.lee@springfield.example",
    employee_id="SPD-0101",
)


def stored_cursor(sessions: sessionmaker[Session]) -> Any:
    with sessions() as session:
        return session.scalars(select(Source.cursor).where(Source.name == "moodle")).one()


def serve_course_15() -> None:
    enrolled(15, 0, "enrolled_users_15_page1")
    status(15, 101, "status_complete_any")
    enrolled(15, 2, "enrolled_users_none")


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_course_without_completion_criteria_is_passed_over_with_a_warning_on_an_ok_run(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(12, 0, "enrolled_users_12_page1")
    status(12, 101, "error_nocriteriaset")
    status(12, 102, "error_nocriteriaset")
    serve_course_15()
    outcome = runner(tmp_path, sessions, now).run(as_of=date(2026, 11, 26))
    result = outcome.results[0]
    assert result.ok and result.error is None
    assert result.warnings == [
        "course 12 (CIT-40): passed over: Moodle reports no completion for it (nocriteriaset: "
        "No completion criteria set for this course); give the course completion criteria"
    ]
    assert result.stats.new == 1  # course 15's completion arrived
    assert stored_cursor(sessions) == {"version": 1, "route": "status", "done": []}
    with sessions() as session:
        [run] = recent_runs(session)
    assert (run.status, run.warnings) == ("succeeded", result.warnings)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_the_cursor_moves_past_a_course_without_criteria() -> None:
    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(12, 0, "enrolled_users_12_page1")
    status(12, 101, "error_nocriteriaset")
    status(12, 102, "error_nocriteriaset")
    serve_course_15()
    moodle, _ = connector(concurrency=1)
    items = list(moodle.pull({"version": 1, "route": "status", "done": [2, 3, 4]}))
    assert [type(i).__name__ for i in items] == [
        "Skipped",
        "Checkpoint",
        "CompletionRecord",
        "Checkpoint",
        "Checkpoint",
    ]
    assert items[1] == Checkpoint({"version": 1, "route": "status", "done": [2, 3, 4, 12]})


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_without_viewalldetails_people_come_without_username_and_the_unidentified_are_quarantined() -> (
    None
):
    reply(COURSES, fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_12_restricted")
    status(12, 101, "status_complete_all")
    status(12, 102, "status_complete_any")
    enrolled(12, 2, "enrolled_users_none")
    moodle, _ = connector(course_ids=[12], concurrency=1)
    items = list(moodle.pull(None))
    found = [i for i in items if isinstance(i, CompletionRecord)]
    assert [(r.external_id, r.email, r.employee_id) for r in found] == [
        ("moodle:12:id101", "ann.lee@springfield.example", None)
    ]
    assert found[0].account == "https://moodle.example|101"
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [r.location for r in rejected] == ["course 12 user 102"]
    assert "neither idnumber nor email" in rejected[0].reason
    assert "moodle/user:viewalldetails" in rejected[0].reason


def test_check_names_viewalldetails_when_moodle_hides_usernames() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(URL, json=body("site_info"), match=[_function("core_webservice_get_site_info")])
        mock.post(URL, json=body("courses_12"), match=[_function(COURSES)])
        mock.post(
            URL,
            json=body("enrolled_users_12_restricted")[:1],
            match=[_function("core_enrol_get_enrolled_users")],
        )
        moodle, _ = connector(course_ids=[12])
        [problem] = moodle.check().problems
    assert problem.endswith("give it moodle/user:viewalldetails")


def _function(name: str) -> Any:
    def match(request: Any) -> tuple[bool, str]:
        return sent(request).get("wsfunction") == name, name

    return match


def test_each_route_lists_every_capability_it_needs() -> None:
    by_user, _ = connector()
    assert capabilities(by_user.functions()) == [
        "webservice/rest:use",
        "moodle/course:view",
        "moodle/course:viewparticipants",
        "moodle/role:review",
        "moodle/user:viewalldetails",
        "report/completion:view",
    ]
    pushing, _ = connector(report_id=7, certification_cmid=301)
    needed = capabilities(pushing.functions())
    for capability in (
        "moodle/reportbuilder:view",
        "moodle/user:viewdetails",
        "report/progress:view",
        "moodle/course:overridecompletion",
    ):
        assert capability in needed


@responses.activate(assert_all_requests_are_fired=True)
def test_a_push_that_finds_no_one_names_the_permission_that_may_be_missing() -> None:
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    reply("core_user_get_users_by_field", answer=[], field="idnumber", values=["SPD-0101"])
    moodle, _ = connector(certification_cmid=301)
    with pytest.raises(InvalidRecordError) as caught:
        moodle.push(NOTICE)
    message = str(caught.value)
    assert "0 Moodle users with idnumber 'SPD-0101' visible to the token's user" in message
    assert "moodle/user:viewdetails or moodle/user:viewalldetails" in message


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_email_lookup_ignores_case_and_the_likeness_of_underscores() -> None:
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    reply(
        "core_user_get_users",
        fixture="users_by_email",
        criteria=[{"key": "email", "value": "bo_ray@springfield.example"}],
    )
    reply(ACTIVITIES, fixture="activities_complete", courseid=20, userid=102)
    moodle, _ = connector(certification_cmid=301, employee_id_field="email")
    bo = replace(NOTICE, employee_id=None, email="bo_ray@springfield.example")
    assert moodle.push(bo) == "moodle:cm301:user102"


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_push_finds_the_person_by_the_account_the_pull_recorded_without_a_lookup() -> None:
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    reply(ACTIVITIES, fixture="activities_incomplete", courseid=20, userid=101)
    reply(OVERRIDE, fixture="override_complete", userid=101, cmid=301, newstate=1)
    moodle, _ = connector(certification_cmid=301)
    known = replace(NOTICE, accounts=("https://moodle.example|101",))
    assert moodle.push(known) == "moodle:cm301:user101"


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_withdrawing_one_credential_keeps_the_activity_complete_while_another_stands() -> None:
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    for _ in range(2):
        reply("core_user_get_users_by_field", fixture="users_by_field", field="idnumber")
        reply(ACTIVITIES, fixture="activities_complete", courseid=20, userid=101)
    reply(OVERRIDE, fixture="override_incomplete", userid=101, cmid=301, newstate=0)
    moodle, _ = connector(certification_cmid=301)
    still_crisis = replace(NOTICE, others_valid=("cred-crisis",))
    assert moodle.revoke(still_crisis) == "moodle:cm301:user101"
    assert moodle.revoke(NOTICE) == "moodle:cm301:user101"  # the last one: now incomplete
    functions = [sent(c.request)["wsfunction"] for c in responses.calls]
    assert functions.count(OVERRIDE) == 1


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_an_ended_enrolment_warns_and_keeps_what_was_stored(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    sync = runner(tmp_path, sessions, now)
    for answer in ("status_complete_all", "error_usernotenroled"):
        reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
        enrolled(12, 0, "enrolled_users_15_page1")
        status(12, 101, answer)
        enrolled(12, 2, "enrolled_users_none")
        serve_course_15()
        outcome = sync.run(as_of=date(2026, 11, 26))
        assert outcome.ok
    assert outcome.results[0].warnings == [
        "course 12 user 101: Moodle no longer reports this person's completion (usernotenroled: "
        "their enrolment is suspended or ended); what was stored before is kept"
    ]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_an_ended_enrolment_is_a_warning_not_a_quarantine() -> None:
    reply(COURSES, fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_15_page1")
    status(12, 101, "error_usernotenroled")
    enrolled(12, 2, "enrolled_users_none")
    moodle, _ = connector(course_ids=[12])
    items = list(moodle.pull(None))
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("course 12 user 101", items[0].reason)
    ]
    assert not [i for i in items if isinstance(i, Rejected)]


def test_the_report_route_asks_for_a_weekly_full_read_to_catch_backdated_completions() -> None:
    assert connector(report_id=7)[0].full_pass_every(None) == timedelta(days=7)
    assert connector()[0].full_pass_every(None) is None
