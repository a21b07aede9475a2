"""Every connector kind, each against its fake, held to the same expectations of the seam."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
import responses
from fixtures.canvas import fake as canvas_fake
from fixtures.moodle import fake as moodle_fake
from fixtures.xapi import fake as xapi_fake
from openpyxl import Workbook

from onemind.config.model import TabularSourceConfig, XapiFileSourceConfig, XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.config.sources import SOURCE_KINDS
from onemind.connectors.base import FAILED, NOT_CHECKED, OK, Connector, Pushes
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
NEW_ROW = ["SPD-0102", "", "CIT-40", "CIT", "2026-03-01"]
ROW_IDS = [":SPD-0101:CIT-40:2026-01-05", ":b@a.example:MHFA:2026-02-01"]
NEW_ROW_ID = ":SPD-0102:CIT-40:2026-03-01"
NOTICE = CredentialNotice(
    credential_id="cred-1",
    category="cit",
    achievement_name="Crisis Intervention Team (CIT)",
    issued_at=datetime(2026, 3, 3, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann.lee@springfield.example",
    employee_id="SPD-0101",
)


class Fake:
    """A connector kind against its fake, fresh for each test; the fake can grow between pulls."""

    kind: ClassVar[str]
    check_requests: ClassVar[int] = 0  # what a good check() sends
    rereads: ClassVar[bool] = (
        False  # the system says nothing of "changed since": each pass reads all
    )

    def make(self, tmp_path: Path, good: bool) -> Connector:
        """The connector, with good settings or with wrong credentials (or a missing file)."""
        raise NotImplementedError

    def serve(self, phase: str) -> None:
        """Answer the requests of a phase: pull, repull, check, bad-check or push."""

    def grow(self, tmp_path: Path) -> list[str]:
        """New records appear at the source: the ids a pull from the last cursor must then bring."""
        raise NotImplementedError


class CsvFake(Fake):
    kind = "csv"

    def make(self, tmp_path: Path, good: bool) -> Connector:
        path = tmp_path / f"completions.{self.kind}"
        if good:
            self.write(path, ROWS)
        config = TabularSourceConfig(
            name=self.kind[0], kind=self.kind, role="completions", path=path
        )
        return TabularConnector(config)

    def write(self, path: Path, rows: list[list[str]]) -> None:
        path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n")

    def grow(self, tmp_path: Path) -> list[str]:
        """A changed file is read whole again."""
        self.write(tmp_path / f"completions.{self.kind}", [*ROWS, NEW_ROW])
        return sorted([*ROW_IDS, NEW_ROW_ID])


class XlsxFake(CsvFake):
    kind = "xlsx"

    def write(self, path: Path, rows: list[list[str]]) -> None:
        book = Workbook()
        for row in [HEADER, *rows]:
            book.active.append(row)
        book.save(path)


class XapiFileFake(Fake):
    kind = "xapi-file"

    def make(self, tmp_path: Path, good: bool) -> Connector:
        path = tmp_path / "statements.json"
        if good:
            path.write_text(json.dumps([xapi_fake.statement(1), xapi_fake.statement(2)]))
        return XapiFileConnector(XapiFileSourceConfig(name="f", kind="xapi-file", path=path))

    def grow(self, tmp_path: Path) -> list[str]:
        """A changed export is read whole again."""
        statements = [xapi_fake.statement(n) for n in (1, 2, 3)]
        (tmp_path / "statements.json").write_text(json.dumps(statements))
        return sorted(s["id"] for s in statements)


class HttpFake(Fake):
    """A fake system answering over HTTP, installed once for any phase but push (recordings)."""

    def __init__(self, system: Any) -> None:
        self.system = system
        self.installed = False

    def serve(self, phase: str) -> None:
        if phase == "push":
            self.serve_push()
        elif not self.installed:
            self.system.install()
            self.installed = True

    def serve_push(self) -> None:
        raise NotImplementedError


class XapiFake(HttpFake):
    kind = "xapi"
    check_requests = 1

    def __init__(self) -> None:
        super().__init__(xapi_fake.Lrs(1, 2))

    def make(self, tmp_path: Path, good: bool) -> Connector:
        config = XapiSourceConfig(
            name="lrs",
            kind="xapi",
            endpoint=xapi_fake.ENDPOINT,
            username=xapi_fake.USERNAME,
            password=Secret(xapi_fake.PASSWORD if good else "wrong", "env:LRS_PASSWORD"),
            page_size=1,
            overlap_minutes=0,  # no window read twice: the fake LRS orders and filters on `stored`
            max_retries=0,
        )
        return XapiConnector(config, sleep=lambda _: None)

    def serve_push(self) -> None:
        responses.put(xapi_fake.STATEMENTS, status=204)
        responses.put(xapi_fake.STATEMENTS, status=409)

    def grow(self, tmp_path: Path) -> list[str]:
        """Only the statements stored since."""
        return sorted(self.system.add(3, 4))


class MoodleFake(HttpFake):
    kind = "moodle"
    check_requests = 3  # site info, courses, the first person (are usernames shown?)
    rereads = True

    def __init__(self) -> None:
        super().__init__(moodle_fake.Site())

    def make(self, tmp_path: Path, good: bool) -> Connector:
        token = Secret(moodle_fake.TOKEN if good else "wrong", "env:MOODLE_TOKEN")
        return moodle_fake.connector(certification_cmid=301, token=token)[0]

    def serve_push(self) -> None:
        reply = moodle_fake.reply
        reply("core_course_get_course_module", fixture="course_module")
        for state in ("activities_incomplete", "activities_complete"):
            reply("core_user_get_users_by_field", fixture="users_by_field")
            reply("core_completion_get_activities_completion_status", fixture=state)
        reply("core_completion_override_activity_completion_status", fixture="override_complete")

    def grow(self, tmp_path: Path) -> list[str]:
        """Every course read again, with the newcomer."""
        self.system.enrol(15, 102, "status_complete_all")
        return ["moodle:12:alee", "moodle:12:corr", "moodle:15:alee", "moodle:15:bray"]


class CanvasFake(HttpFake):
    kind = "canvas"
    check_requests = 5  # self, two courses, the first student, their custom data
    rereads = True

    def __init__(self) -> None:
        super().__init__(canvas_fake.Instance())

    def make(self, tmp_path: Path, good: bool) -> Connector:
        token = Secret(canvas_fake.TOKEN if good else "wrong", "env:CANVAS_TOKEN")
        return canvas_fake.connector(token=token)[0]

    def serve_push(self) -> None:
        api = canvas_fake.API
        data = f"{api}/users/7/custom_data/onemind/cred-1"
        person = f"{api}/users/sis_user_id:SPD-0101"
        responses.get(person, json=canvas_fake.body("user_by_sis"))
        responses.get(data, status=400, json=canvas_fake.body("custom_data_empty"))
        responses.put(data, status=201, json=canvas_fake.stored(NOTICE, "active"))
        responses.get(person, json=canvas_fake.body("user_by_sis"))
        responses.get(data, json=canvas_fake.stored(NOTICE, "active"))

    def grow(self, tmp_path: Path) -> list[str]:
        """Every course read again, with the newcomer."""
        self.system.enrol(102, 8, "progress_complete")
        return ["canvas:101:7", "canvas:101:9", "canvas:102:7", "canvas:102:8"]


FAKES: list[type[Fake]] = [CsvFake, XlsxFake, XapiFileFake, XapiFake, MoodleFake, CanvasFake]
PUSHERS = [XapiFake, MoodleFake, CanvasFake]


def by_kind(fakes: list[type[Fake]]) -> Any:
    return pytest.mark.parametrize("fake", fakes, ids=[f.kind for f in fakes], indirect=True)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Fake:
    """A fresh fake of the kind the test is parametrized with."""
    kind: type[Fake] = request.param
    return kind()


def record_ids(items: Iterable[Any]) -> list[str]:
    return [
        i.external_id for i in items if isinstance(i, (RosterEntry, CompletionRecord, VoidRecord))
    ]


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
    result = fake.make(tmp_path, True).check()
    assert result.ok and result.checks and not result.problems
    assert all(c.status == OK and c.message for c in result.checks)
    assert len(responses.calls) == fake.check_requests


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_check_refuses_bad_credentials_or_a_missing_file(fake: Fake, tmp_path: Path) -> None:
    fake.serve("bad-check")
    source = fake.make(tmp_path, False)
    result = source.check()
    assert not result.ok
    [first, *rest] = result.checks
    assert first.status == FAILED and result.problems == [f"{first.name}: {first.message}"]
    assert first.message.startswith(f"source {source.name!r}: ")
    assert all(c.status == NOT_CHECKED for c in rest)


@by_kind(PUSHERS)
@responses.activate(assert_all_requests_are_fired=True)
def test_pushing_twice_gives_the_same_remote_id(fake: Fake, tmp_path: Path) -> None:
    fake.serve("push")
    source = fake.make(tmp_path, True)
    assert isinstance(source, Pushes)
    first = source.push(NOTICE)
    assert source.push(NOTICE) == first


def last_cursor(items: list[Any]) -> dict[str, Any]:
    assert isinstance(items[-1], Checkpoint)
    return items[-1].cursor


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_pull_from_the_cursor_brings_exactly_the_records_that_appeared(
    fake: Fake, tmp_path: Path
) -> None:
    fake.serve("pull")
    source = fake.make(tmp_path, True)
    first = list(source.pull(None))
    expected = fake.grow(tmp_path)
    second = list(source.pull(last_cursor(first)))
    assert sorted(record_ids(second)) == expected
    assert isinstance(second[-1], Checkpoint)


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_an_unchanged_source_pulled_from_its_cursor_brings_nothing_or_reads_all_again(
    fake: Fake, tmp_path: Path
) -> None:
    fake.serve("pull")
    source = fake.make(tmp_path, True)
    first = list(source.pull(None))
    again = record_ids(source.pull(last_cursor(first)))
    assert again == (record_ids(first) if fake.rereads else [])


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_pull_resumes_from_each_checkpoint_with_exactly_what_followed_it(
    fake: Fake, tmp_path: Path
) -> None:
    fake.serve("pull")
    source = fake.make(tmp_path, True)
    first = list(source.pull(None))
    marks = [k for k, item in enumerate(first[:-1]) if isinstance(item, Checkpoint)]
    assert marks or fake.kind in ("csv", "xlsx", "xapi-file")  # files checkpoint at the end only
    for k in marks:
        assert record_ids(source.pull(first[k].cursor)) == record_ids(first[k + 1 :])


@by_kind(FAKES)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_cursor_from_a_later_release_is_refused_before_any_request(
    fake: Fake, tmp_path: Path
) -> None:
    source = fake.make(tmp_path, True)
    with pytest.raises(ConfigurationError, match="saved cursor has version 99") as caught:
        list(source.pull({"version": 99}))
    assert f"run `onemind sync --full {source.name}`" in str(caught.value)
    assert len(responses.calls) == 0


def test_every_registered_kind_is_held_to_the_contract() -> None:
    assert {fake.kind for fake in FAKES} == SOURCE_KINDS


@by_kind(FAKES)
def test_the_push_contract_covers_every_connector_that_pushes(fake: Fake, tmp_path: Path) -> None:
    assert isinstance(fake.make(tmp_path, True), Pushes) == (type(fake) in PUSHERS)
