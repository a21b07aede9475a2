"""The cached head counts equal a full count after any change and any passing of days.

Random worlds of `test_coverage_property`, then random edits of the store made as the writers
make them (rows inserted, updated and deleted, so that the triggers of migration 0020 see
them) and random moves of the date; after each, the counts `coverage_cache` returns for every
active agency must be those a full count gives.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import StoreBuilder, empty_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from test_coverage_property import CATEGORIES, NOW, POSITIONS, TRAINED_BY, World, load, worlds

from onemind.config import Settings
from onemind.domain.programs import Counts
from onemind.pipeline.recompute import recompute
from onemind.store import coverage, coverage_cache, snapshots
from onemind.store.db import make_engine, session_factory, transaction
from onemind.store.models import (
    Agency,
    Category,
    Completion,
    CoverageDirtyAgency,
    CoverageDirtyPerson,
    CoverageLatest,
    Employment,
    Person,
)

Step = tuple[Any, ...]
SERIALS = itertools.count(1_000_000)
OFFSETS = st.one_of(st.sampled_from([-91, -90, -89, -1, 0, 1, 2]), st.integers(-400, 120))
steps = st.one_of(
    st.tuples(st.just("days"), st.sampled_from([0, 1, 1, 2, 7, 30, 89, 90, 91, 200, -3])),
    st.tuples(
        st.just("complete"),
        st.integers(0, 99),
        st.sampled_from(list(CATEGORIES)),
        OFFSETS,
        st.one_of(st.none(), OFFSETS),
    ),
    st.tuples(st.just("void"), st.integers(0, 99)),
    st.tuples(st.just("drop"), st.integers(0, 99)),
    st.tuples(st.just("reclassify"), st.integers(0, 99), st.sampled_from([*CATEGORIES, None])),
    st.tuples(st.just("expire"), st.integers(0, 99), st.one_of(st.none(), OFFSETS)),
    st.tuples(st.just("relink"), st.integers(0, 99), st.one_of(st.none(), st.integers(0, 99))),
    st.tuples(st.just("separate"), st.integers(0, 99), st.one_of(st.none(), OFFSETS)),
    st.tuples(
        st.just("hire"),
        st.integers(0, 99),
        st.integers(0, 2),
        st.booleans(),
        st.sampled_from(list(POSITIONS)),
        st.sampled_from([None, True, False]),
        OFFSETS,
    ),
    st.tuples(st.just("sworn"), st.integers(0, 99)),
    st.tuples(st.just("move"), st.integers(0, 99), st.integers(0, 2)),
    st.tuples(st.just("quit"), st.integers(0, 99)),
    st.tuples(st.just("program"), st.integers(0, 2), st.sampled_from(list(TRAINED_BY))),
    st.tuples(st.just("active"), st.integers(0, 2)),
    st.tuples(st.just("tier"), st.sampled_from(["staff-crisis", "staff-mh-yearly"])),
)


def nth(session: Session, model: Any, index: int) -> Any:
    """The `index`-th row of `model` by id, wrapping round; None when there are none."""
    rows = session.scalars(select(model).order_by(*model.__table__.primary_key.columns)).all()
    return rows[index % len(rows)] if rows else None


def edit(session: Session, step: Step, day: date) -> date:
    """Make one change to the store; returns the date to count at next."""
    kind, *args = step
    if kind == "days":
        return day + timedelta(days=args[0])
    if kind in ("complete", "hire"):
        person = nth(session, Person, args[0])
        if person is None:
            return day
        # serials of their own: the builder's would count from the rows left after deletions
        b = replace(StoreBuilder.start(session, NOW), _serial=SERIALS)
        if kind == "complete":
            category, completed, expires = args[1:]
            expiry = None if expires is None else day + timedelta(days=expires)
            b.complete(person, category, day + timedelta(days=completed), expires_on=expiry)
        else:
            agency, sworn, position, selected, hired = args[1:]
            hired_on = day + timedelta(days=hired)
            b.employ(
                person,
                nth(session, Agency, agency).id,
                sworn=sworn,
                position=position,
                selected=selected,
                hired_on=hired_on,
                separated_on=None,
            )
        return day
    _change(session, kind, args, day)
    session.flush()
    return day


def _change(session: Session, kind: str, args: list[Any], day: date) -> None:
    if kind in ("void", "drop", "reclassify", "expire", "relink"):
        completion = nth(session, Completion, args[0])
        if completion is None:
            return
        if kind == "void":
            completion.voided = not completion.voided
        elif kind == "drop":
            session.delete(completion)
        elif kind == "reclassify":
            completion.category_id = args[1]
        elif kind == "expire":
            until = None if args[1] is None else day + timedelta(days=args[1])
            completion.valid_until = until
        else:
            person = None if args[1] is None else nth(session, Person, args[1])
            completion.person_id = None if person is None else person.id
    elif kind in ("separate", "sworn", "move", "quit"):
        job = nth(session, Employment, args[0])
        if job is None:
            return
        if kind == "separate":
            job.separated_on = None if args[1] is None else day + timedelta(days=args[1])
            job.separated_on = job.separated_on and max(job.separated_on, job.hired_on)
        elif kind == "sworn":
            job.sworn = not job.sworn
        elif kind == "move":
            job.agency_id = nth(session, Agency, args[1]).id
            job.employee_id = f"moved-{job.id}"
        else:
            session.delete(job)
    elif kind in ("program", "active"):
        agency = nth(session, Agency, args[0])
        if kind == "program":
            agency.program = args[1]
        else:
            agency.active = not agency.active
    else:
        category = session.get(Category, args[0])
        category.tier = "mh" if category.tier == "crisis" else "crisis"


def full_count(session: Session, day: date) -> tuple[dict[str, Counts], dict[str, Counts]]:
    now, before = coverage.head_counts_at(session, day, [coverage.window_start(day)])
    active = session.scalars(select(Agency.id).where(Agency.active)).all()
    return (
        {a: now.get(a, Counts()) for a in active},
        {a: before.get(a, Counts()) for a in active},
    )


def check(sessions: sessionmaker[Session], world: World, edits: list[Step]) -> None:
    with transaction(sessions) as session:
        load(session, world)
    day = world.as_of
    for step in [("days", 0), *edits]:
        with transaction(sessions) as session:
            day = edit(session, step, day)
        counted_at(sessions, day, step)


@pytest.fixture(scope="module")
def sqlite_engine(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Engine]:
    """One migrated store (the triggers are the migration's) for all examples."""
    path = tmp_path_factory.mktemp("cache") / "onemind.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), edits=st.lists(steps, max_size=8))
def test_cached_counts_equal_a_full_count_on_sqlite(
    sqlite_engine: Engine, world: World, edits: list[Step]
) -> None:
    empty_store(sqlite_engine)
    check(session_factory(sqlite_engine), world, edits)


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), edits=st.lists(steps, max_size=8))
def test_cached_counts_equal_a_full_count_on_postgresql(
    pg_engine: Engine, world: World, edits: list[Step]
) -> None:
    empty_store(pg_engine)
    check(session_factory(pg_engine), world, edits)


