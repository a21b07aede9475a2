"""Reading xAPI statements: which earn credit, which retract it, which are malformed."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from onemind.connectors.xapi_statements import StatementRules, read_statement
from onemind.domain.records import CompletionRecord, Rejected, VoidRecord

SID = "6f1c2b9e-8d4a-4f0e-9c1b-2a3d4e5f6a7b"
TARGET = "0b5e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def statement(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": SID,
        "actor": {"objectType": "Agent", "mbox": "mailto:Ann.Lee@A.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {
            "objectType": "Activity",
            "id": "https://lms.example/courses/cit-40",
            "definition": {
                "name": {"fr": "Cours", "en-US": "CIT Basic"},
                "type": "http://adlnet.gov/expapi/activities/course",
            },
        },
        "result": {"completion": True, "success": True},
        "timestamp": "2025-03-01T02:30:00Z",
        "stored": "2025-03-02T10:00:00Z",
    }
    base.update(changes)
    return base


def test_completion_statement_becomes_a_completion() -> None:
    record = read_statement(statement(), StatementRules())
    assert isinstance(record, CompletionRecord)
    assert (
        record.external_id,
        record.email,
        record.course_key,
        record.course_title,
        record.completed_on,
    ) == (
        SID,
        "ann.lee@a.example",
        "https://lms.example/courses/cit-40",
        "CIT Basic",
        date(2025, 3, 1),
    )


def test_completion_date_is_the_timestamp_in_the_configured_zone() -> None:
    rules = StatementRules(timezone=ZoneInfo("America/Chicago"))
    record = read_statement(statement(), rules)
    assert isinstance(record, CompletionRecord)
    assert record.completed_on == date(2025, 2, 28)
    no_timestamp = statement()
    del no_timestamp["timestamp"]
    fallback = read_statement(no_timestamp, StatementRules())
    assert isinstance(fallback, CompletionRecord)
    assert fallback.completed_on == date(2025, 3, 2)


@pytest.mark.parametrize(
    "changes",
    [
        {"result": {"completion": True, "success": False}},
        {"verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}},
        {"result": {"completion": False}},
    ],
    ids=["failed", "other-verb", "not-completed"],
)
def test_statements_that_earn_nothing(changes: dict[str, Any]) -> None:
    assert read_statement(statement(**changes), StatementRules()) is None


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ({"mbox_sha1sum": "ABCDEF0123"}, {"mbox_sha1sum": "abcdef0123"}),
        (
            {"account": {"homePage": "https://lms.example", "name": "SPD-7"}},
            {"employee_id": "SPD-7"},
        ),
    ],
)
def test_actor_identifiers(actor: dict[str, Any], expected: dict[str, str]) -> None:
    record = read_statement(statement(actor=actor), StatementRules())
    assert isinstance(record, CompletionRecord)
    assert {k: getattr(record, k) for k in expected} == expected


def test_account_can_be_kept_as_an_account() -> None:
    actor = {"account": {"homePage": "https://lms.example", "name": "u42"}}
    record = read_statement(statement(actor=actor), StatementRules(account_as="account"))
    assert isinstance(record, CompletionRecord)
    assert (record.account, record.employee_id) == ("https://lms.example|u42", None)


def test_voiding_statement_names_its_target() -> None:
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": TARGET},
    )
    record = read_statement(voiding, StatementRules())
    assert isinstance(record, VoidRecord)
    assert record.target_external_id == TARGET


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"verb": None}, "verb.id: missing"),
        ({"id": "42"}, "id: '42' is not a UUID"),
        ({"actor": {"objectType": "Group", "member": []}}, "actor: a Group cannot earn"),
        ({"actor": {"name": "Ann"}}, "actor: no mbox, mbox_sha1sum or account"),
        ({"timestamp": "yesterday"}, "timestamp: 'yesterday' is not an ISO 8601 time"),
        (
            {
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "Activity", "id": "x"},
            },
            "must target a StatementRef",
        ),
    ],
)
def test_malformed_statements_are_rejected_with_reason(
    changes: dict[str, Any], reason: str
) -> None:
    record = read_statement(statement(**changes), StatementRules())
    assert isinstance(record, Rejected)
    assert reason in record.reason
    assert record.location.startswith("statement ")


def test_hours_from_a_configured_extension() -> None:
    extension = "https://onemind.example/xapi/hours"
    data = statement(result={"completion": True, "extensions": {extension: "40"}})
    record = read_statement(data, StatementRules(hours_extension=extension))
    assert isinstance(record, CompletionRecord)
    assert record.hours == 40.0


@pytest.mark.parametrize(
    ("sid", "kept"),
    [
        (SID, True),
        (SID.upper(), True),
        (SID.replace("-", ""), True),  # forms uuid.UUID reads are read as before
        ("{" + SID + "}", True),
        (f"urn:uuid:{SID}", True),
        (SID[:-1] + "g", False),
        (SID + "0", False),
        (SID.replace("-", "_"), False),
    ],
)
def test_statement_ids_are_read_as_uuid_reads_them(sid: str, kept: bool) -> None:
    record = read_statement(statement(id=sid), StatementRules())
    assert isinstance(record, CompletionRecord) == kept
    assert isinstance(record, Rejected) != kept
