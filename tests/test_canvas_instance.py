"""The Canvas source against what Canvas's own source answers (issue 13): learners without SIS
ids, a 400 for one student, bulk progress, the token's permissions, SIS ids that break routing,
and a grade the learner can see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from fixtures.canvas.fake import API, Instance, body, connector, course, no_bulk, progress, users
from fixtures.canvas.fake import stored as fake_stored
from responses import matchers
from responses.registries import OrderedRegistry

from onemind.connectors.canvas_push import sis_ref
from onemind.domain.records import CompletionRecord, CredentialNotice, Skipped

NOTICE = CredentialNotice(
    credential_id="cred-mh",
    category="mhfa",
    achievement_name="Mental Health First Aid (MHFA)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="cy.orr@springfield.example",
)
NS = [matchers.query_param_matcher({"ns": "org.onemind"})]
SUBMISSION = f"{API}/courses/101/assignments/555/submissions/9"


def records(items: list[Any]) -> list[CompletionRecord]:
    return [i for i in items if isinstance(i, CompletionRecord)]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_learner_without_sis_id_is_pushed_by_the_canvas_user_id_their_record_carries() -> None:
    course(101)
    users(101, 1, "users_101_page2")
    no_bulk(101)
    progress(101, 9, "progress_complete")
    canvas, _ = connector(course_ids=[101])
    (cy,) = records(list(canvas.pull(None)))
    assert (cy.employee_id, cy.account) == (None, "https://canvas.example|9")
    data = f"{API}/users/9/custom_data/onemind/cred-mh"
    responses.get(data, status=400, json=body("custom_data_empty"), match=NS)
    responses.put(data, json=fake_stored(NOTICE, "active"), match=NS)
    pushed = replace(NOTICE, accounts=(cy.account or "",))
    assert canvas.push(pushed) == "users/9/custom_data/onemind/cred-mh"
    assert not [c for c in responses.calls if "sis_login_id" in (c.request.url or "")]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_400_for_one_student_skips_them_with_a_warning_and_the_course_goes_on() -> None:
    course(101)
    users(101, 1, "users_101_page1", last=False)
    users(101, 2, "users_101_page2")
    no_bulk(101)
    progress(101, 7, "progress_no_requirements", status=400)
    progress(101, 8, "progress_in_progress")
    progress(101, 9, "progress_complete_2")
    canvas, _ = connector(course_ids=[101])
    items = list(canvas.pull(None))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.location for s in skipped] == ["course 101 user 7"]
    assert skipped[0].reason.startswith("Canvas gave no progress for this student (no progress")
    assert [r.external_id for r in records(items)] == ["canvas:101:9"]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_course_the_bulk_answer_gives_no_progress_for_is_passed_over() -> None:
    course(101)
    users(101, 1, "users_102_page1")
    url = f"{API}/courses/101/bulk_user_progress"
    responses.get(url, status=400, json=body("progress_no_requirements"))
    canvas, _ = connector(course_ids=[101])
    items = list(canvas.pull(None))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.location for s in skipped] == ["course 101 (Crisis Intervention Team (CIT) 40-hour)"]
    assert "give its modules completion requirements" in skipped[0].reason


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_bulk_progress_replaces_the_per_student_calls_and_the_ones_it_leaves_out_are_asked() -> (
    None
):
    course(101)
    users(101, 1, "users_101_page1", last=False)
    users(101, 2, "users_101_page2")
    url = f"{API}/courses/101/bulk_user_progress"
    responses.get(
        url, json=body("bulk_progress_101"), match=[matchers.query_param_matcher({"per_page": "2"})]
    )
    progress(101, 9, "progress_complete_2")
    canvas, _ = connector(course_ids=[101])
    found = records(list(canvas.pull(None)))
    assert [r.external_id for r in found] == ["canvas:101:7", "canvas:101:9"]
    progress_calls = [c for c in responses.calls if (c.request.url or "").endswith("/progress")]
    assert len(progress_calls) == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_a_large_course_costs_pages_of_requests_not_one_per_student() -> None:
    instance = Instance()
    for user_id in (8, 9):
        instance.enrol(102, user_id, "progress_complete")
    instance.install()
    canvas, _ = connector(course_ids=[102])
    assert len(records(list(canvas.pull(None)))) == 3
    paths = [(c.request.url or "").split("?")[0] for c in responses.calls]
    assert not [p for p in paths if p.endswith("/progress")]
    assert len(paths) == 5  # the course, two pages of students, two pages of progress


def test_check_names_everything_the_token_cannot_do() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{API}/users/self", json=body("user_self"))
        mock.get(f"{API}/courses/101", json=body("course_101"))
        mock.get(f"{API}/courses/101/users", json=body("users_101_restricted")[:1])
        mock.get(
            f"{API}/users/7/custom_data/onemind",
            status=401,
            json=body("error_unauthorized"),
            match=NS,
        )
        canvas, _ = connector(course_ids=[101])
        [message] = canvas.check().problems
    assert "cannot see SIS ids: give it SIS Data - read" in message
    assert "cannot see email addresses: give it Users - view primary email address" in message
    assert "cannot write custom data: give it Users - manage user details" in message


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_check_waits_out_a_403_rate_limit_instead_of_blaming_permissions() -> None:
    responses.get(f"{API}/users/self", json=body("user_self"))
    course(101)
    responses.get(f"{API}/courses/101/users", json=body("users_101_page1")[:1])
    data = f"{API}/users/7/custom_data/onemind"
    responses.get(data, status=403, body="403 Forbidden (Rate Limit Exceeded)")
    responses.get(data, status=400, json=body("custom_data_empty"))
    canvas, slept = connector(course_ids=[101])
    assert canvas.check().ok
    assert len(slept) == 1


@pytest.mark.parametrize(
    ("sis_id", "ref"),
    [
        ("SPD-0101", "sis_user_id:SPD-0101"),
        ("SPD/0101", "hex:sis_user_id:5350442f30313031"),
        ("ann.json", "hex:sis_user_id:616e6e2e6a736f6e"),
    ],
)
def test_sis_ids_that_would_break_canvas_routing_use_the_hex_form(sis_id: str, ref: str) -> None:
    assert sis_ref("sis_user_id", sis_id) == ref


@responses.activate(assert_all_requests_are_fired=True)
def test_a_push_looks_a_slashed_sis_id_up_in_hex() -> None:
    responses.get(f"{API}/users/hex:sis_user_id:5350442f30313031", json=body("user_by_sis"))
    data = f"{API}/users/7/custom_data/onemind/cred-mh"
    responses.get(data, json=fake_stored(NOTICE, "active"), match=NS)
    canvas, _ = connector()
    assert canvas.push(replace(NOTICE, employee_id="SPD/0101")).startswith("users/7/")


def serve_grading(grades: list[str], puts: int) -> None:
    data = f"{API}/users/9/custom_data/onemind/cred-mh"
    for grade in grades:
        responses.get(data, status=400, json=body("custom_data_empty"), match=NS)
        responses.put(data, json={}, match=NS)
        responses.get(SUBMISSION, json=body(f"submission_{grade}"))
    for _ in range(puts):
        responses.put(SUBMISSION, json=body("submission_complete"))


@responses.activate(assert_all_requests_are_fired=True)
def test_the_certification_assignment_is_graded_complete_and_back_only_with_the_last_credential() -> (
    None
):
    serve_grading(["ungraded", "complete", "complete"], puts=2)
    canvas, _ = connector(certification_course_id=101, certification_assignment_id=555)
    known = replace(NOTICE, accounts=("https://canvas.example|9",))
    canvas.push(known)
    canvas.revoke(replace(known, others_valid=("cred-crisis",)))  # the crisis one still stands
    canvas.revoke(known)
    graded = [c.request for c in responses.calls if c.request.url == SUBMISSION]
    posted = [parse_qs(str(r.body)) for r in graded if r.method == "PUT"]
    assert posted == [
        {"submission[posted_grade]": ["complete"]},
        {"submission[posted_grade]": ["incomplete"]},
    ]


def test_check_refuses_an_assignment_that_is_not_complete_incomplete() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.get(f"{API}/users/self", json=body("user_self"))
        mock.get(f"{API}/courses/101", json=body("course_101"))
        mock.get(f"{API}/courses/101/users", json=[])
        points = {**body("assignment_555"), "grading_type": "points"}
        mock.get(f"{API}/courses/101/assignments/555", json=points)
        canvas, _ = connector(
            course_ids=[101], certification_course_id=101, certification_assignment_id=555
        )
        [problem] = canvas.check().problems
    assert problem.endswith("graded points: make it Complete/Incomplete")


def test_the_assignment_needs_its_course() -> None:
    with pytest.raises(ValueError, match="certification_course_id and certification_assignment_id"):
        connector(certification_assignment_id=555)
