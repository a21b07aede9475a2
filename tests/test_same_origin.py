"""Credentials stay home: page links and redirects are followed on the source's own origin only."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from fixtures.canvas import fake as canvas
from fixtures.moodle import fake as moodle
from fixtures.xapi.fake import ENDPOINT, STATEMENTS, statement
from responses.registries import OrderedRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import parse_settings
from onemind.config.model import SourceConfig, XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.connectors.base import Connector
from onemind.connectors.http import origin
from onemind.connectors.registry import build_connector
from onemind.connectors.xapi import XapiConnector
from onemind.domain.records import CompletionRecord
from onemind.errors import SourceError
from onemind.store.models import Source
from onemind.sync.runner import SyncRunner

FOREIGN = [
    "https://evil.example/xAPI/statements?more=2",  # another host
    "http://lrs.example/xAPI/statements?more=2",  # plain HTTP on the same host
    "https://lrs.example:8443/xAPI/statements?more=2",  # another port
    "//evil.example/xAPI/statements?more=2",  # scheme-relative, to another host
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lrs.example/xAPI/", "https://lrs.example:443"),
        ("https://LRS.Example:443/other", "https://lrs.example:443"),
        ("HTTP://lrs.example/", "http://lrs.example:80"),
        ("http://lrs.example:8100/xAPI/", "http://lrs.example:8100"),
        ("https://user:pw@lrs.example/", "https://lrs.example:443"),
        ("https://lrs.example:99999/", None),
        ("/xAPI/statements", None),
        ("statements?more=1", None),
    ],
)
def test_an_origin_is_scheme_host_and_port_with_the_default_port_written(
    url: str, expected: str | None
) -> None:
    assert origin(url) == expected


def lrs(**changes: Any) -> XapiConnector:
    values: dict[str, Any] = {
        "name": "state-lrs",
        "kind": "xapi",
        "endpoint": ENDPOINT,
        "username": "sync",
        "password": Secret("s3cret-pw", "env:LRS_PASSWORD"),
        "page_size": 2,
        "max_retries": 0,
    }
    return XapiConnector(XapiSourceConfig(**(values | changes)), sleep=lambda _: None)


def trap(url: str) -> None:
    """Answer anything at `url`'s host, so a request sent there is recorded, not refused."""
    base = url if url.startswith("http") else "https:" + url
    responses.get(base.split("?")[0], json={"statements": [statement(9)], "more": ""})
    responses.post(base.split("?")[0], json={})


def hosts_called() -> set[str]:
    return {(c.request.url or "").split("/")[2] for c in responses.calls}


def authorized_requests() -> list[str]:
    return [c.request.url or "" for c in responses.calls if "Authorization" in c.request.headers]


@pytest.mark.parametrize("more", FOREIGN)
@responses.activate
def test_a_more_link_to_another_origin_fails_the_pull_and_sends_nothing_there(more: str) -> None:
    responses.get(STATEMENTS, json={"statements": [statement(1)], "more": more + "&token=abc"})
    trap(more)
    items = lrs().pull(None)
    assert isinstance(next(items), CompletionRecord)
    with pytest.raises(SourceError) as caught:
        list(items)
    message = str(caught.value)
    assert "source 'state-lrs'" in message and "'more' link" in message
    assert "more=2&token=***" in message and "abc" not in message
    assert "https://lrs.example:443" in message
    assert hosts_called() == {"lrs.example"} and len(responses.calls) == 1


@pytest.mark.parametrize(
    "more",
    [
        "/xAPI/statements?more=2",
        "statements?more=2",
        "https://lrs.example/xAPI/statements?more=2",
    ],
)
@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_relative_and_same_origin_more_links_are_followed_with_the_credentials(more: str) -> None:
    responses.get(STATEMENTS, json={"statements": [statement(1)], "more": more})
    responses.get(STATEMENTS + "?more=2", json={"statements": [statement(2)], "more": ""})
    found = [i for i in lrs().pull(None) if isinstance(i, CompletionRecord)]
    assert [r.email for r in found] == ["p1@a.example", "p2@a.example"]
    assert len(authorized_requests()) == 2


