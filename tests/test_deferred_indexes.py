"""A first load into an empty `completion` builds its secondary indexes after the load, and no
way a load can end (done, failed, killed) leaves them missing past the next sync or init."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cli_run import onemind
from sqlalchemy import Connection, Engine, delete, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS, COMPLETIONS_HEADER, files, make_settings, run  # noqa: F401  (fixture)

from onemind.store.db import transaction
from onemind.store.deferred_indexes import DEFERRED, _claimed, _drop_if_empty, build, built_after
from onemind.store.models import Completion, DeferredIndex
from onemind.store.writer import RecordWriter


def index_statements(connection: Connection) -> dict[str, str]:
    """Every index of `completion`, by name, with the statement the database gives for it."""
    if connection.dialect.name == "postgresql":
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'completion'"
    else:
        query = (
            "SELECT name, coalesce(sql, '') FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'completion'"
        )
    return {name: statement for name, statement in connection.execute(text(query))}


def indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return index_statements(connection)


def kept(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(DeferredIndex.name)))


@pytest.fixture
def during_pulls(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The indexes of `completion` as each batch of records was written."""
    seen: list[set[str]] = []
    write = RecordWriter.write

    def noting(self: RecordWriter, records: Any) -> Any:
        if records:
            seen.append(set(index_statements(self.session.connection())))
        return write(self, records)

    monkeypatch.setattr(RecordWriter, "write", noting)
    return seen


def test_a_first_load_drops_the_secondary_indexes_and_builds_them_as_they_were(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    during_pulls: list[set[str]],
) -> None:
    before = indexes(engine)
    assert set(DEFERRED) < set(before)
    outcome = run(make_settings(files), sessions, now)
    assert outcome.ok
    roster, completions = during_pulls
    assert set(DEFERRED) < roster  # a roster pull writes no completion
    assert not set(DEFERRED) & completions
    assert indexes(engine) == before
    assert kept(engine) == []
    report = outcome.reports[0].to_json()
    assert (report["sworn_total"], report["sworn_crisis"], report["sworn_trained"]) == (4, 1, 2)


def test_a_load_into_a_table_holding_completions_keeps_its_indexes(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    during_pulls: list[set[str]],
) -> None:
    settings = make_settings(files)
    assert run(settings, sessions, now).ok
    during_pulls.clear()
    more = "5,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2025-03-01,\n"
    (files / "completions.csv").write_text(COMPLETIONS + more)
    sent: list[str] = []

    def noting(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", noting)
    try:
        outcome = run(settings, sessions, now)
    finally:
        event.remove(engine, "before_cursor_execute", noting)
    assert outcome.ok and {r.source: r.stats.new for r in outcome.results}["completions"] == 1
    assert all(set(DEFERRED) < seen for seen in during_pulls)
    assert kept(engine) == []
    # a nightly load locks nothing for the indexes: not `completion`, not the kept statements
    assert not [s for s in sent if s.startswith(("LOCK", "UPDATE deferred_index"))]


def test_a_load_that_fails_builds_the_indexes_before_it_reports(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = indexes(engine)
    rows = "".join(f"{n},,CIT-40,CIT Basic,,40,2024-01-01,\n" for n in range(6000))
    (files / "completions.csv").write_text(COMPLETIONS_HEADER + rows)
    write = RecordWriter.write
    batches = iter(range(2))

    def failing_second(self: RecordWriter, records: Any) -> Any:
        if records and next(batches, 1) == 1:
            raise RuntimeError("disk on fire")
        return write(self, records)

    monkeypatch.setattr(RecordWriter, "write", failing_second)
    settings = make_settings(files)
    (result,) = run(settings, sessions, now, names=["completions"]).results
    assert result.error is not None and "disk on fire" in result.error
    assert indexes(engine) == before
    assert kept(engine) == []


@pytest.fixture
def killed_mid_load(sessions: sessionmaker[Session], engine: Engine) -> Iterator[dict[str, str]]:
    """The store as a first load killed outright leaves it: indexes dropped, statements kept;
    the indexes it had before."""
    before = indexes(engine)
    load = built_after(sessions, load=True)
    load.__enter__()  # and never left, as a process killed with -9 never leaves it
    assert kept(engine) == sorted(DEFERRED)
    assert not set(DEFERRED) & set(indexes(engine))
    yield before


def test_the_next_sync_builds_what_a_killed_load_left_dropped(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    killed_mid_load: dict[str, str],
    during_pulls: list[set[str]],
) -> None:
    settings = make_settings(files)
    assert run(settings, sessions, now, names=["roster"]).ok
    assert indexes(engine) == killed_mid_load and kept(engine) == []
    assert during_pulls == [set(killed_mid_load)]


def test_init_builds_what_a_killed_load_left_dropped(
    tmp_path: Path,
    engine: Engine,
    killed_mid_load: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "onemind.toml"
    url = engine.url.render_as_string(hide_password=False)
    config.write_text(f'[store]\nurl = "{url}"\n')
    code, _, err = onemind(capsys, "--config", str(config), "init")
    assert code == 0, err
    assert indexes(engine) == killed_mid_load and kept(engine) == []
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Completion)) == 0


def test_two_processes_building_what_a_killed_load_left_build_it_once(
    sessions: sessionmaker[Session], engine: Engine, killed_mid_load: dict[str, str]
) -> None:
    with ThreadPoolExecutor(1) as other, transaction(sessions) as first:
        claimed = _claimed(first)
        assert sorted(name for name, _ in claimed) == sorted(DEFERRED)
        second = other.submit(build, sessions)
        time.sleep(0.5)
        assert not second.done()  # waits for the first to build them
        for _, definition in claimed:
            first.execute(text(definition))
        first.execute(delete(DeferredIndex))
    assert second.result(timeout=30) == []
    assert indexes(engine) == killed_mid_load


def test_a_load_starting_beside_another_first_load_keeps_the_others_statements(
    sessions: sessionmaker[Session], engine: Engine, killed_mid_load: dict[str, str]
) -> None:
    """Another load dropped the indexes between this one's build and its drop (the state
    `killed_mid_load` leaves): this one finds nothing to drop and loses none of the statements."""
    _drop_if_empty(sessions)
    assert kept(engine) == sorted(DEFERRED)
    assert sorted(build(sessions)) == sorted(DEFERRED)
    assert indexes(engine) == killed_mid_load
