"""A completions file synced again: the rows the store holds as they are are set aside,
neither parsed nor rewritten; the new and changed rows are written as on a first load."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from snapshot import dump
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from test_sync import AS_OF, COMPLETIONS_HEADER, ROSTER, make_settings, run

from onemind.connectors import people_rows
from onemind.connectors.tabular import TabularConnector
from onemind.domain.records import CompletionRecord
from onemind.store.models import Completion, Course, QuarantinedRecord, RawRecord, Source, SyncRun
from onemind.store.repeats import own_fingerprint
from onemind.sync.runner import SyncRunner

ROWS = [
    "1,,CIT-40,CIT Basic 40-Hour,,40,2024-01-01,",
    ",bob@a.example,MHFA-PS,Mental Health First Aid,,8,2025-01-01,",
    ",cat@a.example,CIT-TC,CIT for Telecommunicators,,16,2024-01-01,",
    "4,,FQ,Firearms Qualification,,8,2025-03-01,",
    "5,,MHFA-PS,Mental Health First Aid,,8,2025-04-01,",
]


def write(folder: Path, rows: list[str]) -> None:
    (folder / "roster.csv").write_text(ROSTER)
    (folder / "completions.csv").write_text(COMPLETIONS_HEADER + "".join(r + "\n" for r in rows))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The locations of the completion rows parsed (into records) from here on."""
    seen: list[str] = []
    parse = people_rows.completion

    def noting(reader: TabularConnector, values: dict[str, Any], location: str, *rest: Any) -> Any:
        seen.append(location)
        return parse(reader, values, location, *rest)

    monkeypatch.setattr(people_rows, "completion", noting)
    return seen