@responses.activate
def test_a_next_link_to_another_origin_fails_the_canvas_pull_and_sends_nothing_there() -> None:
    foreign = "https://evil.example/api/v1/courses/101/users?page=2&access_token=x"
    canvas.course(101)
    responses.get(
        f"{canvas.API}/courses/101/users",
        json=canvas.body("users_102_page1"),
        headers={"Link": f'<{foreign}>; rel="next"'},
    )
    canvas.progress(101, 7, "progress_complete")
    trap(foreign)
    source, _ = canvas.connector()
    with pytest.raises(SourceError) as caught:
        list(source.pull(None))
    message = str(caught.value)
    assert "source 'academy-canvas'" in message and "next page link" in message
    assert "access_token=***" in message and "evil.example" in message
    assert hosts_called() == {"canvas.example"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "http://lrs.example/xAPI/statements",
        "https://lrs.example:8443/xAPI/statements",
    ],
)
@responses.activate
def test_a_redirect_to_another_origin_is_refused_before_anything_is_sent_there(
    status: int, target: str
) -> None:
    responses.get(STATEMENTS, status=status, headers={"Location": target})
    trap(target)
    with pytest.raises(SourceError, match="redirected to") as caught:
        list(lrs().pull(None))
    assert "source 'state-lrs'" in str(caught.value)
    assert len(responses.calls) == 1
    assert authorized_requests() == [STATEMENTS + "?limit=2&ascending=true"]


@responses.activate
def test_a_moodle_redirect_that_keeps_the_form_does_not_take_the_token_elsewhere() -> None:
    responses.post(moodle.URL, status=307, headers={"Location": "https://evil.example/ws"})
    trap("https://evil.example/ws")
    source, _ = moodle.connector()
    with pytest.raises(SourceError, match=r"redirected to https://evil\.example/ws"):
        source.courses()
    assert hosts_called() == {"moodle.example"}


@responses.activate
def test_a_canvas_redirect_to_another_origin_is_refused() -> None:
    responses.get(
        f"{canvas.API}/users/self", status=302, headers={"Location": "https://x.example/"}
    )
    trap("https://x.example/")
    source, _ = canvas.connector()
    [problem] = source.check().problems
    assert re.search(r"redirected to https://x\.example/", problem)
    assert hosts_called() == {"canvas.example"}


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_redirect_on_the_same_origin_is_followed_with_the_credentials() -> None:
    moved = "https://lrs.example/v2/xAPI/statements"
    responses.get(STATEMENTS, status=301, headers={"Location": "/v2/xAPI/statements"})
    responses.get(moved, json={"statements": [statement(1)], "more": ""})
    found = [i for i in lrs().pull(None) if isinstance(i, CompletionRecord)]
    assert len(found) == 1
    assert authorized_requests() == [STATEMENTS + "?limit=2&ascending=true", moved]


def sync_settings(tmp_path: Path) -> Any:
    raw = {
        "agencies": [{"id": "a-pd", "name": "A PD"}],
        "sources": [
            {
                "name": "lrs",
                "kind": "xapi",
                "endpoint": ENDPOINT,
                "username": "sync",
                "password": "env:LRS_PASSWORD",
                "page_size": 2,
                "max_retries": 0,
            }
        ],
    }
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": "pw"})


def factory(config: SourceConfig) -> Connector:
    if isinstance(config, XapiSourceConfig):
        return XapiConnector(config, sleep=lambda _: None)
    return build_connector(config)


@responses.activate
def test_a_sync_that_meets_a_foreign_more_link_is_not_ok_and_keeps_what_came_before(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    foreign = "https://evil.example/xAPI/statements?more=2"
    page = {"statements": [statement(1), statement(2)], "more": foreign}
    responses.get(STATEMENTS, json=page)
    trap(foreign)
    runner = SyncRunner(sync_settings(tmp_path), sessions, lambda: now, connector_factory=factory)
    outcome = runner.run(as_of=date(2026, 11, 26))
    assert not outcome.ok
    assert "'more' link" in (outcome.results[0].error or "")
    assert outcome.results[0].stats.fetched == 2
    assert hosts_called() == {"lrs.example"}
    with sessions() as session:
        cursor = session.scalars(select(Source.cursor).where(Source.name == "lrs")).one()
    # the page is kept; more statements stored at its newest instant may follow on the next
    assert cursor["through"] == "2026-01-01T00:00:00Z"


def test_the_sessions_hold_no_credential() -> None:
    source = lrs()
    assert source.http.session.auth is None
    assert "Authorization" not in source.http.session.headers
    lms, _ = canvas.connector()
    assert "Authorization" not in lms.http.session.headers


@responses.activate
def test_the_client_sends_nothing_off_the_origin_whoever_asks() -> None:
    trap("https://evil.example/x")
    with pytest.raises(SourceError, match=r"GET https://evil\.example/x\?key=\*\*\*, which is not"):
        lrs().http.request("GET", "https://evil.example/x?key=k")
    assert len(responses.calls) == 0


@responses.activate
def test_redirects_that_never_end_are_a_source_error() -> None:
    responses.get(STATEMENTS, status=302, headers={"Location": STATEMENTS})
    with pytest.raises(SourceError, match="was redirected 30 times"):
        list(lrs().pull(None))
    assert len(responses.calls) == 31
