"""Every connector kind, each against its fake, held to the same expectations of the seam."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from fixtures.canvas import fake as canvas_fake
from fixtures.moodle import fake as moodle_fake
from openpyxl import Workbook

from onemind.config.model import TabularSourceConfig, XapiFileSourceConfig, XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.connectors.base import Connector, Pushes
from onemind.connectors.tabular import TabularConnector
from onemind.connectors.xapi import XapiConnector
from onemind.connectors.xapi_file import XapiFileConnector
from onemind.domain.records import (
    Checkpoint,
    CompletionRecord,
    CredentialNotice,
    Rejected,
    RosterEntry,
    VoidRecord,
)
from onemind.errors import ConfigurationError

RECORD_TYPES = (RosterEntry, CompletionRecord, VoidRecord, Rejected)
HEADER = ["employee_id", "email", "course_id", "course_title", "completed_on"]
ROWS = [
    ["SPD-0101", "", "CIT-40", "CIT", "2026-01-05"],
    ["", "b@a.example", "MHFA", "MHFA", "2026-02-01"],
]
LRS = "https://lrs.example/xAPI/"
NOTICE = CredentialNotice(
    credential_id="cred-1",
    category="cit",
    achievement_name="Crisis Intervention Team (CIT)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann.lee@springfield.example",
    employee_id="SPD-0101",
)


@dataclass(frozen=True)
class Fake:
    """A connector kind with its fake: `make(tmp_path, good)` and `serve(phase)` mocks."""

    kind: str
    make: Callable[[Path, bool], Connector]
    serve: Callable[[str], None] = lambda phase: None


def csv_source(tmp_path: Path, good: bool) -> Connector:
    path = tmp_path / "completions.csv"
    if good:
        path.write_text("\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\n")
    return TabularConnector(
        TabularSourceConfig(name="c", kind="csv", role="completions", path=path)
    )


def xlsx_source(tmp_path: Path, good: bool) -> Connector:
    path = tmp_path / "completions.xlsx"
    if good:
        book = Workbook()
        for row in [HEADER, *ROWS]:
            book.active.append(row)
        book.save(path)
    config = TabularSourceConfig(name="x", kind="xlsx", role="completions", path=path)
    return TabularConnector(config)


def statement(n: int) -> dict[str, Any]:
    stored = f"2026-01-0{n}T00:00:00Z"
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:p{n}@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/cit", "definition": {"name": {"en-US": "CIT"}}},
        "timestamp": stored,
        "stored": stored,
    }


def xapi_file_source(tmp_path: Path, good: bool) -> Connector:
    path = tmp_path / "statements.json"
    if good:
        path.write_text(json.dumps([statement(1), statement(2)]))
    return XapiFileConnector(XapiFileSourceConfig(name="f", kind="xapi-file", path=path))


def xapi_source(tmp_path: Path, good: bool) -> Connector:
    config = XapiSourceConfig(
        name="lrs",
        kind="xapi",
        endpoint=LRS,
        username="sync",
        password=Secret("pw" if good else "wrong", "env:LRS_PASSWORD"),
        max_retries=0,
    )
    return XapiConnector(config, sleep=lambda _: None)


def serve_xapi(phase: str) -> None:
    if phase in ("pull", "repull"):
        responses.get(LRS + "statements", json={"statements": [statement(1), statement(2)]})
    elif phase == "check":
        responses.get(LRS + "statements", json={"statements": [statement(1)], "more": ""})
    elif phase == "bad-check":
        responses.get(LRS + "statements", status=401)
    elif phase == "push":
        responses.put(LRS + "statements", status=204)
        responses.put(LRS + "statements", status=409)


def moodle_source(tmp_path: Path, good: bool) -> Connector:
    return moodle_fake.connector(certification_cmid=301)[0]


def serve_moodle(phase: str) -> None:
    reply = moodle_fake.reply
    if phase in ("pull", "repull"):
        moodle_fake.serve_two_courses()
    elif phase == "check":
        site = moodle_fake.body("site_info")
        reply("core_webservice_get_site_info", site)
        reply("core_course_get_courses_by_field", fixture="courses_by_ids")
    elif phase == "bad-check":
        reply("core_webservice_get_site_info", fixture="error_invalidtoken")
    elif phase == "push":
        reply("core_course_get_course_module", fixture="course_module")
        for state in ("activities_incomplete", "activities_complete"):
            reply("core_user_get_users_by_field", fixture="users_by_field")
            reply("core_completion_get_activities_completion_status", fixture=state)
        reply("core_completion_override_activity_completion_status", fixture="override_complete")


def canvas_source(tmp_path: Path, good: bool) -> Connector:
    return canvas_fake.connector()[0]


def serve_canvas(phase: str) -> None:
    api = canvas_fake.API
    if phase in ("pull", "repull"):
        canvas_fake.serve_two_courses()
    elif phase == "check":
        responses.get(f"{api}/users/self", json=canvas_fake.body("user_self"))
        canvas_fake.course(101)
        canvas_fake.course(102)
    elif phase == "bad-check":
        responses.get(f"{api}/users/self", status=401, json=canvas_fake.body("error_invalid_token"))
    elif phase == "push":
        data = f"{api}/users/7/custom_data/onemind/cred-1"
        responses.get(f"{api}/users/sis_user_id:SPD-0101", json=canvas_fake.body("user_by_sis"))
        responses.get(data, status=400, json=canvas_fake.body("custom_data_empty"))
        responses.put(data, status=201, json=canvas_fake.stored(NOTICE, "active"))
        responses.get(f"{api}/users/sis_user_id:SPD-0101", json=canvas_fake.body("user_by_sis"))
        responses.get(data, json=canvas_fake.stored(NOTICE, "active"))


FAKES = [
    Fake("csv", csv_source),
    Fake("xlsx", xlsx_source),
    Fake("xapi-file", xapi_file_source),
    Fake("xapi", xapi_source, serve_xapi),
    Fake("moodle", moodle_source, serve_moodle),
    Fake("canvas", canvas_source, serve_canvas),
]
PUSHERS = [f for f in FAKES if f.kind in ("xapi", "moodle", "canvas")]


def by_kind(fakes: list[Fake]) -> Any:
    return pytest.mark.parametrize("fake", fakes, ids=[f.kind for f in fakes])


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_pull_yields_records_then_a_versioned_checkpoint(fake: Fake, tmp_path: Path) -> None:
    fake.serve("pull")
    items = list(fake.make(tmp_path, True).pull(None))
    assert all(isinstance(i, (*RECORD_TYPES, Checkpoint)) for i in items)
    records = [i for i in items if isinstance(i, RECORD_TYPES)]
    assert any(isinstance(r, CompletionRecord) for r in records)
    assert all(getattr(r, "external_id", "x") and r.location for r in records)
    assert isinstance(items[-1], Checkpoint) and "version" in items[-1].cursor


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_pulling_again_from_the_cursor_brings_nothing_new(fake: Fake, tmp_path: Path) -> None:
    fake.serve("pull")
    fake.serve("repull")
    source = fake.make(tmp_path, True)
    first = list(source.pull(None))
    cursor = first[-1]
    assert isinstance(cursor, Checkpoint)
    again = list(source.pull(cursor.cursor))
    seen = {getattr(i, "external_id", None) for i in first}
    assert {getattr(i, "external_id", None) for i in again if isinstance(i, RECORD_TYPES)} <= seen
    assert not again or (isinstance(again[-1], Checkpoint) and "version" in again[-1].cursor)


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_check_passes_on_a_good_fake(fake: Fake, tmp_path: Path) -> None:
    fake.serve("check")
    fake.make(tmp_path, True).check()


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_check_refuses_bad_credentials_or_a_missing_file(fake: Fake, tmp_path: Path) -> None:
    fake.serve("bad-check")
    with pytest.raises(ConfigurationError):
        fake.make(tmp_path, False).check()


@by_kind(PUSHERS)
@responses.activate(assert_all_requests_are_fired=True)
def test_pushing_twice_gives_the_same_remote_id(fake: Fake, tmp_path: Path) -> None:
    fake.serve("push")
    source = fake.make(tmp_path, True)
    assert isinstance(source, Pushes)
    first = source.push(NOTICE)
    assert source.push(NOTICE) == first
