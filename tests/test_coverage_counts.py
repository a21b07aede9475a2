"""The set-based head counts equal the person-by-person reference of test_coverage_property, at
any earlier dates, for the whole hub and for each agency alone (the narrowed query)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from builders import empty_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from test_coverage_property import NOW, World, agency_id, load, tally, worlds

from onemind.domain.programs import Counts
from onemind.store import coverage
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.models import Agency


@st.composite
def worlds_and_days(draw: st.DrawFn) -> tuple[World, list[date]]:
    """A world, and a few earlier dates to count its people's credentials at."""
    world = draw(worlds())
    offsets = draw(st.lists(st.integers(0, 1500), max_size=3))
    return world, [world.as_of - timedelta(days=days) for days in offsets]


def expected(world: World, days: list[date]) -> list[dict[str, Counts]]:
    """Per date (the as-of date first), every agency's counts by the reference."""
    found = []
    for day in [world.as_of, *days]:
        per_agency = {}
        for index in range(len(world.departments)):
            figures = tally(world, index, day)
            per_agency[agency_id(index)] = Counts(
                figures["sworn_total"],
                figures["sworn_crisis"],
                figures["sworn_trained"],
                figures["nonsworn_selected_total"],
                figures["nonsworn_trained"],
            )
        found.append(per_agency)
    return found


def counted(found: list[dict[str, Counts]], agencies: list[str]) -> list[dict[str, Counts]]:
    """The engine leaves out agencies nobody is counted in: they count zero."""
    return [{a: day.get(a, Counts()) for a in agencies} for day in found]


def check(engine: Engine, world: World, days: list[date]) -> None:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        load(session, world)
    want = expected(world, days)
    with sessions() as session:
        agencies = list(session.scalars(select(Agency.id).order_by(Agency.id)))
        hub = coverage.head_counts_at(session, world.as_of, days)
        assert counted(hub, agencies) == want
        for agency in agencies:
            alone = coverage.head_counts_at(session, world.as_of, days, [agency])
            assert counted(alone, [agency]) == [{agency: day[agency]} for day in want]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('counts') / 'onemind.db'}")
    else:
        engine = make_engine(request.getfixturevalue("pg_url"))
    upgrade(engine)
    yield engine
    engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=worlds_and_days())
def test_counts_equal_the_reference_for_the_hub_and_each_agency(
    store: Engine, case: tuple[World, list[date]]
) -> None:
    empty_store(store)
    check(store, *case)


def test_one_agency_reads_only_its_people_completions(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """SQLite's plan for one agency reaches completions through the person index, not a scan."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('plan') / 'onemind.db'}")
    upgrade(engine)
    one = select(Agency.id).where(Agency.id == "a")
    day = NOW.date()
    query = coverage.count_query(day, one, day - timedelta(days=90))
    with engine.connect() as connection:
        compiled = query.compile(dialect=connection.dialect)
        values = tuple(compiled.params[name] for name in compiled.positiontup or ())
        details = [
            row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        ]
    engine.dispose()
    touching = [d for d in details if " completion " in f"{d} "]
    assert touching, details
    assert all("USING" in d and "INDEX" in d for d in touching), details
