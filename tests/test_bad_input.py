"""Bad input on both backends: a bad record is quarantined, the rest loads, the cursor advances."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from responses.registries import OrderedRegistry
from snapshot import dump
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.connectors.xapi_statements import StatementRules, read_statement
from onemind.domain.records import Rejected
from onemind.store.db import transaction
from onemind.store.history import recent_runs
from onemind.store.models import Completion, Person, QuarantinedRecord, RawRecord, Source
from onemind.store.writer import RecordWriter
from onemind.sync import loading
from onemind.sync.runner import SourceResult, SyncRunner

AS_OF = date(2026, 11, 26)
ROSTER = (
    "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on\n"
    "a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,\n"
    "a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,\n"
)
HEADER = "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
CIT = "CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour"
CIT_WITH_NUL = "CIT-40,Crisis Intervention Team (CIT) Ba\x00sic 40-Hour"
MHFA = "MHFA-PS,Mental Health First Aid for Public Safety"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def settings_for(tmp_path: Path, completions: str, statements: list[Any] | None = None) -> Settings:
    """A roster of two people, a completions file, and optionally an xAPI statements file."""
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(completions)
    # what is quarantined is looked at here, not the share that fails a run (test_dropped.py)
    files = {"kind": "csv", "quarantine_limit": 1}
    sources: list[dict[str, Any]] = [
        {"name": "roster", "role": "roster", "path": "roster.csv", **files},
        {"name": "completions", "role": "completions", "path": "completions.csv", **files},
    ]
    if statements is not None:
        (tmp_path / "statements.json").write_text(json.dumps(statements))
        sources.append(
            {"name": "lrs", "kind": "xapi-file", "path": "statements.json", "quarantine_limit": 1}
        )
    raw = {"agencies": [{"id": "a-pd", "name": "A", "pledged_on": date(2025, 1, 1)}]}
    return parse_settings({**raw, "sources": sources}, tmp_path / "onemind.toml")


def sync(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> dict[str, Any]:
    outcome = SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF)
    return {r.source: r for r in outcome.results}


def quarantined(session: Session, source: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(QuarantinedRecord.location, QuarantinedRecord.reason)
        .join(Source, Source.id == QuarantinedRecord.source_id)
        .where(Source.name == source)
        .order_by(QuarantinedRecord.location)
    )
    return [(location, reason) for location, reason in rows]


def stored(session: Session, source: str) -> list[tuple[str, float | None, str | None]]:
    rows = session.execute(
        select(Completion.course_key, Completion.hours, Completion.provider)
        .join(Source, Source.id == Completion.source_id)
        .where(Source.name == source)
        .order_by(Completion.course_key, Completion.completed_on)
    )
    return [(key, hours, provider) for key, hours, provider in rows]


def cursor_of(session: Session, source: str) -> dict[str, Any] | None:
    return session.scalar(select(Source.cursor).where(Source.name == source))


def ok(result: SourceResult) -> SourceResult:
    assert result.error is None, result.error
    return result


def second_run(tmp_path: Path, sessions: sessionmaker[Session], now: datetime, rows: str) -> Any:
    """The completions source's counts when `rows` follow a run that stored one CIT record."""
    settings = settings_for(tmp_path, f"{HEADER}1,,{CIT},,40,2024-01-01,\n")
    ok(sync(settings, sessions, now)["completions"])
    (tmp_path / "completions.csv").write_text(HEADER + rows)
    return ok(sync(settings, sessions, now)["completions"]).stats


# --- NUL characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (f"1,,{CIT_WITH_NUL},,40,2024-01-01,", "course_title"),
        (f"1\x00,,{CIT},,40,2024-01-01,", "employee_id"),
        (f"1,,{CIT},Acad\x00emy,40,2024-01-01,", "provider"),
    ],
)
def test_a_nul_in_a_csv_cell_quarantines_that_row_only(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, row: str, field: str
) -> None:
    settings = settings_for(tmp_path, f"{HEADER}{row}\n2,,{MHFA},,8,2025-01-01,\n")
    results = sync(settings, sessions, now)
    stats = ok(results["completions"]).stats
    assert (stats.new, stats.quarantined) == (1, 1)
    with sessions() as session:
        assert stored(session, "completions") == [("MHFA-PS", 8.0, None)]
        [(location, reason)] = quarantined(session, "completions")
        assert location == "completions.csv:2"
        assert reason.startswith(f"{field}: contains a NUL character")
        assert cursor_of(session, "completions") is not None


