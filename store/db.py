"""Engine, sessions and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from onemind.config.secrets import Secret
from onemind.errors import StoreError
from onemind.private_files import create_private

if TYPE_CHECKING:  # Alembic loads only to migrate: opening a current store needs none of it
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
PAGE_CACHE_KIB = 65_536
"""SQLite's page cache of every connection (web app, workers, syncs)."""
BULK = "onemind_bulk_cache"
"""Marks in a pooled connection's `info` that its page cache is a bulk load's, for now."""


def make_engine(url: str | Secret) -> Engine:
    """An engine tuned for this workload: WAL and foreign keys on SQLite.

    A SQLite file is created first, readable by its owner only (SQLite gives its -wal and -shm
    files the same mode), in folders made 0700 if missing.
    """
    url = _revealed(url)
    if url.startswith("sqlite"):
        _create_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _small_cache_again)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _revealed(url: str | Secret) -> str:
    return url.get() if isinstance(url, Secret) else url


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for an in-memory, URI-form or server database."""
    if not url.startswith("sqlite"):
        return None
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:" and not parsed.query.get("uri"):
        return Path(database)
    return None


def _create_sqlite_file(url: str) -> None:
    path = _sqlite_file(url)
    if path is not None:
        create_private(path)


def _require_sqlite_file(url: str) -> None:
    """Refuse a SQLite file that does not exist yet, rather than leave an empty one behind.

    Raises:
        StoreError: the file is missing.
    """
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        raise StoreError(f"no database at {path}: run 'onemind init'")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cursor.close()


def bulk_page_cache(connection: Connection, kib: int) -> None:
    """Give this SQLite connection a page cache of `kib` KiB until it goes back to the pool.

    A bulk load inserts into indexes whose pages it visits at random: pages that miss the
    cache are read again and again. Only the load's connection grows; the pool puts the
    cache of every connection back to PAGE_CACHE_KIB as it returns (`_small_cache_again`).
    Nothing on PostgreSQL.
    """
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
    connection.connection.info[BULK] = True


def _small_cache_again(dbapi_connection: Any, record: Any) -> None:
    """Put back the page cache of a connection a bulk load grew, as it returns to the pool."""
    if record is not None and record.info.pop(BULK, False):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration.

    Raises:
        StoreError: the database cannot be reached.
    """
    from alembic import command

    try:
        command.upgrade(alembic_config(engine), "head")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database at {safe_url(engine)}: {exc.orig}") from exc


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that `onemind init` has not brought up to date.

    Raises:
        StoreError: the schema is missing or older than this version of onemind.
    """
    head = head_revision()
    try:
        with engine.connect() as connection:
            current = _current_revision(connection)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot reach the database at {safe_url(engine)}: {exc}") from exc
    if current != head:
        raise StoreError(
            f"database at {safe_url(engine)} is not initialised or is out of date "
            f"(at {current or 'nothing'}, need {head}): run 'onemind init'"
        )


def head_revision() -> str:
    """The newest migration's revision, read from the file names (`NNNN_what_it_does.py`,
    revision "NNNN"; tests/test_store_open.py holds it to Alembic's own answer)."""
    return max(path.name.partition("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def _current_revision(connection: Connection) -> str | None:
    """The revision the database is at, read as Alembic keeps it; None before any migration.

    Raises:
        SQLAlchemyError: the database cannot be reached.
    """
    if not connection.dialect.has_table(connection, "alembic_version"):
        return None
    heads = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
    return ", ".join(sorted(heads)) or None


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def savepoint(session: Session) -> Iterator[Connection]:
    """A savepoint in the session's transaction, begun now; its connection.

    `Session.begin_nested` sends its SAVEPOINT only when the session is next asked for its
    connection: a statement sent before that, through a connection (or the driver's cursor)
    taken earlier, would run outside it, and its failure abort the whole transaction instead
    of rolling back to the savepoint. Asking here begins it before anything is sent; every
    statement after, however its connection was taken, is inside it.
    """
    with session.begin_nested():
        connection = session.connection()
        assert connection.in_nested_transaction()
        yield connection


def open_engine(url: str | Secret, migrate: bool = False) -> Engine:
    """An engine on a current database: migrated to the newest schema, or required to be so.

    Raises:
        StoreError: unreachable, or (without `migrate`) `onemind init` is needed.
    """
    if not migrate:
        _require_sqlite_file(_revealed(url))
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    else:
        require_current(engine)
    return engine


def open_store(url: str | Secret, migrate: bool = False) -> sessionmaker[Session]:
    """Sessions on a current database (see `open_engine`).

    Raises:
        StoreError: unreachable, or (without `migrate`) `onemind init` is needed.
    """
    return session_factory(open_engine(url, migrate))
