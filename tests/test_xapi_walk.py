"""The LRS pull checkpoints whole pages as their order allows, and resumes a window it was
walking newest first; it finds which field the LRS filters `since` on."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from onemind.config.model import XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.connectors.xapi import XapiConnector
from onemind.connectors.xapi_cursor import Window, XapiCursor
from onemind.domain.records import Checkpoint, CompletionRecord
from onemind.errors import ConfigurationError, SourceError

ENDPOINT = "https://lrs.example/xAPI/"
STATEMENTS = ENDPOINT + "statements"


def connector(**changes: Any) -> XapiConnector:
    values: dict[str, Any] = {
        "name": "lrs",
        "kind": "xapi",
        "endpoint": ENDPOINT,
        "username": "sync",
        "password": Secret("pw", "env:LRS_PASSWORD"),
        "page_size": 2,
        "overlap_minutes": 0,
        "max_retries": 0,
        **changes,
    }
    return XapiConnector(XapiSourceConfig(**values), sleep=lambda _: None)


def at(day: int) -> str:
    return f"2026-01-{day:02d}T00:00:00Z"


def completed(n: int, stored: str | None = None, timestamp: str | None = None) -> dict[str, Any]:
    stored = stored or at(n)
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:p{n}@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/cit", "definition": {"name": {"en-US": "CIT"}}},
        "timestamp": timestamp or stored,
        "stored": stored,
    }


def serve(*pages: list[int], last_more: str = "") -> None:
    """Pages of statements `n` (stored on day n), each linking to the next."""
    for number, numbers in enumerate(pages):
        url = STATEMENTS if number == 0 else f"{STATEMENTS}?more={number}"
        more = f"/xAPI/statements?more={number + 1}" if number + 1 < len(pages) else last_more
        responses.get(url, json={"statements": [completed(n) for n in numbers], "more": more})


def shape(items: list[Any]) -> list[Any]:
    """Records as their statement's day, checkpoints as their cursor."""
    return [
        int(i.email[1:].split("@")[0])
        if isinstance(i, CompletionRecord)
        else XapiCursor.from_json("lrs", i.cursor)
        for i in items
    ]


def query(call: int) -> dict[str, list[str]]:
    return parse_qs(urlsplit(responses.calls[call].request.url).query)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_pages_newest_first_checkpoint_the_window_walked_down_so_far() -> None:
    serve([6, 5], [4, 3], [2, 1])
    items = shape(list(connector().pull(None)))
    assert items == [
        6,
        5,
        XapiCursor(window=Window(None, at(6), at(5))),
        4,
        3,
        XapiCursor(window=Window(None, at(6), at(3))),
        2,
        1,
        XapiCursor(through=at(6)),
    ]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_oldest_first_pages_reversed_inside_each_page_still_checkpoint() -> None:
    serve([2, 1], [4, 3], [6, 5])  # Ralph's fs backend with ascending=true
    checkpoints = [i for i in shape(list(connector().pull(None))) if isinstance(i, XapiCursor)]
    assert checkpoints == [
        XapiCursor(through=at(2)),
        XapiCursor(through=at(4)),
        XapiCursor(through=at(6)),
    ]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_pages_in_no_order_or_sharing_a_key_checkpoint_only_at_the_end() -> None:
    serve([2, 5], [1, 3], [6, 7])
    items = shape(list(connector().pull(None)))
    assert [i for i in items if isinstance(i, XapiCursor)] == [XapiCursor(through=at(7))]
    responses.reset()
    responses.get(STATEMENTS, json={"statements": [completed(1), completed(2)], "more": "/m"})
    tied = completed(3, stored=at(2))
    responses.get(ENDPOINT[:-6] + "/m", json={"statements": [tied], "more": ""})
    items = shape(list(connector().pull(None)))
    assert [i for i in items if isinstance(i, XapiCursor)] == [XapiCursor(through=at(2))]