def test_a_nul_in_a_roster_cell_quarantines_that_person_only(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = settings_for(tmp_path, HEADER)
    (tmp_path / "roster.csv").write_text(ROSTER.replace("Bob,", "B\x00ob,"))
    stats = ok(sync(settings, sessions, now)["roster"]).stats
    assert (stats.new, stats.quarantined) == (1, 1)
    with sessions() as session:
        assert session.scalars(select(Person.first_name)).all() == ["Ann"]
        [(location, reason)] = quarantined(session, "roster")
        assert (location, reason.split(":")[0]) == ("roster.csv:3", "first_name")


def statement(sid: str, **changes: Any) -> dict[str, Any]:
    base = {
        "id": sid,
        "actor": {"mbox": "mailto:ann@a.example", "name": "Ann Lee"},
        "verb": {"id": COMPLETED},
        "object": {"id": "https://lms.example/cit", "definition": {"name": {"en": "CIT 40-hour"}}},
        "timestamp": "2025-05-05T12:00:00Z",
    }
    return base | changes


GOOD_ID = "0b5e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
BAD_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"actor": {"mbox": "mailto:bob@a.example", "name": "Bob\x00"}}, "actor.name"),
        (
            {"object": {"id": "https://lms.example/c\x00it"}},
            "object.id",
        ),
        ({"result": {"response": "ok\x00", "success": True}}, "result.response"),
        ({"context": {"extensions": {"https://x.example/\x00": 1}}}, "context.extensions.https"),
    ],
)
def test_a_nul_in_a_statement_quarantines_that_statement_only(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    changes: dict[str, Any],
    path: str,
) -> None:
    statements = [statement(BAD_ID, **changes), statement(GOOD_ID)]
    results = sync(settings_for(tmp_path, HEADER, statements), sessions, now)
    stats = ok(results["lrs"]).stats
    assert (stats.new, stats.quarantined) == (1, 1)
    with sessions() as session:
        assert stored(session, "lrs") == [("https://lms.example/cit", None, None)]
        [(location, reason)] = quarantined(session, "lrs")
        assert location == f"statement {BAD_ID}"
        assert reason.startswith(path) and "contains a NUL character" in reason
        payload = session.scalars(select(QuarantinedRecord.payload)).one()
        assert "\x00" not in json.dumps(payload, ensure_ascii=False)
        assert cursor_of(session, "lrs") is not None


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_statement_holding_nan_or_infinity_is_quarantined(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, number: float
) -> None:
    """Python reads NaN and Infinity in JSON; PostgreSQL's JSON refuses them."""
    bad = statement(BAD_ID, result={"score": {"raw": number}, "success": True})
    results = sync(settings_for(tmp_path, HEADER, [bad, statement(GOOD_ID)]), sessions, now)
    assert (ok(results["lrs"]).stats.new, results["lrs"].stats.quarantined) == (1, 1)
    with sessions() as session:
        [(_, reason)] = quarantined(session, "lrs")
        payload = session.scalars(select(QuarantinedRecord.payload)).one()
    assert reason == f"result.score.raw: {number} is not a number the store can keep"
    assert payload["result"]["score"]["raw"] == str(number)


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "-1", 1e9])
def test_hours_a_statement_cannot_have_reject_it(hours: Any) -> None:
    extension = "https://onemind.example/xapi/hours"
    data = statement(GOOD_ID, result={"extensions": {extension: hours}})
    rejected = read_statement(data, StatementRules(hours_extension=extension))
    assert isinstance(rejected, Rejected)
    assert rejected.reason.startswith(f"result.extensions[{extension}]: ")


