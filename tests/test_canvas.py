"""The Canvas source against Canvas's documented REST behaviour: pages, throttling, faults."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from fixtures.canvas.fake import (
    API,
    body,
    connector,
    course,
    no_bulk,
    progress,
    serve_two_courses,
    users,
)
from fixtures.canvas.fake import stored as fake_stored
from responses import matchers
from responses.registries import OrderedRegistry

from onemind.config import parse_settings
from onemind.connectors.canvas import CanvasConnector, RateLimitPacer
from onemind.connectors.registry import build_connector
from onemind.domain.records import Checkpoint, CompletionRecord, CredentialNotice
from onemind.errors import ConfigurationError, InvalidRecordError, SourceError, TransientError


def records(items: list[Any]) -> list[CompletionRecord]:
    return [i for i in items if isinstance(i, CompletionRecord)]


def cursors(items: list[Any]) -> list[dict[str, Any]]:
    return [i.cursor for i in items if isinstance(i, Checkpoint)]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_link_pages_of_students_give_completions_in_the_source_zone() -> None:
    serve_two_courses()
    canvas, slept = connector()
    items = list(canvas.pull(None))
    found = records(items)
    assert [(r.external_id, r.completed_on) for r in found] == [
        ("canvas:101:7", date(2026, 3, 1)),  # 03:30 UTC is the evening before in Chicago
        ("canvas:101:9", date(2026, 2, 14)),
        ("canvas:102:7", date(2026, 2, 14)),
    ]
    ann, cy = found[0], found[1]
    assert (ann.course_key, ann.course_title, ann.employee_id, ann.email) == (
        "canvas:101",
        "Crisis Intervention Team (CIT) 40-hour",
        "SPD-0101",
        "ann.lee@springfield.example",
    )
    assert (cy.employee_id, cy.email) == (None, "cy.orr@springfield.example")  # login as email
    assert cursors(items) == [
        {"version": 1, "done": ["101"]},
        {"version": 1, "done": ["101", "102"]},
        {"version": 1, "done": []},
    ]
    first = responses.calls[0].request
    assert first.headers["Authorization"] == "Bearer c4nvas-5ecret"
    pages = [c.request.url for c in responses.calls if "/users?" in (c.request.url or "")]
    assert pages[1] == f"{API}/courses/101/users?page=2&per_page=2"
    assert slept == []


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_rerun_resumes_after_the_courses_done() -> None:
    course(102)
    users(102, 1, "users_102_page1")
    no_bulk(102)
    progress(102, 7, "progress_complete_2")
    canvas, _ = connector()
    items = list(canvas.pull({"version": 1, "done": ["101"]}))
    assert [r.external_id for r in records(items)] == ["canvas:102:7"]
    assert cursors(items)[-1] == {"version": 1, "done": []}


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_full_rerun_yields_the_same_records_again() -> None:
    serve_two_courses()
    serve_two_courses()
    canvas, _ = connector()
    first = list(canvas.pull(None))
    second = list(canvas.pull(first[-1].cursor))
    assert [r.external_id for r in records(second)] == [r.external_id for r in records(first)]


@pytest.mark.parametrize(
    ("status", "fixture", "error", "message"),
    [
        (401, "error_invalid_token", ConfigurationError, "refused with 401"),
        (403, "error_unauthorized", ConfigurationError, "refused with 403"),
        (404, "error_not_found", ConfigurationError, "Canvas has no course 101"),
        (500, "error_not_found", TransientError, "answered 500"),
        (422, "error_not_found", SourceError, "answered 422"),
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_refusals_of_the_course_become_the_error_tree(
    status: int, fixture: str, error: type[Exception], message: str
) -> None:
    responses.get(f"{API}/courses/101", status=status, json=body(fixture))
    canvas, _ = connector(max_retries=1)
    with pytest.raises(error, match=message) as caught:
        list(canvas.pull(None))
    assert "c4nvas" not in str(caught.value)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_page_that_is_not_json_stops_the_source() -> None:
    course(101)
    responses.get(f"{API}/courses/101/users", body="<html>maintenance</html>")
    canvas, _ = connector()
    with pytest.raises(SourceError, match="not valid JSON"):
        list(canvas.pull(None))


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_next_link_seen_before_is_refused() -> None:
    course(101)
    users(101, 1, "users_102_page1", last=False)
    loop = f"{API}/courses/101/users?page=2&per_page=2"
    responses.get(loop, json=body("users_102_page1"), headers={"Link": f'<{loop}>; rel="next"'})
    canvas, _ = connector()
    with pytest.raises(SourceError, match="same next page link twice"):
        list(canvas.pull(None))


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_403_rate_limit_exceeded_and_429_are_retried_with_backoff() -> None:
    responses.get(f"{API}/courses/101", status=403, body="403 Forbidden (Rate Limit Exceeded)")
    responses.get(f"{API}/courses/101", status=429, headers={"Retry-After": "3"})
    course(101)
    canvas, slept = connector()
    assert canvas.course(101)["id"] == 101
    assert len(slept) == 2 and 0 < slept[0] <= 1 and slept[1] == 3


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_it_slows_down_before_the_rate_limit_bucket_empties() -> None:
    headers = {"X-Rate-Limit-Remaining": "50.0", "X-Request-Cost": "5.0"}
    responses.get(f"{API}/courses/101", json=body("course_101"), headers=headers)
    responses.get(
        f"{API}/courses/102", json=body("course_102"), headers={"X-Rate-Limit-Remaining": "600"}
    )
    responses.get(f"{API}/courses/101", json=body("course_101"))
    canvas, slept = connector(rate_limit_floor=200, rate_refill_per_second=10)
    canvas.course(101)
    assert slept == []
    canvas.course(102)
    assert slept == [15.5]  # (200 - 50 + 5) / 10: enough to refill above the floor
    canvas.course(101)
    assert slept == [15.5]


def test_the_pacer_waits_nothing_without_rate_headers_and_caps_its_pause() -> None:
    pacer = RateLimitPacer(floor=700, refill_per_second=1, cap=60)
    assert pacer.wait() == 0
    pacer.remaining, pacer.cost = 0.0, 10.0
    assert pacer.wait() == 60


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_timeout_mid_run_comes_after_the_checkpoint_of_the_courses_done() -> None:
    course(101)
    users(101, 1, "users_102_page1")
    no_bulk(101)
    progress(101, 7, "progress_complete")
    responses.get(f"{API}/courses/102", body=requests.ConnectTimeout("slow"))
    responses.get(f"{API}/courses/102", body=requests.ConnectTimeout("slow"))
    responses.get(f"{API}/courses/102", body=requests.ConnectTimeout("slow"))
    canvas, slept = connector()
    items = canvas.pull(None)
    assert isinstance(next(items), CompletionRecord)
    assert next(items) == Checkpoint({"version": 1, "done": ["101"]})
    with pytest.raises(TransientError, match="ConnectTimeout"):
        next(items)
    assert len(slept) == 2


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_check_verifies_the_token_and_every_course() -> None:
    responses.get(f"{API}/users/self", json=body("user_self"))
    course(101)
    responses.get(f"{API}/courses/102", status=404, json=body("error_not_found"))
    canvas, _ = connector()
    [problem] = canvas.check().problems
    assert problem.startswith("courses and permissions: ") and "no course 102" in problem


NOTICE = CredentialNotice(
    credential_id="cred 1/cit",
    category="cit",
    achievement_name="Crisis Intervention Team (CIT)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann.lee@springfield.example",
    employee_id="SPD-0101",
)
DATA_URL = f"{API}/users/7/custom_data/onemind/cred%201%2Fcit"


def stored(status: str) -> dict[str, Any]:
    return fake_stored(NOTICE, status)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_push_twice_stores_the_credential_once_and_revoke_marks_it() -> None:
    ns = [matchers.query_param_matcher({"ns": "org.onemind"})]
    person = f"{API}/users/sis_user_id:SPD-0101"
    responses.get(person, json=body("user_by_sis"))
    responses.get(DATA_URL, status=400, json=body("custom_data_empty"), match=ns)
    responses.put(DATA_URL, status=201, json=stored("active"), match=ns)
    responses.get(person, json=body("user_by_sis"))
    responses.get(DATA_URL, json=stored("active"), match=ns)
    responses.get(person, json=body("user_by_sis"))
    responses.get(DATA_URL, json=stored("active"), match=ns)
    responses.put(DATA_URL, json=stored("revoked"), match=ns)
    canvas, _ = connector()
    remote = "users/7/custom_data/onemind/cred%201%2Fcit"
    assert canvas.push(NOTICE) == canvas.push(NOTICE) == remote
    assert canvas.revoke(NOTICE) == remote
    puts = [c.request for c in responses.calls if c.request.method == "PUT"]
    assert [json.loads(p.body or "{}") for p in puts] == [stored("active"), stored("revoked")]
    assert len(responses.calls) == 8


@responses.activate(assert_all_requests_are_fired=True)
def test_push_finds_people_by_login_when_there_is_no_employee_id() -> None:
    responses.get(
        f"{API}/users/sis_login_id:x%40y.example", status=404, json=body("error_not_found")
    )
    canvas, _ = connector()
    stranger = CredentialNotice("c9", "mhfa", "MHFA", NOTICE.issued_at, "jwt", email="x@y.example")
    with pytest.raises(InvalidRecordError, match=r"no user sis_login_id:x%40y\.example"):
        canvas.push(stranger)


def test_load_builds_a_canvas_connector_with_its_settings(tmp_path: Path) -> None:
    raw = {
        "sources": [
            {
                "name": "c",
                "kind": "canvas",
                "base_url": "https://canvas.example/",
                "token": "env:CANVAS_TOKEN",
                "course_ids": [101, "sis_course_id:CIT-2026"],
                "namespace": "org.state-academy",
            }
        ]
    }
    settings = parse_settings(raw, tmp_path / "x.toml", environ={"CANVAS_TOKEN": "t"})
    canvas = build_connector(settings.sources[0])
    assert isinstance(canvas, CanvasConnector)
    assert canvas.api == "https://canvas.example/api/v1"
    with pytest.raises(ConfigurationError, match=r"sources\['c'\].course_ids"):
        parse_settings(
            {"sources": [{**raw["sources"][0], "course_ids": []}]},
            tmp_path / "x.toml",
            environ={"CANVAS_TOKEN": "t"},
        )


def test_the_first_page_asks_for_students_with_their_email() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{API}/courses/101", json=body("course_101"))
        mock.get(f"{API}/courses/101/users", json=[])
        canvas, _ = connector(course_ids=[101])
        assert records(list(canvas.pull(None))) == []
        query = parse_qs(urlsplit(mock.calls[1].request.url or "").query)
    assert query == {
        "enrollment_type[]": ["student"],
        "enrollment_state[]": ["active", "completed"],
        "include[]": ["email"],
        "per_page": ["2"],
    }


@pytest.mark.parametrize(
    ("course_body", "students", "says"),
    [
        ({"name": "CIT"}, None, "GET courses/101 answered an object without 'id' (keys: name)"),
        ([1, 2], None, "GET courses/101 answered a list"),
        ({"id": 101, "name": "CIT"}, [{"name": "Ann"}], "answered an object without 'id'"),
        ({"id": 101, "name": "CIT"}, ["Ann"], "answered a str"),
    ],
)
@responses.activate
def test_an_answer_not_shaped_like_canvas_is_one_clear_error(
    course_body: Any, students: Any, says: str
) -> None:
    responses.get(f"{API}/courses/101", json=course_body)
    if students is not None:
        responses.get(f"{API}/courses/101/users", json=students)
    canvas, _ = connector()
    with pytest.raises(ConfigurationError) as caught:
        list(canvas.pull(None))
    assert says in str(caught.value) and "is base_url the Canvas instance?" in str(caught.value)
