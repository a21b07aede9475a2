"""Interrupted syncs: a stop request, SIGTERM to `onemind serve`, and SIGKILL in mid-load."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import PG_SERVER
from fault_figures import FIGURES
from lrs_server import LrsServer
from snapshot import FIRST_WRITTEN, dump
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from test_lrs_faults import seed
from test_xapi_ralph import roster

from onemind.config import Settings, parse_settings
from onemind.store.db import make_engine
from onemind.store.deferred_indexes import DEFERRED
from onemind.store.models import (
    Completion,
    DeferredIndex,
    QuarantinedRecord,
    RawRecord,
    Source,
    SyncRun,
)
from onemind.sync.roles import BATCH_SIZE
from onemind.sync.runner import SyncRunner

AS_OF = "2026-11-26"
BIG = 30_000
COURSES = (
    ("CIT-40", "Crisis Intervention Team (CIT) Basic 40-Hour", 40),
    ("MHFA-PS", "Mental Health First Aid for Public Safety", 8),
    ("FQ", "Firearms Qualification", 8),
    ("EVOC", "Emergency Vehicle Operations Course", 16),
)
NAMES = ("Zoë", "José", "Siobhán", "Łukasz", "Ngọc", "Anne-Marie", "Bjørn")


def write_data(folder: Path, rows: int, people: int) -> int:
    """A roster and a completions file; returns how many completion rows are good."""
    with (folder / "roster.csv").open("w", encoding="utf-8") as roster:
        roster.write(
            "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on\n"
        )
        for i in range(people):
            sworn = i % 8 != 0
            position = "Officer" if sworn else "Dispatcher"
            roster.write(
                f"k-pd,E{i:05d},{NAMES[i % len(NAMES)]},Person{i},p{i}@k.example,{str(sworn).lower()},{position},,2020-01-01,\n"
            )
    bad = 0
    with (folder / "completions.csv").open("w", encoding="utf-8") as completions:
        completions.write(
            "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
        )
        for i in range(rows):
            key, title, hours = COURSES[i % len(COURSES)]
            day = (
                "2026-13-01"
                if i % 4999 == 4998
                else f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            )
            bad += day.startswith("2026-13")
            completions.write(
                f"E{(i * 7919) % (people + 50):05d},,{key}-{i % 97},{title},,{hours},{day},\n"
            )
    return rows - bad


def config_text(data: Path, url: str = "sqlite:///onemind.db") -> str:
    return f"""
[store]
url = "{url}"

[[agencies]]
id = "k-pd"
name = "K Police Department"
pledged_on = 2025-01-01

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "{data / "roster.csv"}"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "{data / "completions.csv"}"
"""


def settings_for(folder: Path) -> Settings:
    return parse_settings(tomllib.loads(config_text(folder)), folder / "onemind.toml")


def test_a_stop_request_commits_the_current_batch_and_a_rerun_completes(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    good = write_data(tmp_path, rows=5000, people=300)
    settings = settings_for(tmp_path)
    stop = threading.Event()

    def stop_after_first_batch(source: str, done: int, total: int | None) -> None:
        if source == "completions":
            stop.set()

    first = SyncRunner(settings, sessions, lambda: now, stop_after_first_batch, stop=stop)
    outcome = first.run(as_of=date.fromisoformat(AS_OF))
    assert outcome.ok and outcome.stopped and outcome.reports == []
    assert [r.status for r in outcome.results] == ["succeeded", "stopped"]
    with sessions() as session:
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None and (run.status, run.fetched) == ("stopped", BATCH_SIZE)
        assert (
            session.scalars(select(Source.cursor).where(Source.name == "completions")).one() is None
        )
        assert 0 < session.scalar(select(func.count()).select_from(Completion)) <= BATCH_SIZE

    again = SyncRunner(settings, sessions, lambda: now).run(as_of=date.fromisoformat(AS_OF))
    assert again.ok and not again.stopped
    assert again.reports[0].counts.sworn_total == 262
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == good
        assert session.scalar(select(func.count()).select_from(QuarantinedRecord)) == 5000 - good


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A completions file big enough that loading it takes several seconds."""
    folder = tmp_path_factory.mktemp("big")
    return folder, write_data(folder, rows=BIG, people=3000)


def onemind(folder: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ONEMIND_CONFIG"}
    command = [sys.executable, "-m", "onemind", "--config", str(folder / "onemind.toml"), *args]
    return subprocess.Popen(command, cwd=folder, env=env, text=True, **popen)  # type: ignore[call-overload]


def run_ok(folder: Path, *args: str) -> str:
    process = onemind(folder, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def store(folder: Path, data: Path, url: str | None = None) -> Engine:
    """A store initialised for the CSV sources, at `url` (else SQLite in `folder`)."""
    folder.mkdir()
    url = url or f"sqlite:///{folder / 'onemind.db'}"
    (folder / "onemind.toml").write_text(config_text(data, url))
    run_ok(folder, "init")
    return make_engine(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str | None]]:
    """Makes the URL of a new empty store on the test's backend (None: SQLite in its folder);
    PostgreSQL databases are dropped after the test."""
    if request.param == "sqlite":
        yield lambda: None
        return
    request.getfixturevalue("pg_url")  # skips, or fails in CI, when PostgreSQL is not there
    admin = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def database() -> str:
        made.append(f"onemind_kill_{uuid.uuid4().hex[:12]}")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{made[-1]}"'))
        return PG_SERVER.rsplit("/", 1)[0] + f"/{made[-1]}"

    yield database
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def wait_for_completions(engine: Engine, process: subprocess.Popen[str]) -> int:
    """Poll until some batches are committed, while the process is still loading."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            found = connection.scalar(text("SELECT count(*) FROM completion")) or 0
        if found:
            assert process.poll() is None, "the sync finished before it could be interrupted"
            return found
        time.sleep(0.05)
    process.kill()  # not left running after the test
    _, err = process.communicate()
    said = err or "(its output was not kept)"
    raise AssertionError(f"no completion was committed within 60 s; the process said:\n{said}")


def statuses(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        query = (
            select(Source.name, SyncRun.status)
            .join(Source, Source.id == SyncRun.source_id)
            .order_by(SyncRun.id)
        )
        return [(name, status) for name, status in connection.execute(query)]


@pytest.fixture(scope="module")
def clean(big: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A SQLite store that synced the big files without interruption."""
    data, good = big
    folder = tmp_path_factory.mktemp("clean") / "store"
    engine = store(folder, data)
    run_ok(folder, "sync", "--as-of", AS_OF)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Completion)) == good
        assert connection.scalar(select(func.count()).select_from(RawRecord)) == good + 3000
    return engine