def test_a_statement_id_with_a_nul_is_quarantined_where_it_is_named(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    statements = [statement("bad\x00id"), statement(GOOD_ID)]
    results = sync(settings_for(tmp_path, HEADER, statements), sessions, now)
    assert (ok(results["lrs"]).stats.new, results["lrs"].stats.quarantined) == (1, 1)
    with sessions() as session:
        [(location, reason)] = quarantined(session, "lrs")
    assert "\x00" not in location and "is not a UUID" in reason


def test_a_changed_record_with_a_nul_keeps_the_stored_version(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    """The update path screens as the insert path does."""
    stats = second_run(tmp_path, sessions, now, f"1,,{CIT},Ac\x00ad,40,2024-01-01,\n")
    assert (stats.updated, stats.quarantined) == (0, 1)
    with sessions() as session:
        assert stored(session, "completions") == [("CIT-40", 40.0, None)]


def test_a_utf16_file_fails_its_source_with_a_clear_line_on_both_backends(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = settings_for(tmp_path, HEADER)
    (tmp_path / "completions.csv").write_bytes(HEADER.encode("utf-16-le"))
    results = sync(settings, sessions, now)
    assert results["roster"].ok
    assert "holds NUL characters; is the file UTF-16?" in (results["completions"].error or "")


def test_a_field_longer_than_its_column_quarantines_that_row_only(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    """Over Python's default CSV field limit: read, then held to the column's length."""
    huge = "x" * 131_073
    rows = (
        f"1,,CIT-40,{huge},,40,2024-01-01,,\n"
        f"1,,CRIT,Crisis Response and Intervention Training,,40,2024-01-01,,{huge}\n"
        f"2,,{MHFA},,8,2025-01-01,,\n"
    )
    settings = settings_for(tmp_path, HEADER.replace("\n", ",notes\n") + rows)
    stats = ok(sync(settings, sessions, now)["completions"]).stats
    assert (stats.new, stats.quarantined) == (2, 1)
    with sessions() as session:
        assert [key for key, _, _ in stored(session, "completions")] == ["CRIT", "MHFA-PS"]
        assert quarantined(session, "completions") == [
            (
                "completions.csv:2",
                "course_title: 131073 characters, more than the 500 the store keeps",
            )
        ]
        payload = session.scalars(select(QuarantinedRecord.payload)).one()
    assert len(payload["course_title"]) < 1100


# --- Repeated records -----------------------------------------------------------------------


def test_an_identical_repeat_is_loaded_once_and_counted(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    rows = f"1,,{CIT},,40,2024-01-01,\n1,,{CIT},,40,2024-01-01,\n2,,{MHFA},,8,2025-01-01,\n"
    results = sync(settings_for(tmp_path, HEADER + rows), sessions, now)
    stats = ok(results["completions"]).stats
    assert (stats.fetched, stats.new, stats.repeated, stats.quarantined) == (3, 2, 1, 0)
    with sessions() as session:
        assert stored(session, "completions") == [("CIT-40", 40.0, None), ("MHFA-PS", 8.0, None)]
        location = session.scalars(
            select(RawRecord.location).where(RawRecord.external_id.like("%CIT-40%"))
        ).one()
        [run] = recent_runs(session, source="completions")
    assert location == "completions.csv:2"
    assert run.to_json()["repeated"] == 1


def repeats(filler: int) -> str:
    """A completion, `filler` other rows, the same completion with other hours and provider."""
    others = "".join(f"2,,C{n},Course {n},,1,2024-01-01,\n" for n in range(filler))
    return (
        f"{HEADER}1,,{CIT},Academy,40,2024-01-01,\n{others}"
        f"1,,{CIT},State Academy,32,2024-01-01,\n2,,{MHFA},,8,2025-01-01,\n"
    )


@pytest.mark.parametrize("batch", [5000, 3, 2])
def test_a_differing_repeat_is_quarantined_within_and_across_batches_and_transactions(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    change_role: Callable[..., None],
    batch: int,
) -> None:
    """Batches of 3 put the repeat in the next batch; batches of 2 in the next transaction."""
    change_role("completions", batch_size=batch)
    monkeypatch.setattr(loading, "COMMIT_RECORDS", 2 if batch == 2 else loading.COMMIT_RECORDS)
    results = sync(settings_for(tmp_path, repeats(3)), sessions, now)
    stats = ok(results["completions"]).stats
    assert (stats.fetched, stats.new, stats.updated) == (6, 5, 0)
    assert (stats.repeated, stats.quarantined) == (0, 1)
    with sessions() as session:
        cit = [row for row in stored(session, "completions") if row[0] == "CIT-40"]
        assert cit == [("CIT-40", 40.0, "Academy")]
        assert quarantined(session, "completions") == [
            (
                "completions.csv:6",
                "repeats completions.csv:2 with other hours, provider; the first is kept",
            )
        ]


@pytest.mark.parametrize(("batch", "batches"), [(3, 2), (2, 3)])
def test_a_first_load_looks_keys_up_only_for_a_batch_repeating_an_earlier_one(
    tmp_path: Path,
    engine: Engine,
    sessions: sessionmaker[Session],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    change_role: Callable[..., None],
    batch: int,
    batches: int,
) -> None:
    """On PostgreSQL only the last batch, which holds a key an earlier one took (in the same
    transaction, or an earlier one), is looked up: inserting it failed; SQLite looks up every
    batch. A later run of the source looks up only the rows the store does not hold as they
    are (here the one repeat quarantined)."""
    change_role("completions", batch_size=batch)
    monkeypatch.setattr(loading, "COMMIT_RECORDS", 2 if batch == 2 else loading.COMMIT_RECORDS)
    looked_up: list[int] = []
    look_up = RecordWriter._existing

    def counted(writer: RecordWriter, keys: list[str]) -> dict[str, Any]:
        if keys and writer.source_id == completions:  # not the roster's
            looked_up.append(len(keys))
        return look_up(writer, keys)

    monkeypatch.setattr(RecordWriter, "_existing", counted)
    settings = settings_for(tmp_path, repeats(3))
    with transaction(sessions) as session:
        session.add(Source(name="completions", kind="csv"))
    with sessions() as session:
        completions = session.scalar(select(Source.id).where(Source.name == "completions"))
    stats = ok(sync(settings, sessions, now)["completions"]).stats
    assert (stats.new, stats.quarantined) == (5, 1)
    every = [batch] * batches
    assert looked_up == ([batch] if engine.dialect.name == "postgresql" else every)
    with sessions() as session:
        assert quarantined(session, "completions") == [
            (
                "completions.csv:6",
                "repeats completions.csv:2 with other hours, provider; the first is kept",
            )
        ]
    looked_up.clear()
    outcome = SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF, full=True)
    assert all(r.ok for r in outcome.results)
    assert looked_up == [1]


@pytest.mark.parametrize("batch", [5000, 2])
def test_an_identical_repeat_in_a_later_transaction_is_counted(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    change_role: Callable[..., None],
    batch: int,
) -> None:
    change_role("completions", batch_size=batch)
    monkeypatch.setattr(loading, "COMMIT_RECORDS", batch)
    text = repeats(3).replace("State Academy,32", "Academy,40")
    stats = ok(sync(settings_for(tmp_path, text), sessions, now)["completions"]).stats
    assert (stats.fetched, stats.new, stats.repeated, stats.quarantined) == (6, 5, 1, 0)


@pytest.mark.parametrize("batch", [5000, 2])
def test_a_full_rerun_of_a_file_with_repeats_changes_nothing(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    change_role: Callable[..., None],
    batch: int,
) -> None:
    change_role("completions", batch_size=batch)
    text = repeats(3) + f"2,,{MHFA},,8,2025-01-01,\n"
    settings = settings_for(tmp_path, text)
    ok(sync(settings, sessions, now)["completions"])
    before = dump(engine)
    outcome = SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF, full=True)
    stats = {r.source: r.stats for r in outcome.results}["completions"]
    assert (stats.new, stats.updated, stats.repeated, stats.quarantined) == (0, 0, 1, 1)
    assert dump(engine) == before


def test_a_repeat_of_a_record_stored_by_an_earlier_run_is_an_update_then_a_repeat(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    """The update path: the first row of the new file updates the stored record."""
    rows = f"1,,{CIT},,32,2024-01-01,\n1,,{CIT},,32,2024-01-01,\n1,,{CIT},,16,2024-01-01,\n"
    stats = second_run(tmp_path, sessions, now, rows)
    assert (stats.updated, stats.repeated, stats.quarantined) == (1, 1, 1)
    with sessions() as session:
        assert stored(session, "completions") == [("CIT-40", 32.0, None)]


def test_a_roster_repeating_a_person_with_other_values_keeps_the_first(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = settings_for(tmp_path, HEADER)
    (tmp_path / "roster.csv").write_text(
        ROSTER + "a-pd,2,Bob,Ray,bob@a.example,false,Dispatcher,,2020-01-01,\n"
    )
    stats = ok(sync(settings, sessions, now)["roster"]).stats
    assert (stats.new, stats.quarantined) == (2, 1)
    with sessions() as session:
        [(location, reason)] = quarantined(session, "roster")
    assert (location, reason) == (
        "roster.csv:4",
        "repeats roster.csv:3 with other position, sworn; the first is kept",
    )


# --- Impossible dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completed", "expires", "reason"),
    [
        ("2099-01-01", "", "completed_on: 2099-01-01 is outside 1950-01-01 to 2026-11-27"),
        ("9999-12-31", "", "completed_on: 9999-12-31 is outside 1950-01-01 to 2026-11-27"),
        ("0001-01-01", "", "completed_on: 0001-01-01 is outside 1950-01-01 to 2026-11-27"),
        ("1949-12-31", "", "completed_on: 1949-12-31 is outside 1950-01-01 to 2026-11-27"),
        ("2026-11-28", "", "completed_on: 2026-11-28 is outside 1950-01-01 to 2026-11-27"),
        ("2024-01-01", "2023-12-31", "expires_on: 2023-12-31 is before completed_on 2024-01-01"),
    ],
)
def test_impossible_completion_dates_are_quarantined(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    completed: str,
    expires: str,
    reason: str,
) -> None:
    rows = f"1,,{CIT},,40,{completed},{expires}\n2,,{MHFA},,8,2025-01-01,\n"
    stats = ok(sync(settings_for(tmp_path, HEADER + rows), sessions, now)["completions"]).stats
    assert (stats.new, stats.quarantined) == (1, 1)
    with sessions() as session:
        [(location, stated)] = quarantined(session, "completions")
    assert location == "completions.csv:2" and stated.startswith(reason)


@pytest.mark.parametrize(
    ("completed", "expires"),
    [
        ("1950-01-01", ""),
        ("2026-11-27", ""),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01", "9999-12-31"),
    ],
)
def test_possible_completion_dates_at_the_edges_load(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, completed: str, expires: str
) -> None:
    rows = f"1,,{CIT},,40,{completed},{expires}\n"
    stats = ok(sync(settings_for(tmp_path, HEADER + rows), sessions, now)["completions"]).stats
    assert (stats.new, stats.quarantined) == (1, 0)


def test_a_statement_dated_in_the_far_future_is_quarantined(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    statements = [statement(BAD_ID, timestamp="2099-01-01T00:00:00Z"), statement(GOOD_ID)]
    results = sync(settings_for(tmp_path, HEADER, statements), sessions, now)
    assert (ok(results["lrs"]).stats.new, results["lrs"].stats.quarantined) == (1, 1)
    with sessions() as session:
        [(location, reason)] = quarantined(session, "lrs")
    assert location == f"statement {BAD_ID}" and reason.startswith("completed_on: 2099-01-01")


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_nul_in_a_statement_from_an_lrs_is_quarantined_and_the_cursor_moves_past_it(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    page = [
        statement(BAD_ID, stored="2026-01-01T00:00:00Z", actor={"mbox": "mailto:a\x00@a.example"}),
        statement(GOOD_ID, stored="2026-01-02T00:00:00Z"),
    ]
    responses.get("https://lrs.example/xAPI/statements", json={"statements": page, "more": ""})
    raw = {
        "agencies": [{"id": "a-pd", "name": "A"}],
        "sources": [
            {
                "name": "lrs",
                "kind": "xapi",
                "endpoint": "https://lrs.example/xAPI/",
                "username": "sync",
                "password": "env:LRS_PASSWORD",
                "since_field": "stored",
            }
        ],
    }
    settings = parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": "pw"})
    stats = ok(sync(settings, sessions, now)["lrs"]).stats
    assert (stats.new, stats.quarantined) == (1, 1)
    with sessions() as session:
        [(location, reason)] = quarantined(session, "lrs")
        assert (location, reason.split(":")[0]) == (f"statement {BAD_ID}", "actor.mbox")
        assert (cursor_of(session, "lrs") or {})["through"] == "2026-01-02T00:00:00Z"
