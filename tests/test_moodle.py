"""The Moodle source against Moodle's documented Web Services behaviour, and its faults."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from fixtures.moodle.fake import (
    URL,
    body,
    connector,
    enrolled,
    reply,
    sent,
    serve_two_courses,
    status,
    ws,
)
from fixtures.moodle.fake import runner as sync_runner
from responses.registries import OrderedRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import parse_settings
from onemind.connectors.moodle import MoodleConnector
from onemind.connectors.moodle_ws import form_fields
from onemind.connectors.registry import build_connector
from onemind.domain.records import Checkpoint, CompletionRecord, CredentialNotice, Rejected
from onemind.errors import ConfigurationError, InvalidRecordError, SourceError, TransientError
from onemind.store.models import Completion, Source

COURSES = "core_course_get_courses_by_field"
STATUS = "core_completion_get_course_completion_status"
REPORT = "core_reportbuilder_retrieve_report"
FILTERS = "core_reportbuilder_set_filters"


def records(items: list[Any]) -> list[CompletionRecord]:
    return [i for i in items if isinstance(i, CompletionRecord)]


def cursors(items: list[Any]) -> list[dict[str, Any]]:
    return [i.cursor for i in items if isinstance(i, Checkpoint)]


def test_arrays_are_form_encoded_the_php_way() -> None:
    fields = list(form_fields({"courses": [{"id": 3, "visible": True}], "values": ["a@b.c"]}))
    assert fields == [("courses[0][id]", "3"), ("courses[0][visible]", "1"), ("values[0]", "a@b.c")]


@responses.activate(assert_all_requests_are_fired=True)
def test_pages_of_people_give_completions_dated_by_their_criteria_in_the_source_zone() -> None:
    serve_two_courses()
    moodle, _ = connector()
    items = list(moodle.pull(None))
    found = records(items)
    assert [(r.external_id, r.completed_on) for r in found] == [
        ("moodle:12:alee", date(2026, 3, 1)),  # all criteria: the last one, in Chicago
        ("moodle:12:corr", date(2026, 1, 1)),  # any criterion: the first one
        ("moodle:15:alee", date(2026, 1, 1)),
    ]
    ann = found[0]
    assert (ann.course_key, ann.course_title) == (
        "moodle:12",
        "Crisis Intervention Team (40 h) & de-escalation",
    )
    assert (ann.employee_id, ann.email, ann.location) == (
        "SPD-0101",
        "ann.lee@springfield.example",
        "course 12 user 101",
    )
    assert found[1].employee_id is None  # a blank idnumber identifies nobody
    assert cursors(items) == [
        {"version": 1, "route": "status", "done": [12]},
        {"version": 1, "route": "status", "done": [12, 15]},
        {"version": 1, "route": "status", "done": []},
    ]
    assert isinstance(items[-1], Checkpoint)


@responses.activate(assert_all_requests_are_fired=True)
def test_the_employee_id_can_come_from_a_custom_profile_field() -> None:
    reply(COURSES, fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_15_page1")
    enrolled(12, 2, "enrolled_users_none")
    status(12, 101, "status_complete_all")
    moodle, _ = connector(course_ids=[12], employee_id_field="profile:badge")
    assert [r.employee_id for r in records(list(moodle.pull(None)))] == ["B101"]


@responses.activate(assert_all_requests_are_fired=True)
def test_a_rerun_resumes_after_the_courses_done_and_a_finished_pass_starts_over() -> None:
    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(15, 0, "enrolled_users_15_page1")
    enrolled(15, 2, "enrolled_users_none")
    status(15, 101, "status_complete_any")
    moodle, _ = connector()
    resumed = list(moodle.pull({"version": 1, "route": "status", "done": [12]}))
    assert [r.external_id for r in records(resumed)] == ["moodle:15:alee"]
    assert cursors(resumed)[-1] == {"version": 1, "route": "status", "done": []}
    assert not any(
        "courseid" in sent(c.request) and sent(c.request)["courseid"] == "12"
        for c in responses.calls
    )


@responses.activate(assert_all_requests_are_fired=True)
def test_a_full_rerun_yields_the_same_records_again() -> None:
    serve_two_courses()
    serve_two_courses()
    moodle, _ = connector()
    first = list(moodle.pull(None))
    second = list(moodle.pull(first[-1].cursor))
    assert [r.external_id for r in records(second)] == [r.external_id for r in records(first)]


@pytest.mark.parametrize(
    ("fixture", "error", "message"),
    [
        ("error_invalidtoken", ConfigurationError, "refused the token (invalidtoken)"),
        (
            "error_accessexception",
            ConfigurationError,
            "add core_course_get_courses_by_field to the token's external service",
        ),
        ("error_nopermissions", ConfigurationError, "lacks a capability (nopermissions"),
        ("error_invalidparameter", SourceError, "Missing required key in single structure"),
        ("error_sitemaintenance", TransientError, "the site is unavailable (sitemaintenance"),
        ("error_invalidrecord", ConfigurationError, "(invalidrecord); fix it"),
        ("error_cannotviewreport", ConfigurationError, "lacks a capability (cannotviewreport"),
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_error_bodies_sent_with_http_200_become_the_error_tree(
    fixture: str, error: type[Exception], message: str
) -> None:
    reply(COURSES, fixture=fixture)
    moodle, slept = connector()
    with pytest.raises(error) as caught:
        list(moodle.pull(None))
    assert message in str(caught.value)
    assert "source 'academy-moodle'" in str(caught.value)
    assert "t0ken" not in str(caught.value)
    assert slept == [] and len(responses.calls) == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_a_missing_capability_names_the_function_and_what_it_needs() -> None:
    reply(COURSES, fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_15_page1")
    status(12, 101, "error_nopermissions")
    moodle, _ = connector(course_ids=[12])
    with pytest.raises(ConfigurationError, match=f"{STATUS} for course 12.*report/completion:view"):
        list(moodle.pull(None))


@responses.activate(assert_all_requests_are_fired=True)
def test_person_level_refusals_are_skipped_or_quarantined_and_the_course_goes_on() -> None:
    reply(COURSES, fixture="courses_12", field="ids", value="12")
    enrolled(12, 0, "enrolled_users_12_page1")
    enrolled(12, 2, "enrolled_users_12_page2")
    enrolled(12, 4, "enrolled_users_none")
    status(12, 101, "error_usernotenroled")
    status(12, 102, "error_suspended")
    status(12, 103, "status_complete_no_time")
    moodle, _ = connector(course_ids=[12])
    items = list(moodle.pull(None))
    assert [(i.location, i.reason) for i in items if isinstance(i, Rejected)] == [
        (
            "course 12 user 102",
            "Moodle refused the status (suspended): Your account has been suspended.",
        ),
        ("course 12 user 103", "complete, but no criterion carries a completion time"),
    ]
    assert records(items) == []


@responses.activate(assert_all_requests_are_fired=True)
def test_write_calls_that_answer_null_or_nothing_succeed() -> None:
    responses.post(URL, body="null", match=[ws(FILTERS, reportid=7)])
    responses.post(URL, body="", match=[ws(FILTERS, reportid=8)])
    moodle, _ = connector()
    assert moodle.ws.call(FILTERS, reportid=7, values="{}") is None
    assert moodle.ws.call(FILTERS, reportid=8, values="{}") is None


@responses.activate(assert_all_requests_are_fired=True)
def test_courses_that_do_not_track_completion_are_passed_over() -> None:
    untracked = body("courses_12")
    untracked["courses"][0]["enablecompletion"] = 0
    reply(COURSES, untracked, field="ids", value="12")
    moodle, _ = connector(course_ids=[12])
    assert list(moodle.pull(None)) == [Checkpoint({"version": 1, "route": "status", "done": []})]


@responses.activate(assert_all_requests_are_fired=True)
def test_unknown_courses_are_named_and_shortnames_and_categories_are_looked_up() -> None:
    reply(COURSES, fixture="courses_12", field="shortname", value="CIT-40")
    reply(COURSES, fixture="courses_none", field="shortname", value="GONE-1")
    reply(COURSES, fixture="courses_by_ids", field="category", value="4")
    moodle, _ = connector(course_ids=[], course_shortnames=["CIT-40", "GONE-1"], category_ids=[4])
    with pytest.raises(ConfigurationError, match="no course GONE-1 on the site"):
        moodle.courses()


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_proxy_throttling_and_5xx_are_retried_with_backoff() -> None:
    responses.post(URL, status=429, headers={"Retry-After": "4"})
    responses.post(URL, status=502)
    reply(COURSES, fixture="courses_none")
    moodle, slept = connector(course_ids=[99], max_retries=2)
    with pytest.raises(ConfigurationError, match="no course 99"):
        moodle.courses()
    assert slept[0] == 4 and len(slept) == 2


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_timeout_mid_run_comes_after_the_checkpoint_of_the_courses_done() -> None:
    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(12, 0, "enrolled_users_15_page1")
    status(12, 101, "status_complete_all")
    enrolled(12, 2, "enrolled_users_none")
    enrolled(15, 0, "enrolled_users_15_page1")
    responses.post(URL, body=requests.ConnectTimeout("slow"))
    responses.post(URL, body=requests.ConnectTimeout("slow"))
    moodle, slept = connector(concurrency=1)
    items = moodle.pull(None)
    assert isinstance(next(items), CompletionRecord)
    assert next(items) == Checkpoint({"version": 1, "route": "status", "done": [12]})
    with pytest.raises(TransientError, match="ConnectTimeout"):
        next(items)
    assert len(slept) == 1


def test_check_names_the_functions_the_external_service_lacks() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(URL, json=body("site_info"), match=[ws("core_webservice_get_site_info")])
        mock.post(URL, json=body("courses_by_ids"), match=[ws(COURSES)])
        people = body("enrolled_users_12_page1")[:1]
        mock.post(URL, json=people, match=[ws("core_enrol_get_enrolled_users", courseid=12)])
        assert connector()[0].check().ok
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(URL, json=body("site_info"), match=[ws("core_webservice_get_site_info")])
        moodle, _ = connector(report_id=7)
        [problem] = moodle.check().problems
    assert "core_reportbuilder_set_filters, core_reportbuilder_retrieve_report" in problem


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_report_route_reads_pages_of_formatted_rows_and_checkpoints_the_newest_time() -> None:
    reply(COURSES, fixture="courses_by_ids")
    reply(FILTERS, fixture="set_filters", reportid=7)
    reply(REPORT, fixture="report_page0", reportid=7, page=0, perpage=2)
    reply(REPORT, fixture="report_page1", reportid=7, page=1, perpage=2)
    moodle, _ = connector(report_id=7)
    items = list(moodle.pull(None))
    assert json.loads(sent(responses.calls[1].request)["values"]) == {
        "completion:timecompleted_operator": 1
    }
    assert [(r.external_id, r.completed_on, r.employee_id) for r in records(items)] == [
        ("moodle:12:alee", date(2026, 3, 2), "SPD-0101"),
        ("moodle:15:corr", date(2026, 3, 3), None),
    ]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [(r.location, r.reason) for r in rejected] == [
        ("report 7 row 4", "Time completed: 'next week' is not a date")
    ]
    assert cursors(items) == [
        {"version": 1, "route": "report", "completed_through": "2026-03-03T16:45:00-06:00"}
    ]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_report_route_rerun_filters_from_the_cursor_less_overlap_and_costs_three_calls() -> None:
    reply(COURSES, fixture="courses_by_ids")
    reply(FILTERS, fixture="set_filters", reportid=7)
    reply(REPORT, fixture="report_empty", reportid=7, page=0, perpage=2)
    moodle, _ = connector(report_id=7, report_overlap_hours=2)
    cursor = {"version": 1, "route": "report", "completed_through": "2026-03-03T16:45:00-06:00"}
    assert list(moodle.pull(cursor)) == [Checkpoint(cursor)]
    since = datetime(2026, 3, 3, 20, 45, tzinfo=UTC).timestamp()
    assert json.loads(sent(responses.calls[1].request)["values"]) == {
        "completion:timecompleted_operator": 3,
        "completion:timecompleted_from": int(since),
        "completion:timecompleted_to": 0,
    }
    assert len(responses.calls) == 3


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_report_without_the_needed_columns_is_a_configuration_error_listing_them() -> None:
    reply(COURSES, fixture="courses_by_ids")
    reply(FILTERS, fixture="set_filters")
    reply(REPORT, fixture="report_page0")
    moodle, _ = connector(report_id=7, report_columns={"username": "Login"})
    with pytest.raises(ConfigurationError, match=r"lacks column.*Login; found: Course short name"):
        list(moodle.pull(None))


NOTICE = CredentialNotice(
    credential_id="cred-1",
    category="cit",
    achievement_name="Crisis Intervention Team (CIT)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann.lee@springfield.example",
    employee_id="SPD-0101",
)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_push_twice_completes_the_activity_once_and_revoke_undoes_it() -> None:
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    for state in ("activities_incomplete", "activities_complete", "activities_complete"):
        reply(
            "core_user_get_users_by_field",
            fixture="users_by_field",
            field="idnumber",
            values=["SPD-0101"],
        )
        reply(
            "core_completion_get_activities_completion_status",
            fixture=state,
            courseid=20,
            userid=101,
        )
        if state == "activities_incomplete":
            reply(
                "core_completion_override_activity_completion_status",
                fixture="override_complete",
                userid=101,
                cmid=301,
                newstate=1,
            )
    reply(
        "core_completion_override_activity_completion_status",
        fixture="override_incomplete",
        userid=101,
        cmid=301,
        newstate=0,
    )
    moodle, _ = connector(certification_cmid=301)
    assert moodle.push(NOTICE) == moodle.push(NOTICE) == "moodle:cm301:user101"
    assert moodle.revoke(NOTICE) == "moodle:cm301:user101"
    functions = [sent(c.request)["wsfunction"] for c in responses.calls]
    assert functions.count("core_completion_override_activity_completion_status") == 2
    assert functions.count("core_course_get_course_module") == 1
    assert len(responses.calls) == 9


@responses.activate(assert_all_requests_are_fired=True)
def test_push_needs_a_configured_activity_with_completion_and_a_known_person() -> None:
    with pytest.raises(ConfigurationError, match="set certification_cmid"):
        connector()[0].push(NOTICE)
    reply("core_course_get_course_module", fixture="course_module", cmid=301)
    reply(
        "core_user_get_users",
        answer={"users": [], "warnings": []},
        criteria=[{"key": "email", "value": "x@y.example"}],
    )
    moodle, _ = connector(certification_cmid=301)
    stranger = CredentialNotice("c9", "mhfa", "MHFA", NOTICE.issued_at, "jwt", email="x@y.example")
    with pytest.raises(InvalidRecordError, match=r"0 Moodle users with email 'x@y\.example'"):
        moodle.push(stranger)


def test_a_token_written_in_plain_text_is_refused_and_an_env_reference_works(
    tmp_path: Path,
) -> None:
    source = {"name": "m", "kind": "moodle", "base_url": "https://m.example", "course_ids": [1]}
    raw = {"sources": [{**source, "token": "abc123"}]}
    with pytest.raises(ConfigurationError, match=r"sources\['m'\].token: secrets must be"):
        parse_settings(raw, tmp_path / "x.toml", environ={})
    raw = {"sources": [{**source, "token": "env:MOODLE_TOKEN"}]}
    settings = parse_settings(raw, tmp_path / "x.toml", environ={"MOODLE_TOKEN": "abc123"})
    assert isinstance(build_connector(settings.sources[0]), MoodleConnector)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"course_ids": []}, "name the courses"),
        ({"employee_id_field": "badge"}, "employee_id_field 'badge'"),
        ({"report_columns": {"user": "User"}}, "report_columns: user not among"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_settings_are_checked_at_load(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    source = {"name": "m", "kind": "moodle", "base_url": "https://m.example", "course_ids": [1]}
    raw = {"sources": [{**source, "token": "env:T", **changes}]}
    with pytest.raises(ConfigurationError, match=r"sources\['m'\]") as caught:
        parse_settings(raw, tmp_path / "x.toml", environ={"T": "t"})
    assert message in str(caught.value)


def stored_cursor(sessions: sessionmaker[Session]) -> Any:
    with sessions() as session:
        return session.scalars(select(Source.cursor).where(Source.name == "moodle")).one()


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_sync_timeout_mid_run_keeps_the_cursor_and_the_rerun_loses_and_doubles_nothing(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(12, 0, "enrolled_users_12_page1")
    status(12, 101, "status_complete_all")
    status(12, 102, "status_incomplete")
    enrolled(12, 2, "enrolled_users_12_page2")
    status(12, 103, "status_complete_any")
    enrolled(12, 4, "enrolled_users_none")
    enrolled(15, 0, "enrolled_users_15_page1")
    responses.post(URL, body=requests.ReadTimeout("slow"))
    runner = sync_runner(tmp_path, sessions, now)
    first = runner.run(as_of=date(2026, 11, 26))
    assert not first.ok and "ReadTimeout" in (first.results[0].error or "")
    assert stored_cursor(sessions) == {"version": 1, "route": "status", "done": [12]}

    reply(COURSES, fixture="courses_by_ids", field="ids", value="12,15")
    enrolled(15, 0, "enrolled_users_15_page1")
    status(15, 101, "status_complete_any")
    enrolled(15, 2, "enrolled_users_none")
    second = runner.run(as_of=date(2026, 11, 26))
    assert second.ok and (second.results[0].stats.new, second.results[0].stats.fetched) == (1, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 3
    assert stored_cursor(sessions) == {"version": 1, "route": "status", "done": []}