@responses.activate(registry=OrderedRegistry)
def test_a_failed_newest_first_walk_resumes_its_window_then_moves_since_on() -> None:
    serve([6, 5], [4, 3], last_more="/xAPI/statements?more=2")
    responses.get(f"{STATEMENTS}?more=2", body="<html>proxy error</html>")
    lrs = connector()
    items = lrs.pull(XapiCursor(through=at(1)).to_json())
    saved = None
    with pytest.raises(Exception, match="not JSON"):
        for item in items:
            if isinstance(item, Checkpoint):
                saved = item.cursor
    assert query(0)["since"] == [at(1)]
    # both pages read are kept: the window (since day 1) is read from day 6 down to day 3
    assert XapiCursor.from_json("lrs", saved) == XapiCursor(
        through=at(1), window=Window(at(1), at(6), at(3))
    )

    responses.reset()
    responses.get(
        STATEMENTS,
        json={"statements": [completed(3), completed(2)], "more": "/xAPI/statements?more=r"},
        match=[matchers.query_param_matcher({"since": at(1), "until": at(3)}, strict_match=False)],
    )
    responses.get(f"{STATEMENTS}?more=r", json={"statements": []})
    resumed = shape(list(lrs.pull(saved)))
    assert resumed == [3, 2, XapiCursor(through=at(6))]

    responses.reset()
    responses.get(STATEMENTS, json={"statements": []})
    assert shape(list(lrs.pull(resumed[-1].to_json()))) == [XapiCursor(through=at(6))]
    assert query(0)["since"] == [at(6)] and "until" not in query(0)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_an_lrs_that_ignores_until_on_resume_is_read_again_whole_without_a_false_checkpoint() -> (
    None
):
    saved = XapiCursor(through=at(1), window=Window(at(1), at(6), at(3))).to_json()
    serve([6, 5], [4, 3], [2])
    items = shape(list(connector().pull(saved)))
    assert [i for i in items if isinstance(i, XapiCursor)] == [XapiCursor(through=at(6))]


def probing(listed: bool) -> None:
    late = completed(9, stored=at(9), timestamp=at(2))
    responses.get(STATEMENTS, json={"statements": [completed(1), late], "more": ""})
    responses.get(STATEMENTS, json={"statements": [late] if listed else []})


@pytest.mark.parametrize(
    ("listed", "key", "every"), [(True, "stored", None), (False, "timestamp", 7)]
)
@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_the_first_pull_asks_which_field_since_compares(
    listed: bool, key: str, every: int | None
) -> None:
    probing(listed)
    lrs = connector()
    cursor = list(lrs.pull(None))[-1].cursor
    assert cursor["key"] == key
    probe = query(1)
    assert probe["since"] == ["2026-01-05T12:00:00Z"]
    assert json.loads(probe["agent"][0]) == {"mbox": "mailto:p9@a.example"}
    assert probe["activity"] == ["https://lms.example/cit"]
    expected = timedelta(days=every) if every else None
    assert lrs.full_pass_every(cursor) == expected
    responses.reset()
    responses.get(STATEMENTS, json={"statements": [completed(10, stored=at(10), timestamp=at(3))]})
    assert list(lrs.pull(cursor))[-1].cursor["key"] == key  # asked once, then remembered
    assert len(responses.calls) == 1


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_declared_since_field_is_not_asked_and_sets_the_full_pass_default() -> None:
    responses.get(STATEMENTS, json={"statements": [completed(9, at(9), at(2))]})
    lrs = connector(since_field="timestamp")
    cursor = list(lrs.pull(None))[-1].cursor
    assert cursor["key"] == "timestamp" and len(responses.calls) == 1
    assert lrs.full_pass_every(None) == timedelta(days=7)
    assert connector(since_field="stored").full_pass_every(cursor) is None


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_probe_the_lrs_refuses_leaves_the_field_unknown() -> None:
    late = completed(9, stored=at(9), timestamp=at(2))
    responses.get(STATEMENTS, json={"statements": [late]})
    responses.get(STATEMENTS, status=400, json={"detail": "agent filter not supported"})
    cursor = list(connector().pull(None))[-1].cursor
    # unknown, the mark is the earlier of stored and timestamp: right for either filter
    assert cursor["key"] is None and cursor["through"] == at(2)


@pytest.mark.parametrize(
    ("saved", "problem"),
    [
        ({"version": 2, "key": "ts"}, "has key = 'ts', not one of stored, timestamp"),
        ({"version": 2, "window": [1]}, "has window = [1], not a JSON object"),
        ({"version": 2, "window": {"top": at(2)}}, "without its top and down_to"),
        ({"version": 2, "window": {"top": at(2), "down_to": "x"}}, "down_to = 'x', not an ISO"),
    ],
)
def test_a_version_2_cursor_of_the_wrong_shape_is_refused(saved: Any, problem: str) -> None:
    with pytest.raises(ConfigurationError, match="onemind sync --full lrs") as caught:
        XapiCursor.from_json("lrs", saved)
    assert problem in str(caught.value)


@responses.activate(registry=OrderedRegistry)
def test_a_more_loop_keeps_the_pages_checkpointed_before_it() -> None:
    serve([1, 2], [3, 4], [5], last_more="/xAPI/statements?more=1")
    saved = None
    with pytest.raises(SourceError, match="same 'more' link twice"):
        for item in connector().pull(None):
            if isinstance(item, Checkpoint):
                saved = item.cursor
    assert XapiCursor.from_json("lrs", saved) == XapiCursor(through=at(4))