DAY = date(2026, 6, 1)


def counted_at(sessions: sessionmaker[Session], day: date, step: Step = ()) -> int:
    """Count through the cache at `day` (after `step`), check it against a full count and that
    every mark was consumed, and say how many people were worked out afresh."""
    with transaction(sessions) as session:
        counted = coverage_cache.head_counts(session, day)
        now, before = full_count(session, day)
        assert session.scalar(select(CoverageDirtyPerson.id).limit(1)) is None
        assert session.scalar(select(CoverageDirtyAgency.id).limit(1)) is None
    assert {a: counted.now.get(a, Counts()) for a in now} == now, (step, day)
    assert {a: counted.before.get(a, Counts()) for a in before} == before, (step, day)
    return counted.recounted


def test_the_passing_days_recount_only_the_agencies_they_move(
    sessions: sessionmaker[Session],
) -> None:
    """A credential entering the rate window, a hire, a separation and an expiry each recount
    their agency on their day, and no other day."""
    with transaction(sessions) as session:
        b = StoreBuilder.start(session, NOW)
        for agency in ("window", "hire", "leave", "expiry", "still"):
            b.agency(agency)
            b.complete(b.person(agency), "cit", DAY - timedelta(days=2000))
        b.complete(b.person("window"), "cit", DAY - timedelta(days=60))
        b.person("hire", hired_on=DAY + timedelta(days=10))
        b.person("leave", separated_on=DAY + timedelta(days=5))
        expiring = b.person("expiry")
        b.complete(expiring, "cit", DAY - timedelta(days=100), expires_on=DAY + timedelta(days=20))
    recounted = {
        offset: counted_at(sessions, DAY + timedelta(days=offset))
        for offset in (0, 1, 5, 6, 7, 10, 19, 20, 29, 30, 31)
    }
    # people worked out again: everyone at first; then the leaver on their last day and the
    # day after, the hire, the expiry, and the window's officer (A-60 enters it at A+30)
    assert recounted == {0: 9, 1: 0, 5: 1, 6: 1, 7: 0, 10: 1, 19: 0, 20: 1, 29: 0, 30: 1, 31: 0}


