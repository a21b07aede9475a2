"""A first load into an empty `completion` builds its secondary indexes after the load, and no
way a load can end (done, failed, killed) leaves them missing past the next sync or init."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_run import onemind
from sqlalchemy import Connection, Engine, delete, event, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from test_sync import (  # noqa: F401  (fixture)
    COMPLETIONS,
    COMPLETIONS_HEADER,
    ROSTER,
    files,
    make_settings,
    run,
)

from onemind.errors import DanglingReferenceError
from onemind.store import deferred_indexes
from onemind.store.db import make_engine, session_factory, transaction
from onemind.store.deferred_indexes import (
    DEFERRED,
    ROSTER_DEFERRED,
    _claimed,
    _drop_if_empty,
    build,
    built_after,
)
from onemind.store.models import Agency, Completion, DeferredIndex, Employment, Source
from onemind.store.set_aside import SetAsideWriter
from onemind.store.writer import BatchStats, RecordWriter
from onemind.sync import lock, runs
from onemind.sync.loading import SourceLoad


def index_statements(connection: Connection, table: str = "completion") -> dict[str, str]:
    """Every index of `table`, by name, with the statement the database gives for it."""
    if connection.dialect.name == "postgresql":
        query = f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{table}'"
    else:
        query = (
            "SELECT name, coalesce(sql, '') FROM sqlite_master "
            f"WHERE type = 'index' AND tbl_name = '{table}'"
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
    load = built_after(sessions, deferred_indexes.COMPLETIONS)
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


# ---------------------------------------------------------------- a roster's first load

ROSTER_TABLES = ("employment", "person_identifier")


def roster_schema(engine: Engine) -> dict[str, Any]:
    """The indexes and foreign keys of the roster's tables, as the database gives them."""
    with engine.connect() as connection:
        found: dict[str, Any] = {}
        for table in ROSTER_TABLES:
            found[f"{table} indexes"] = index_statements(connection, table)
            keys = inspect(connection).get_foreign_keys(table)
            found[f"{table} keys"] = sorted(
                (k["name"], tuple(k["constrained_columns"])) for k in keys
            )
        return found


def roster_deferred(engine: Engine) -> list[str]:
    """The names a first roster load drops on this backend."""
    keys = deferred_indexes.ROSTER.foreign_keys if engine.dialect.name == "postgresql" else []
    return sorted([*ROSTER_DEFERRED, *keys])


@pytest.fixture
def roster_during_pulls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The roster's indexes and keys as each batch of a roster was written."""
    seen: list[dict[str, Any]] = []
    write = SetAsideWriter.write

    def noting(self: SetAsideWriter, records: Any) -> Any:
        if records:
            connection = self.session.connection()
            names = set(index_statements(connection, "employment"))
            names |= set(index_statements(connection, "person_identifier"))
            keys = {
                k["name"]
                for table in ROSTER_TABLES
                for k in inspect(connection).get_foreign_keys(table)
            }
            seen.append({"indexes": names, "keys": keys})
        return write(self, records)

    monkeypatch.setattr(SetAsideWriter, "write", noting)
    return seen


def test_a_first_roster_load_builds_its_secondary_indexes_and_keys_after_it(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
    roster_during_pulls: list[dict[str, Any]],
) -> None:
    before = roster_schema(engine)
    assert set(ROSTER_DEFERRED) < set(before["employment indexes"]) | set(
        before["person_identifier indexes"]
    )
    assert run(make_settings(files), sessions, now, names=["roster"]).ok
    (during,) = roster_during_pulls
    assert not set(ROSTER_DEFERRED) & during["indexes"]
    if engine.dialect.name == "postgresql":
        assert not during["keys"]  # checked per transaction by `references` meanwhile
    assert roster_schema(engine) == before
    assert kept(engine) == []
    roster_during_pulls.clear()
    (files / "roster.csv").write_text(
        ROSTER + "a-pd,6,Fay,Ash,fay@a.example,true,Officer,,2021-01-01,\n"
    )
    assert run(make_settings(files), sessions, now, names=["roster"]).ok
    (during,) = roster_during_pulls
    assert set(ROSTER_DEFERRED) < during["indexes"]  # a rerun keeps them up to date
    assert roster_schema(engine) == before


def test_a_killed_first_roster_load_is_built_by_the_next_sync(
    files: Path,  # noqa: F811
    sessions: sessionmaker[Session],
    engine: Engine,
    now: datetime,
) -> None:
    before = roster_schema(engine)
    load = built_after(sessions, deferred_indexes.ROSTER)
    load.__enter__()  # and never left, as a process killed with -9 never leaves it
    assert kept(engine) == roster_deferred(engine)
    assert roster_schema(engine) != before
    assert run(make_settings(files), sessions, now).ok
    assert roster_schema(engine) == before and kept(engine) == []