def raw_rows(sessions: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    with sessions() as session:
        rows = session.execute(
            select(RawRecord.external_id, RawRecord.payload_hash, RawRecord.last_run_id)
            .join(Source, Source.id == RawRecord.source_id)
            .where(Source.name == "completions")
        )
        return {key: (digest, run) for key, digest, run in rows}


def test_a_nightly_export_writes_only_its_new_and_changed_rows(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, parsed: list[str]
) -> None:
    settings = make_settings(tmp_path)
    write(tmp_path, ROWS)
    run(settings, sessions, now)
    before = raw_rows(sessions)
    parsed.clear()
    changed = ROWS[1].replace(",8,2025-01-01,", ",8,2025-01-01,2027-01-01")
    added = "2,,CIT-40,CIT Basic 40-Hour,,40,2026-10-01,"
    write(tmp_path, [ROWS[0], changed, *ROWS[2:], added])
    outcome = run(settings, sessions, now + timedelta(days=1))
    stats = {r.source: r.stats for r in outcome.results}["completions"]
    assert (stats.fetched, stats.new, stats.updated, stats.quarantined) == (6, 1, 1, 0)
    assert parsed == ["completions.csv:3", "completions.csv:7"]
    after = raw_rows(sessions)
    unchanged = [k for k in before if k in after and "bob" not in k]
    assert len(unchanged) == 4
    assert all(after[k] == before[k] for k in unchanged)  # not rewritten, not even touched
    with sessions() as session:
        dates = session.scalars(select(Completion.expires_on).where(Completion.email.is_not(None)))
        assert sorted(str(d) for d in dates) == ["2027-01-01", "None"]


def test_rows_set_aside_keep_the_rules_of_repeats(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    """A later row of a key set aside is a repeat of it: counted if it says the same,
    quarantined, naming the first, if not."""
    settings = make_settings(tmp_path)
    write(tmp_path, ROWS)
    run(settings, sessions, now)
    other = ROWS[0].replace("CIT Basic 40-Hour,,40", "CIT Basic 40-Hour,,32")
    write(tmp_path, [*ROWS, ROWS[0], other])
    outcome = run(settings, sessions, now + timedelta(days=1))
    stats = {r.source: r.stats for r in outcome.results}["completions"]
    assert (stats.new, stats.updated, stats.repeated, stats.quarantined) == (0, 0, 1, 1)
    with sessions() as session:
        bad = session.scalars(select(QuarantinedRecord)).one()
        hours = session.scalars(select(Completion.hours).where(Completion.employee_id == "1"))
        assert list(hours) == [40.0]
    assert (bad.location, bad.reason) == (
        "completions.csv:8",
        "repeats completions.csv:2 with other hours; the first is kept",
    )


def test_a_store_of_the_records_own_digests_is_taken_as_it_is(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    parsed: list[str],
) -> None:
    """Rows a store kept with their record's own digest, before the connector digested
    rows, are unchanged: their digests are replaced once, nothing is counted updated."""
    settings = make_settings(tmp_path)
    write(tmp_path, ROWS)
    run(settings, sessions, now)
    digested = raw_rows(sessions)
    connector = TabularConnector(settings.source("completions"))
    records = [r for r in connector.pull(None) if isinstance(r, CompletionRecord)]
    owns = {r.external_id: own_fingerprint(r) for r in records}
    with sessions() as session, session.begin():
        for key, digest in owns.items():
            session.execute(
                update(RawRecord).where(RawRecord.external_id == key).values(payload_hash=digest)
            )
    before = dump(engine, {"raw_record": {"payload_hash"}})
    parsed.clear()
    first = run(settings, sessions, now + timedelta(days=1), full=True)
    stats = {r.source: r.stats for r in first.results}["completions"]
    assert (stats.new, stats.updated, stats.quarantined) == (0, 0, 0)
    assert len(parsed) == len(ROWS)
    assert {k: d for k, (d, _) in raw_rows(sessions).items()} == {
        k: d for k, (d, _) in digested.items()
    }
    assert dump(engine, {"raw_record": {"payload_hash"}}) == before
    parsed.clear()
    run(settings, sessions, now + timedelta(days=2), full=True)
    assert parsed == []


def test_a_changed_default_provider_rewrites_the_rows_it_fills(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    write(tmp_path, ROWS)
    run(make_settings(tmp_path), sessions, now)
    extra = make_settings(tmp_path).model_dump()
    extra["sources"][1]["provider"] = "State Academy"
    settings = type(make_settings(tmp_path)).model_validate(extra)
    outcome = run(settings, sessions, now + timedelta(days=1), full=True)
    stats = {r.source: r.stats for r in outcome.results}["completions"]
    assert (stats.new, stats.updated) == (0, len(ROWS))
    with sessions() as session:
        assert set(session.scalars(select(Completion.provider))) == {"State Academy"}


def test_a_stopped_runs_completions_are_catalogued_by_the_next_finish(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    change_role: Callable[..., None],
) -> None:
    """The rerun sets aside the rows the stopped run wrote; its finish catalogues them."""
    change_role("completions", batch_size=2)
    settings = make_settings(tmp_path)
    write(tmp_path, ROWS)
    stop = threading.Event()

    def stop_after_first_batch(source: str, _done: int, _total: int | None) -> None:
        if source == "completions":
            stop.set()

    stopped = SyncRunner(settings, sessions, lambda: now, stop_after_first_batch, stop=stop)
    assert stopped.run(as_of=AS_OF).stopped
    outcome = run(settings, sessions, now + timedelta(days=1))
    stats = {r.source: r.stats for r in outcome.results}["completions"]
    assert (stats.new, stats.repeated) == (len(ROWS) - 2, 0)
    with sessions() as session:
        courses = set(session.scalars(select(Course.course_key)))
        assert courses == {"CIT-40", "MHFA-PS", "CIT-TC", "FQ"}
        assert set(session.scalars(select(SyncRun.catalogued))) == {True}


def test_a_workbook_synced_again_writes_only_its_new_row(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, parsed: list[str]
) -> None:
    """An XLSX export's cells are dates and numbers: its rows are digested and set aside
    as a CSV's are."""
    extra = '[[sources]]\nname = "workbook"\nkind = "xlsx"\nrole = "completions"\n'
    settings = make_settings(tmp_path, extra + 'path = "completions.xlsx"\n')
    write(tmp_path, ROWS)
    rows = [[1, "CIT-40", date(2024, 1, 1), 40], [4, "FQ", date(2025, 3, 1), 8.5]]
    workbook(tmp_path / "completions.xlsx", rows)
    run(settings, sessions, now)
    parsed.clear()
    workbook(tmp_path / "completions.xlsx", [*rows, [5, "MHFA-PS", date(2025, 4, 1), 8]])
    outcome = run(settings, sessions, now + timedelta(days=1))
    stats = {r.source: r.stats for r in outcome.results}["workbook"]
    assert (stats.fetched, stats.new, stats.updated) == (3, 1, 0)
    assert parsed == ["completions.xlsx:4"]


def workbook(path: Path, rows: list[list[Any]]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["employee_id", "course_id", "completed_on", "hours"])
    for row in rows:
        sheet.append(row)
    book.save(path)