def test_a_change_recounts_its_agency_and_a_category_change_every_agency(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        b = StoreBuilder.start(session, NOW)
        people = {}
        for agency in ("a", "b", "c"):
            b.agency(agency)
            people[agency] = b.person(agency)
    assert counted_at(sessions, DAY) == 3
    assert counted_at(sessions, DAY) == 0
    with transaction(sessions) as session:
        b = replace(StoreBuilder.start(session, NOW), _serial=SERIALS)
        b.complete(session.merge(people["a"]), "cit", DAY - timedelta(days=3))
    assert counted_at(sessions, DAY) == 1
    with transaction(sessions) as session:
        session.get(Agency, "b").program = "one-mind-2016"
    assert counted_at(sessions, DAY) == 1
    with transaction(sessions) as session:
        session.execute(update(Category).where(Category.id == "cit").values(tier="mh"))
    assert counted_at(sessions, DAY) == 3
    with transaction(sessions) as session:
        session.execute(update(Completion).values(voided=True))
    assert counted_at(sessions, DAY + timedelta(days=1)) == 1


@pytest.mark.parametrize("named", [True, False], ids=["agencies-named", "every-row-read"])
def test_the_dashboard_rows_follow_each_recompute_and_moved_dates_alone_are_one_row(
    sessions: sessionmaker[Session], named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`coverage_latest` says every active agency's newest figures and date; an agency whose
    figures did not change only follows the hub's date (one row for every agency), an
    inactive one keeps its row and its date, and a recompute of an earlier date (other
    figures: the completion is not yet held) leaves the newer rows as they are. Every row read
    (a hub's many agencies) or the agencies named, the rows left are found alike."""
    if not named:
        monkeypatch.setattr(snapshots, "FEW", 0)
    with transaction(sessions) as session:
        b = StoreBuilder.start(session, NOW)
        for agency in ("a", "b", "gone"):
            b.agency(agency)
            b.person(agency)
        trained = b.person("a")
    written = {}
    for day, change in (
        (DAY, None),
        (DAY + timedelta(days=1), "cit"),
        (DAY + timedelta(days=2), None),
        (DAY - timedelta(days=1), None),
    ):
        with transaction(sessions) as session:
            if change:
                b = replace(StoreBuilder.start(session, NOW), _serial=SERIALS)
                b.complete(session.merge(trained), change, DAY)
                session.get(Agency, "gone").active = False
            recompute(session, Settings(), NOW, day)
            written[day] = dashboard_rows(session)
    last = DAY + timedelta(days=2)
    assert written[last] == {"a": (last, 2, 1), "b": (last, 1, 0), "gone": (DAY, 1, 0)}
    assert written[DAY - timedelta(days=1)] == written[last]
    with sessions() as session:
        own = dict(session.execute(select(CoverageLatest.agency_id, CoverageLatest.as_of)).all())
    assert own == {"a": None, "b": None, "gone": DAY}  # the hub's date is kept once


def dashboard_rows(session: Session) -> dict[str, tuple[date | None, int, int]]:
    """Each `coverage_latest` row's date (its own, else the hub's), sworn and crisis counts."""
    query = select(
        CoverageLatest.agency_id,
        snapshots.latest_as_of(),
        CoverageLatest.sworn_total,
        CoverageLatest.sworn_crisis,
    )
    return {agency: tuple(rest) for agency, *rest in session.execute(query)}


def test_the_rules_version_is_the_same_in_every_process() -> None:
    """A digest that changed with the process's string hashing would recount the whole hub on
    every run."""
    digest = "from onemind.store.coverage_cache import rules_version; print(rules_version())"
    found = {
        subprocess.run(
            [sys.executable, "-c", digest],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in map(str, range(8))
    }
    assert found == {coverage_cache.rules_version() + "\n"}
