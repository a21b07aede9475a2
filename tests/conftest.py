"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, a fixed clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.db import make_engine, session_factory, upgrade
from onemind.store.models import Base
from onemind.sync import roles

pytest_plugins = ["lrs_server", "fault_figures"]

PG_SERVER = os.environ.get(
    "ONEMIND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, dropped at the end."""
    admin = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    name = f"onemind_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc.orig}")
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    upgrade(make_engine(url))
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """One engine on the run's PostgreSQL database for a module's property tests (which
    empty the store themselves between examples)."""
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once per run; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "onemind.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("store") / "onemind.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
    else:
        engine = make_engine(request.getfixturevalue("pg_url"))
        _empty(engine)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def change_role(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """`change_role("roster", batch_size=1)`: the role's sources synced so for this test."""

    def change(name: str, **changes: Any) -> None:
        monkeypatch.setitem(roles.ROLES, name, replace(roles.ROLES[name], **changes))

    return change