def test_kill_9_in_mid_load_then_a_rerun_leaves_exactly_a_clean_runs_records(
    tmp_path: Path, big: tuple[Path, int], clean: Engine, store_url: Callable[[], str | None]
) -> None:
    data, good = big
    killed = store(tmp_path / "killed", data, store_url())
    process = onemind(
        tmp_path / "killed",
        "sync",
        "--as-of",
        AS_OF,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_completions(killed, process)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    FIGURES["kills"] += 1
    with killed.connect() as connection:
        partial = connection.scalar(select(func.count()).select_from(Completion))
    assert 0 < partial < good
    assert statuses(killed) == [("roster", "succeeded"), ("completions", "running")]
    assert left_dropped(killed) == sorted(DEFERRED)  # a first load: built when it ends

    run_ok(tmp_path / "killed", "sync", "--as-of", AS_OF)
    assert statuses(killed)[1:] == [
        ("completions", "abandoned"),
        ("roster", "succeeded"),
        ("completions", "succeeded"),
    ]
    assert same_store(killed, clean)
    assert left_dropped(killed) == []
    assert set(DEFERRED) <= completion_indexes(killed)
    FIGURES["identical resumes"] += 1
    killed.dispose()


def left_dropped(engine: Engine) -> list[str]:
    """The indexes of `completion` a load dropped and has not built again."""
    with engine.connect() as connection:
        return sorted(connection.scalars(select(DeferredIndex.name)))


def completion_indexes(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {index["name"] for index in inspect(connection).get_indexes("completion")}


def same_store(resumed: Engine, clean: Engine) -> bool:
    """The same rows; on another backend (whose sequences a killed transaction advanced), the
    same rows less their surrogate keys."""
    if resumed.dialect.name == clean.dialect.name:
        return dump(resumed, FIRST_WRITTEN) == dump(clean, FIRST_WRITTEN)
    return dump(resumed, FIRST_WRITTEN, keys=False) == dump(clean, FIRST_WRITTEN, keys=False)


def test_sigterm_stops_serve_after_the_current_batch(
    tmp_path: Path, big: tuple[Path, int], store_url: Callable[[], str | None]
) -> None:
    data, good = big
    engine = store(tmp_path / "serve", data, store_url())
    process = onemind(
        tmp_path / "serve", "serve", "--now", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for_completions(engine, process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "sync:completions: next run" in out and out.rstrip().endswith("stopped")
    with engine.connect() as connection:
        run = connection.execute(
            select(SyncRun.status, SyncRun.fetched, SyncRun.quarantined)
            .join(Source, Source.id == SyncRun.source_id)
            .where(Source.name == "completions")
        ).one()
        stored = connection.scalar(select(func.count()).select_from(Completion))
        cursor = connection.scalar(select(Source.cursor).where(Source.name == "completions"))
    assert run.status == "stopped" and run.fetched % BATCH_SIZE == 0
    assert stored == run.fetched - run.quarantined < good
    assert cursor is None
    engine.dispose()


LRS_KILLS = 2


def lrs_config(lrs: LrsServer, url: str) -> str:
    return f"""
[store]
url = "{url}"

[[agencies]]
id = "a-pd"
name = "A PD"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "lrs"
kind = "xapi"
endpoint = "{lrs.endpoint}"
username = "{lrs.username}"
password = "env:LRS_PASSWORD"
page_size = 20
"""


def lrs_store(folder: Path, lrs: LrsServer, url: str | None) -> Engine:
    folder.mkdir()
    roster(folder)
    url = url or f"sqlite:///{folder / 'onemind.db'}"
    (folder / "onemind.toml").write_text(lrs_config(lrs, url))
    run_ok(folder, "init")
    return make_engine(url)


def test_kill_9_at_random_points_of_an_lrs_sync_then_a_rerun_is_a_clean_run(
    tmp_path: Path,
    fresh_lrs: LrsServer,
    store_url: Callable[[], str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LRS_PASSWORD", fresh_lrs.password)
    fresh_lrs.post_statements(seed(datetime.now(UTC) - timedelta(days=1))[0])
    today = date.today().isoformat()
    clean = lrs_store(tmp_path / "clean", fresh_lrs, None)
    began = time.monotonic()
    run_ok(tmp_path / "clean", "sync", "--as-of", today)
    took = time.monotonic() - began
    chance = random.Random(12)
    for n in range(LRS_KILLS):
        folder = tmp_path / f"killed{n}"
        killed = lrs_store(folder, fresh_lrs, store_url())
        process = onemind(folder, "sync", "--as-of", today, stdout=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.2, 0.9) * took)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        FIGURES["kills"] += 1
        run_ok(folder, "sync", "--as-of", today)
        assert same_store(killed, clean)
        FIGURES["identical resumes"] += 1
        killed.dispose()