def test_while_a_first_roster_load_has_dropped_the_keys_a_dangling_row_keeps_nothing(
    sessions: sessionmaker[Session], engine: Engine, now: datetime
) -> None:
    load = built_after(sessions, deferred_indexes.ROSTER)
    load.__enter__()
    holder = lock.holder_id()
    with transaction(sessions) as session:
        session.add(Agency(id="a-pd", name="A"))
        session.add(Source(name="files", kind="csv"))
        session.flush()
        started = runs.start(session, "files", holder, now, timedelta(minutes=5))

    class Dangling(RecordWriter):
        def write(self, records: Any) -> BatchStats:
            self.session.execute(
                Employment.__table__.insert().values(
                    person_id=987_654,
                    agency_id="a-pd",
                    employee_id="1",
                    sworn=True,
                    hired_on=date(2020, 1, 1),
                )
            )
            return BatchStats(fetched=len(records))

    writing = SourceLoad(
        sessions,
        "files",
        started.run_id,
        holder,
        timedelta(minutes=5),
        lambda: now,
        BatchStats(),
        writer=Dangling,
    )
    with pytest.raises((DanglingReferenceError, IntegrityError)) as failure, writing:
        writing.write([object()])
        writing.commit()
    if engine.dialect.name == "postgresql":  # its keys dropped: `references` checks the rows
        assert failure.type is DanglingReferenceError
        assert "employment name a person that does not exist (person_id)" in str(failure.value)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Employment)) == 0
    load.__exit__(None, None, None)
    assert kept(engine) == []


def holding_source_then_wanting_employment(url: str, held: threading.Event) -> None:
    """Another load's transaction: it holds `source` (as one updating its cursor does), and
    once a first roster load waits for `source`, asks for `employment`, which that load holds.
    Its own deadlock timeout is long, so the roster load is the one to find the deadlock."""
    other = make_engine(url)
    try:
        with other.connect() as connection:
            connection.execute(text("SET lock_timeout = '20s'"))
            connection.execute(text("SET deadlock_timeout = '60s'"))
            connection.execute(text("LOCK TABLE source IN ROW EXCLUSIVE MODE"))
            held.set()
            awaited = text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation'"
                " AND relation = 'source'::regclass"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            deadline = time.monotonic() + 20
            while not connection.scalar(awaited):
                assert time.monotonic() < deadline, "no load waited for source"
                time.sleep(0.01)
            connection.execute(text("LOCK TABLE employment IN ROW EXCLUSIVE MODE"))
            connection.rollback()
    finally:
        other.dispose()


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_first_roster_load_whose_drop_deadlocks_keeps_its_indexes_and_keys(
    files: Path,  # noqa: F811
    engine: Engine,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    roster_during_pulls: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropping person_identifier's key to `source` locks `source`: a load holding it and
    waiting on the roster's tables deadlocks with the drop (CI saw it once). PostgreSQL fails
    the drop; the load keeps the indexes and keys up to date and loads all the same.

    The roster load's deadlock_timeout (3 s) and lock timeout (20 s) leave time for the other
    transaction to ask for `employment` once the drop waits: with 1 s and 2 s, a slow machine
    could make the drop's wait a lock timeout instead (given up just as well)."""
    url = engine.url.render_as_string(hide_password=False)
    loading_engine = make_engine(url)

    def patient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET deadlock_timeout = '3s'")
        cursor.close()

    event.listen(loading_engine, "connect", patient)
    monkeypatch.setattr(deferred_indexes, "LOCK_TIMEOUT", "20s")
    failed: list[str | None] = []
    drop = deferred_indexes._drop

    def noting(session: Session, deferral: deferred_indexes.Deferral) -> list[str]:
        try:
            return drop(session, deferral)
        except OperationalError as exc:
            failed.append(getattr(exc.orig, "sqlstate", None))
            raise

    monkeypatch.setattr(deferred_indexes, "_drop", noting)
    caplog.set_level(logging.INFO, logger=deferred_indexes.__name__)
    before = roster_schema(engine)
    held = threading.Event()
    try:
        with ThreadPoolExecutor(1) as others:
            other = others.submit(holding_source_then_wanting_employment, url, held)
            assert held.wait(timeout=30)
            sessions = session_factory(loading_engine)
            outcome = run(make_settings(files), sessions, now, names=["roster"])
            other.result(timeout=60)
    finally:
        loading_engine.dispose()
    assert failed == [deferred_indexes.DEADLOCK_DETECTED]
    assert "employment is in use: its indexes are kept up to date" in caplog.text
    (result,) = outcome.results
    assert result.ok and (result.stats.fetched, result.stats.new) == (5, 5)
    (during,) = roster_during_pulls
    assert set(ROSTER_DEFERRED) < during["indexes"]
    assert set(deferred_indexes.ROSTER.foreign_keys) == during["keys"]
    assert roster_schema(engine) == before and kept(engine) == []
