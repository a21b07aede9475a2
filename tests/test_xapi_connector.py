"""The LRS connector against a conformant LRS's documented behaviour, and its faults."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from onemind.config.model import XapiSourceConfig
from onemind.config.secrets import Secret
from onemind.connectors.xapi import XapiConnector
from onemind.domain.records import Checkpoint, CompletionRecord, CredentialNotice, VoidRecord
from onemind.errors import ConfigurationError, SourceError, TransientError

ENDPOINT = "https://lrs.example/xAPI/"
STATEMENTS = ENDPOINT + "statements"


def config(**changes: Any) -> XapiSourceConfig:
    values: dict[str, Any] = {
        "name": "state-lrs",
        "kind": "xapi",
        "endpoint": ENDPOINT,
        "username": "sync",
        "password": Secret("pw", "env:LRS_PASSWORD"),
        "page_size": 2,
        "overlap_minutes": 60,
        "max_retries": 2,
    }
    values.update(changes)
    return XapiSourceConfig(**values)


def connector(**changes: Any) -> tuple[XapiConnector, list[float]]:
    slept: list[float] = []
    return XapiConnector(config(**changes), sleep=slept.append), slept


def completed(n: int, stored: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=n)),
        "actor": {"mbox": f"mailto:p{n}@a.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/cit", "definition": {"name": {"en-US": "CIT"}}},
        "timestamp": stored,
        "stored": stored,
    }


def page(statements: list[dict[str, Any]], more: str = "") -> dict[str, Any]:
    return {"statements": statements, "more": more}


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_pages_follow_relative_and_absolute_more_and_checkpoint_once_the_order_shows() -> None:
    responses.get(
        STATEMENTS,
        json=page(
            [completed(1, "2026-01-01T00:00:00Z"), completed(2, "2026-01-02T00:00:00Z")],
            "/xAPI/statements?more=abc",
        ),
        headers={"X-Experience-API-Consistent-Through": "2026-01-05T00:00:00Z"},
    )
    responses.get(
        STATEMENTS + "?more=abc",
        json=page(
            [completed(3, "2026-01-03T00:00:00Z")], "https://lrs.example/xAPI/statements?more=def"
        ),
    )
    responses.get(STATEMENTS + "?more=def", json=page([]))
    lrs, _ = connector()
    items = list(lrs.pull(None))
    records = [i for i in items if isinstance(i, CompletionRecord)]
    checkpoints = [i.cursor for i in items if isinstance(i, Checkpoint)]
    assert [r.email for r in records] == ["p1@a.example", "p2@a.example", "p3@a.example"]
    # page 1 is checkpointed once page 2 shows the pages come oldest first; the empty page 3
    # shows nothing, and the end covers everything
    assert [c["through"] for c in checkpoints] == ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]
    assert [type(i).__name__ for i in items].index("Checkpoint") == 2
    assert checkpoints[-1]["consistent_through"] == "2026-01-05T00:00:00Z"
    first = responses.calls[0].request
    assert first.headers["X-Experience-API-Version"] == "1.0.3"
    assert first.headers["Authorization"].startswith("Basic ")
    assert parse_qs(urlsplit(first.url).query) == {"limit": ["2"], "ascending": ["true"]}


@responses.activate(assert_all_requests_are_fired=True)
def test_since_is_sent_in_the_exact_format_and_a_quiet_rerun_costs_one_request() -> None:
    responses.get(
        STATEMENTS,
        json=page([]),
        match=[
            matchers.query_string_matcher("limit=2&ascending=true&since=2026-01-02T23%3A00%3A00Z")
        ],
    )
    lrs, _ = connector()
    cursor = {
        "version": 1,
        "stored": "2026-01-03T00:00:00Z",
        "consistent_through": "2026-01-05T00:00:00Z",
    }
    assert list(lrs.pull(cursor)) == [  # a version 1 cursor is read, a version 2 one saved
        Checkpoint(
            {
                "version": 2,
                "key": None,
                "through": cursor["stored"],
                "consistent_through": None,
                "window": None,
            }
        )
    ]
    assert len(responses.calls) == 1


def test_resume_point_is_the_older_of_stored_and_consistent_through_less_overlap() -> None:
    lrs, _ = connector(overlap_minutes=120)
    since = lrs.since(
        {"stored": "2026-01-03T00:00:00Z", "consistent_through": "2026-01-02T12:00:00+00:00"}
    )
    assert since == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert lrs.since(None) is None


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_429_with_retry_after_then_503_then_success() -> None:
    responses.get(STATEMENTS, status=429, headers={"Retry-After": "7"})
    responses.get(STATEMENTS, status=503)
    responses.get(STATEMENTS, json=page([completed(1, "2026-01-01T00:00:00Z")]))
    lrs, slept = connector()
    assert len([i for i in lrs.pull(None) if isinstance(i, CompletionRecord)]) == 1
    assert slept[0] == 7
    assert len(slept) == 2 and 0 < slept[1] <= 2


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_timeouts_are_retried_then_reported_as_transient() -> None:
    for _ in range(3):
        responses.get(STATEMENTS, body=requests.ConnectTimeout("slow"))
    lrs, slept = connector()
    with pytest.raises(TransientError, match="ConnectTimeout"):
        list(lrs.pull(None))
    assert len(slept) == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_401_is_a_configuration_error_naming_the_source_without_the_password() -> None:
    responses.get(STATEMENTS, status=401, json={"detail": "Invalid authentication credentials"})
    lrs, slept = connector()
    with pytest.raises(ConfigurationError, match=r"source 'state-lrs'.*refused with 401") as caught:
        list(lrs.pull(None))
    assert "pw" not in str(caught.value).replace("pwd", "")
    assert slept == []
    assert len(responses.calls) == 1


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_page_cut_short_or_an_html_page_with_200_is_retried_as_transient() -> None:
    responses.get(
        STATEMENTS, json=page([completed(1, "2026-01-01T00:00:00Z")], "/xAPI/statements?more=2")
    )
    responses.get(STATEMENTS + "?more=2", body="<html>gateway</html>", status=200)
    responses.get(STATEMENTS + "?more=2", body='{"statements": [{"id": "', status=200)
    responses.get(STATEMENTS + "?more=2", json=page([completed(2, "2026-01-02T00:00:00Z")]))
    lrs, slept = connector()
    records = [i for i in lrs.pull(None) if isinstance(i, CompletionRecord)]
    assert [r.email for r in records] == ["p1@a.example", "p2@a.example"]
    assert len(slept) == 2


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_page_that_stays_malformed_fails_as_transient_after_the_retries() -> None:
    for _ in range(3):
        responses.get(STATEMENTS, body="<html>gateway</html>", status=200)
    lrs, slept = connector()
    with pytest.raises(TransientError, match="answered 200 with a body that is not JSON"):
        list(lrs.pull(None))
    assert len(slept) == 2


@responses.activate(registry=OrderedRegistry)
def test_a_more_link_seen_before_is_refused() -> None:
    responses.get(STATEMENTS, json=page([], "/xAPI/statements?more=x"))
    responses.get(STATEMENTS + "?more=x", json=page([], "/xAPI/statements?more=x"))
    lrs, _ = connector()
    with pytest.raises(SourceError, match="same 'more' link twice"):
        list(lrs.pull(None))
    assert len(responses.calls) == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_full_resync_retracts_statements_a_conformant_lrs_answers_404_for() -> None:
    kept, voided = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
    responses.get(
        STATEMENTS,
        json=completed(1, "2026-01-01T00:00:00Z"),
        match=[matchers.query_param_matcher({"statementId": kept})],
    )
    responses.get(
        STATEMENTS, status=404, match=[matchers.query_param_matcher({"statementId": voided})]
    )
    lrs, _ = connector()
    gone = list(lrs.gone([kept, voided]))
    assert gone == [
        VoidRecord(
            f"gone:{voided}",
            f"statement {voided} (404 on full resync)",
            voided,
            {"statementId": voided, "status": 404},
        )
    ]


NOTICE = CredentialNotice(
    credential_id="cred-1",
    category="cit",
    achievement_name="Crisis Intervention Team (CIT)",
    issued_at=datetime(2026, 2, 1, tzinfo=UTC),
    credential="eyJ.x.y",
    email="ann@a.example",
    person_name="Ann Lee",
)


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_push_twice_is_harmless_and_revoke_voids_the_same_statement() -> None:
    responses.put(STATEMENTS, status=204)
    responses.put(STATEMENTS, status=409)
    responses.put(STATEMENTS, status=204)
    lrs, _ = connector()
    first, second = lrs.push(NOTICE), lrs.push(NOTICE)
    assert first == second
    voiding_id = lrs.revoke(NOTICE)
    sent = [json.loads(call.request.body) for call in responses.calls]
    assert [parse_qs(urlsplit(c.request.url).query)["statementId"][0] for c in responses.calls] == [
        first,
        first,
        voiding_id,
    ]
    assert sent[0] == sent[1]
    assert sent[0]["verb"]["id"] == "https://w3id.org/xapi/tla/verbs/achieved"
    assert sent[0]["actor"]["mbox"] == "mailto:ann@a.example"
    assert sent[0]["result"]["extensions"] == {
        "https://onemind.example/xapi/extensions/credential": "eyJ.x.y"
    }
    assert sent[2]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert sent[2]["object"] == {"objectType": "StatementRef", "id": first}


def test_push_without_email_needs_an_account_home_page() -> None:
    lrs, _ = connector()
    anonymous = CredentialNotice("c2", "mhfa", "MHFA", NOTICE.issued_at, "jwt", employee_id="E1")
    with pytest.raises(ConfigurationError, match="account_home_page"):
        lrs.credential_statement(anonymous)
    lrs, _ = connector(account_home_page="https://lms.example")
    actor = lrs.credential_statement(anonymous).actor
    assert (actor.account.home_page, actor.account.name) == ("https://lms.example", "E1")
