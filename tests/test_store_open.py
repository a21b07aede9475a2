"""Opening a store checks its schema revision with one query, without loading Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from onemind.errors import StoreError
from onemind.store.db import (
    PAGE_CACHE_KIB,
    alembic_config,
    bulk_page_cache,
    head_revision,
    make_engine,
    require_current,
)


def test_the_head_read_from_the_file_names_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def test_a_current_store_opens(engine: Engine) -> None:
    require_current(engine)


def altered(engine: Engine, change: str, undo: str) -> Iterator[None]:
    """The shared PostgreSQL database keeps its revision table: put it back after the test."""
    with engine.begin() as connection:
        connection.execute(text(change))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(undo))


@pytest.fixture
def older(engine: Engine) -> Iterator[None]:
    head = head_revision()
    yield from altered(
        engine,
        "UPDATE alembic_version SET version_num = '0001'",
        f"UPDATE alembic_version SET version_num = '{head}'",
    )


@pytest.fixture
def never_migrated(engine: Engine) -> Iterator[None]:
    yield from altered(
        engine,
        "ALTER TABLE alembic_version RENAME TO alembic_version_kept",
        "ALTER TABLE alembic_version_kept RENAME TO alembic_version",
    )


@pytest.mark.usefixtures("older")
def test_an_older_store_is_refused_naming_both_revisions(engine: Engine) -> None:
    with pytest.raises(StoreError, match=f"at 0001, need {head_revision()}\\): run 'onemind init'"):
        require_current(engine)


@pytest.mark.usefixtures("never_migrated")
def test_a_store_never_migrated_is_refused(engine: Engine) -> None:
    with pytest.raises(StoreError, match=f"at nothing, need {head_revision()}"):
        require_current(engine)


def test_a_bulk_loads_page_cache_is_its_connections_until_it_returns_to_the_pool(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    cache = "PRAGMA cache_size"
    try:
        with engine.connect() as loading, engine.connect() as other:
            bulk_page_cache(loading, 262_144)
            assert loading.exec_driver_sql(cache).scalar() == -262_144
            assert other.exec_driver_sql(cache).scalar() == -PAGE_CACHE_KIB
        with engine.connect() as first, engine.connect() as second:
            assert first.exec_driver_sql(cache).scalar() == -PAGE_CACHE_KIB
            assert second.exec_driver_sql(cache).scalar() == -PAGE_CACHE_KIB
    finally:
        engine.dispose()
