"""Smoke test of the Ralph LRS fixture, pinning down how Ralph 5.1.0 (fs backend) behaves.

The xAPI connector is built against these observations; a test that fails after a Ralph
upgrade tells which of them changed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests
from lrs_server import LrsServer

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE = "https://lms.example.org/course/one-mind/mental-health-first-aid"


def statement(n: int, timestamp: str, verb: str = COMPLETED, **extra: Any) -> dict[str, Any]:
    return {
        "actor": {"objectType": "Agent", "mbox": f"mailto:officer{n}@example.com"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": f"{COURSE}/{n}"},
        "timestamp": timestamp,
        **extra,
    }


def get(lrs: LrsServer, path: str = "statements", **params: Any) -> requests.Response:
    response = lrs.request("GET", path, params=params)
    assert response.status_code == 200, response.text
    return response


def test_post_get_and_page_through_more(fresh_lrs: LrsServer) -> None:
    lrs = fresh_lrs
    assert lrs.endpoint.endswith("/xAPI/")
    posted = [statement(n, f"2026-0{n}-01T09:00:00Z") for n in (1, 2, 3)]

    ids = lrs.post_statements(posted[:2]) + lrs.post_statements(posted[2:])  # 2nd POST: fix 1

    assert len(ids) == 3
    response = get(lrs)
    # Ralph sends neither X-Experience-API-Version nor X-Experience-API-Consistent-Through.
    assert "X-Experience-API-Consistent-Through" not in response.headers
    assert "X-Experience-API-Version" not in response.headers
    body = response.json()
    assert "more" not in body
    got = body["statements"]
    assert [s["id"] for s in got] == ids  # oldest stored first
    for sent, stored in zip(posted, got, strict=True):
        assert {k: stored[k] for k in sent} == sent  # timestamps kept verbatim ("Z")
        assert stored["authority"] == {
            "objectType": "Agent",
            "mbox": f"mailto:{lrs.username}@lrs.test",
        }
        assert stored["stored"].endswith("+00:00")
        assert "version" not in stored

    first = get(lrs, limit=2).json()
    # `more` is a path from the server root keeping every query parameter, plus Ralph's
    # own `pit_id` (literally "None" on fs) and `search_after` (the last id of the page).
    assert first["more"] == f"/xAPI/statements?limit=2&pit_id=None&search_after={ids[1]}"
    assert [s["id"] for s in first["statements"]] == ids[:2]
    second = get(lrs, first["more"]).json()
    assert [s["id"] for s in second["statements"]] == ids[2:]
    assert "more" not in second
    # A page that is exactly full announces `more`, which then is an empty last page.
    full = get(lrs, limit=3).json()
    assert len(full["statements"]) == 3
    assert get(lrs, full["more"]).json() == {"statements": []}
    assert [s["id"] for s in lrs.all_statements(limit=1)] == ids


def test_put_with_statement_id(fresh_lrs: LrsServer) -> None:
    lrs = fresh_lrs
    statement_id = str(uuid.uuid4())
    sent = statement(4, "2026-04-01T09:00:00+00:00")

    put = lrs.request("PUT", params={"statementId": statement_id}, json=sent)
    assert put.status_code == 204, put.text

    # GET by statementId answers a StatementResult ({"statements": [...]}), not the
    # bare Statement xAPI requires; an unknown id is an empty list, not a 404.
    by_id = get(lrs, statementId=statement_id).json()
    assert list(by_id) == ["statements"]
    assert [s["id"] for s in by_id["statements"]] == [statement_id]
    assert get(lrs, statementId=str(uuid.uuid4())).json() == {"statements": []}

    # Same statement again: 204, by PUT and by POST (an all-known batch gives 204).
    again = lrs.request("PUT", params={"statementId": statement_id}, json=sent)
    assert again.status_code == 204, again.text
    assert lrs.post_statements([{**sent, "id": statement_id}]) == []
    # A different one under that id: 409.
    other = {**sent, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}}
    conflict = lrs.request("PUT", params={"statementId": statement_id}, json=other)
    assert conflict.status_code == 409
    # Without a timestamp Ralph stamps each request with its own time, so even the very
    # same statement conflicts with itself: always send a timestamp.
    untimed = {k: v for k, v in sent.items() if k != "timestamp"}
    untimed_id = str(uuid.uuid4())
    first = lrs.request("PUT", params={"statementId": untimed_id}, json=untimed)
    assert first.status_code == 204
    second = lrs.request("PUT", params={"statementId": untimed_id}, json=untimed)
    assert second.status_code == 409
    assert len(lrs.all_statements()) == 2


def test_filters_and_deviations(fresh_lrs: LrsServer) -> None:
    lrs = fresh_lrs
    old, new = lrs.post_statements(
        [statement(5, "2025-01-01T00:00:00Z"), statement(6, "2026-06-01T00:00:00Z")]
    )
    [voiding] = lrs.post_statements(
        [
            statement(
                7,
                "2026-07-01T00:00:00Z",
                verb=VOIDED,
                object={"objectType": "StatementRef", "id": new},
            )
        ]
    )

    def ids(**params: Any) -> list[str]:
        return [s["id"] for s in get(lrs, **params).json()["statements"]]

    # since/until compare the statements' `timestamp`, not `stored`; a naive datetime is
    # a 500 (and so is any since/until query once a statement with a naive timestamp
    # is stored).
    assert ids(since="2025-06-01T00:00:00Z") == [new, voiding]
    assert ids(until="2025-06-01T00:00:00Z") == [old]
    naive = lrs.request("GET", params={"since": "2025-06-01T00:00:00"})
    assert naive.status_code == 500
    # Voiding is not applied: the voided statement is still listed and fetchable.
    assert new in ids()
    assert ids(statementId=new) == [new]
    # ...and voidedStatementId is ignored: it lists everything.
    assert ids(voidedStatementId=new) == [old, new, voiding]
    # `ascending` (any value, even "false") only reverses each page.
    assert ids(ascending="true") == [voiding, new, old]
    assert ids(ascending="false") == [voiding, new, old]
    # verb, activity (fix 2) and agent filters.
    assert ids(verb=VOIDED) == [voiding]
    assert ids(activity=f"{COURSE}/6") == [new]
    assert ids(agent=json.dumps({"mbox": "mailto:officer5@example.com"})) == [old]
    # Unknown parameters are refused.
    assert lrs.request("GET", params={"page": 2}).status_code == 400


def test_session_store_is_shared_and_clearable(lrs: LrsServer) -> None:
    actor = f"mailto:{uuid.uuid4().hex}@example.com"
    sent = {**statement(8, "2026-08-01T00:00:00Z"), "actor": {"mbox": actor}}
    [statement_id] = lrs.post_statements([sent])
    agent = json.dumps({"mbox": actor})
    assert [s["id"] for s in lrs.all_statements(agent=agent)] == [statement_id]
    assert lrs.statements_file.exists()
    lrs.clear()
    assert lrs.all_statements() == []
    unauthorised = requests.get(lrs.url(), auth=(lrs.username, "wrong"), timeout=30)
    assert unauthorised.status_code == 401
