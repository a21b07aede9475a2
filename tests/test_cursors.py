"""Typed cursors: today's saved JSON reads back unchanged; another version is refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onemind.connectors.canvas import CanvasCursor
from onemind.connectors.cursors import FileCursor
from onemind.connectors.moodle_report import MoodleReportCursor, MoodleStatusCursor
from onemind.connectors.xapi import XapiCursor
from onemind.connectors.xapi_cursor import Window
from onemind.errors import ConfigurationError

# Each shape exactly as the connectors saved it before cursors were typed.
SAVED: list[tuple[Any, dict[str, Any], Any]] = [
    (
        XapiCursor,
        {
            "version": 2,
            "key": "timestamp",
            "through": "2026-01-03T00:00:00.123456+00:00",
            "consistent_through": "2026-01-05T00:00:00Z",
            "window": None,
        },
        XapiCursor("timestamp", "2026-01-03T00:00:00.123456+00:00", "2026-01-05T00:00:00Z"),
    ),
    (
        XapiCursor,
        {
            "version": 2,
            "key": None,
            "through": "2026-01-01T00:00:00Z",
            "consistent_through": None,
            "window": {
                "since": "2026-01-01T00:00:00Z",
                "top": "2026-01-09T00:00:00Z",
                "down_to": "2026-01-04T00:00:00Z",
            },
        },
        XapiCursor(
            through="2026-01-01T00:00:00Z",
            window=Window("2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-04T00:00:00Z"),
        ),
    ),
    (
        XapiCursor,
        {"version": 2, "key": None, "through": None, "consistent_through": None, "window": None},
        XapiCursor(),
    ),
    (
        MoodleStatusCursor,
        {"version": 1, "route": "status", "done": [12, 15]},
        MoodleStatusCursor((12, 15)),
    ),
    (MoodleStatusCursor, {"version": 1, "route": "status", "done": []}, MoodleStatusCursor()),
    (
        MoodleReportCursor,
        {"version": 1, "route": "report", "completed_through": "2026-03-03T16:45:00-06:00"},
        MoodleReportCursor("2026-03-03T16:45:00-06:00"),
    ),
    (
        MoodleReportCursor,
        {"version": 1, "route": "report", "completed_through": None},
        MoodleReportCursor(),
    ),
    (
        CanvasCursor,
        {"version": 1, "done": ["101", "sis_course_id:CIT"]},
        CanvasCursor(("101", "sis_course_id:CIT")),
    ),
    (CanvasCursor, {"version": 1, "done": []}, CanvasCursor()),
    (FileCursor, {"version": 1, "sha256": "ab" * 32}, FileCursor("ab" * 32)),
]
KINDS = [XapiCursor, MoodleStatusCursor, MoodleReportCursor, CanvasCursor, FileCursor]
# The LRS cursor as version 1 saved it, and as version 2 reads it.
XAPI_VERSION_1: list[tuple[dict[str, Any], XapiCursor]] = [
    (
        {"version": 1, "stored": "2026-01-03T00:00:00Z", "consistent_through": None},
        XapiCursor(through="2026-01-03T00:00:00Z"),
    ),
    (
        {
            "version": 1,
            "stored": "2026-01-03T00:00:00.123456+00:00",
            "consistent_through": "2026-01-05T00:00:00Z",
        },
        XapiCursor(
            through="2026-01-03T00:00:00.123456+00:00", consistent_through="2026-01-05T00:00:00Z"
        ),
    ),
    ({"version": 1, "stored": None, "consistent_through": None}, XapiCursor()),
    ({"stored": "2026-01-03T00:00:00Z"}, XapiCursor(through="2026-01-03T00:00:00Z")),
]


@pytest.mark.parametrize(("kind", "saved", "typed"), SAVED)
def test_a_cursor_saved_today_reads_as_its_type_and_writes_back_the_same_json(
    kind: Any, saved: dict[str, Any], typed: Any
) -> None:
    assert kind.from_json("s", saved) == typed
    assert typed.to_json() == saved
    assert list(typed.to_json()) == list(saved)  # the same keys in the same order


@pytest.mark.parametrize(("saved", "typed"), XAPI_VERSION_1)
def test_an_lrs_cursor_of_version_1_is_read_as_version_2(
    saved: dict[str, Any], typed: XapiCursor
) -> None:
    assert XapiCursor.from_json("s", saved) == typed
    assert typed.to_json()["version"] == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("nothing", [None, {}])
def test_no_saved_cursor_reads_as_none(kind: Any, nothing: Any) -> None:
    assert kind.from_json("s", nothing) is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_cursor_from_a_later_release_is_refused_naming_the_source_and_the_way_out(
    kind: Any,
) -> None:
    saved = kind().to_json() if kind is not FileCursor else {"version": 1, "sha256": None}
    later = kind.VERSION + 1
    with pytest.raises(ConfigurationError) as caught:
        kind.from_json("state-lrs", saved | {"version": later})
    assert str(caught.value) == (
        f"source 'state-lrs': its saved cursor has version {later}, saved by a later release (it "
        f"reads version {kind.VERSION}); run `onemind sync --full state-lrs` to read the source "
        "whole and save a new cursor"
    )


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None, [1]])
@pytest.mark.parametrize("kind", KINDS)
def test_a_cursor_of_an_unknown_version_is_refused(kind: Any, version: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"which this release does not read.*--full s`"):
        kind.from_json("s", {"version": version, "route": "status", "done": []})


@pytest.mark.parametrize(
    ("kind", "saved", "problem"),
    [
        (XapiCursor, ["stored"], "is not a JSON object: ['stored']"),
        (XapiCursor, {"version": 1, "stored": 5}, "has stored = 5, not text"),
        (XapiCursor, {"stored": "yesterday"}, "has stored = 'yesterday', not an ISO 8601 time"),
        (
            XapiCursor,
            {"stored": "2026-01-03T00:00:00Z", "consistent_through": "soon"},
            "consistent_through = 'soon', not an ISO 8601 time",
        ),
        (MoodleStatusCursor, {"route": "status", "done": "12"}, "done = '12', not a list"),
        (MoodleStatusCursor, {"route": "status", "done": ["x"]}, "done = ['x'], not course ids"),
        (MoodleReportCursor, {"route": "report", "completed_through": 7}, "= 7, not text"),
        (CanvasCursor, {"done": {"101": True}}, "not a list"),
        (FileCursor, {"sha256": ["ab"]}, "has sha256 = ['ab'], not text"),
    ],
)
def test_a_cursor_of_the_wrong_shape_is_refused_saying_what_is_wrong(
    kind: Any, saved: Any, problem: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        kind.from_json("s", saved)
    assert problem in str(caught.value) and "onemind sync --full s" in str(caught.value)


def test_a_cursor_saved_without_a_version_reads_as_the_first() -> None:
    assert CanvasCursor.from_json("s", {"done": [101]}) == CanvasCursor(("101",))


def test_a_moodle_cursor_of_the_other_route_starts_that_route_over() -> None:
    status = {"version": 1, "route": "status", "done": [12]}
    report = {"version": 1, "route": "report", "completed_through": None}
    assert MoodleReportCursor.from_json("m", status) is None
    assert MoodleStatusCursor.from_json("m", report) is None


def test_an_lrs_resumes_from_the_older_mark_less_the_overlap() -> None:
    cursor = XapiCursor(None, "2026-01-03T00:00:00Z", "2026-01-02T12:00:00+00:00")
    assert cursor.since(timedelta(hours=2)) == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert XapiCursor(through="2026-01-03T00:00:00Z").since(timedelta(0)) == datetime(
        2026, 1, 3, tzinfo=UTC
    )
    assert XapiCursor().since(timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("key", "consistent_through", "since"),
    [
        ("stored", "2026-01-02T12:00:00Z", datetime(2026, 1, 2, 12, 0, tzinfo=UTC)),
        ("stored", "2026-01-05T00:00:00Z", datetime(2026, 1, 3, 0, 0, tzinfo=UTC)),
        ("stored", None, datetime(2026, 1, 2, 22, 0, tzinfo=UTC)),
        ("timestamp", "2026-01-05T00:00:00Z", datetime(2026, 1, 2, 22, 0, tzinfo=UTC)),
        (None, "2026-01-05T00:00:00Z", datetime(2026, 1, 2, 22, 0, tzinfo=UTC)),
    ],
)
def test_only_an_lrs_filtering_on_stored_with_consistent_through_resumes_without_overlap(
    key: str | None, consistent_through: str | None, since: datetime
) -> None:
    cursor = XapiCursor(key, "2026-01-03T00:00:00Z", consistent_through)
    assert cursor.since(timedelta(hours=2)) == since
