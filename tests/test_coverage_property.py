"""The coverage engine equals a slow, obviously correct reading of SPEC §3 on random rosters.

The reference below loops over people one by one and applies the counting rules as the SPEC
words them; it shares no code with the engine (its own categories table, its own date
arithmetic, its own idea of which positions are in scope).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from builders import UNMAPPED, StoreBuilder, empty_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from onemind.store.coverage import CoverageReport, compute
from onemind.store.db import make_engine, session_factory, transaction
from onemind.store.models import Base

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CRISIS, MH = "crisis", "mh"

# SPEC §3's categories, plus two that academy staff added: (tier, non-sworn only, years valid)
CATEGORIES: dict[str, tuple[str, bool, int | None]] = {
    "cit": (CRISIS, False, None),
    "crit": (CRISIS, False, None),
    "crisis-equivalent": (CRISIS, False, None),
    "mhfa": (MH, False, 3),
    "mhfa-equivalent": (MH, False, None),
    "dispatch-crisis": (MH, True, None),
    "staff-crisis": (CRISIS, False, None),
    "staff-mh-yearly": (MH, False, 1),
}
STAFF_CATEGORIES = {"staff-crisis": (CRISIS, None), "staff-mh-yearly": (MH, 12)}
TRAINED_BY = {"one-mind": {CRISIS, MH}, "one-mind-2016": {MH}}

# Position → is it one of the in-scope positions (dispatcher, telecommunicator, call-taker)?
POSITIONS = {
    "Patrol Officer": False,
    "Sergeant": False,
    "Records Clerk": False,
    "Crime Analyst": False,
    "Dispatcher": True,
    "Call Taker": True,
    "Senior Telecommunicator": True,
    "911 Dispatcher II": True,
}


@dataclass(frozen=True)
class Job:
    agency: int
    sworn: bool
    position: str
    selected: bool | None  # None: blank on the roster
    hired_on: date
    separated_on: date | None


@dataclass(frozen=True)
class Training:
    category: str | None  # a category id, UNMAPPED, or None (not classified yet)
    completed_on: date
    expires_on: date | None
    voided: bool


@dataclass(frozen=True)
class Someone:
    jobs: tuple[Job, ...]
    trainings: tuple[Training, ...]


@dataclass(frozen=True)
class Department:
    program: str
    pledged_on: date | None
    deadline_months: int
    partnership_on: date | None
    policy_on: date | None


@dataclass(frozen=True)
class World:
    as_of: date
    departments: tuple[Department, ...]
    people: tuple[Someone, ...]
    orphans: int  # completions nobody is linked to


# --- the reference ------------------------------------------------------------------------------


def years_after(day: date, years: int) -> date:
    """The anniversary; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    year, month = day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    for last in range(day.day, 0, -1):
        try:
            return date(year, month, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def tiers_held(someone: Someone, as_of: date, sworn: bool) -> set[str]:
    """Tiers of the person's credentials valid at `as_of`, for a sworn or non-sworn role."""
    tiers = set()
    for t in someone.trainings:
        if t.category is None or t.category == UNMAPPED or t.voided or t.completed_on > as_of:
            continue
        tier, nonsworn_only, years = CATEGORIES[t.category]
        expiry = t.expires_on
        if expiry is None and years is not None:
            expiry = years_after(t.completed_on, years)
        if expiry is not None and as_of >= expiry:  # an expiry date is the first day without
            continue
        if sworn and nonsworn_only:
            continue
        tiers.add(tier)
    return tiers


def active(job: Job, as_of: date) -> bool:
    return job.hired_on <= as_of and (job.separated_on is None or job.separated_on >= as_of)


def tally(world: World, index: int, day: date) -> dict[str, int]:
    """Head counts of the agency's people at the as-of date, by what they held on `day`."""
    trained_tiers = TRAINED_BY[world.departments[index].program]
    sworn, crisis, sworn_trained = set(), set(), set()
    staff, staff_trained = set(), set()
    for pid, someone in enumerate(world.people):
        for job in someone.jobs:
            if job.agency != index or not active(job, world.as_of):
                continue
            tiers = tiers_held(someone, day, job.sworn)
            if job.sworn:
                sworn.add(pid)
                if CRISIS in tiers:
                    crisis.add(pid)
                if tiers & trained_tiers:
                    sworn_trained.add(pid)
            elif job.selected or (job.selected is None and POSITIONS[job.position]):
                staff.add(pid)
                if tiers & trained_tiers:
                    staff_trained.add(pid)
    return {
        "sworn_total": len(sworn),
        "sworn_crisis": len(crisis),
        "sworn_trained": len(sworn_trained),
        "nonsworn_selected_total": len(staff),
        "nonsworn_trained": len(staff_trained),
    }


def fewest_crisis_officers(total: int) -> int:
    """The smallest head count that is at least 20 % of `total`, found by counting up."""
    return next(k for k in itertools.count() if k * 5 >= total)


def still_to_do(counts: dict[str, int], crisis_needed: int) -> tuple[int, int]:
    """People not trained yet, and officers still to crisis-train."""
    untrained = counts["sworn_total"] - counts["sworn_trained"]
    untrained += counts["nonsworn_selected_total"] - counts["nonsworn_trained"]
    return untrained, max(0, crisis_needed - counts["sworn_crisis"])


def projection(now: dict[str, int], before: dict[str, int], as_of: date) -> date | None:
    """The first day on which, going on at the last 90 days' net pace, both gaps are closed;
    None when an open gap did not shrink in those 90 days."""
    needed = fewest_crisis_officers(now["sworn_total"])
    left, left_then = still_to_do(now, needed), still_to_do(before, needed)
    pace = [(left[i], left_then[i] - left[i]) for i in (0, 1) if left[i] > 0]
    if any(done <= 0 for _, done in pace):
        return None
    day = 0
    while any(done * day < gap * 90 for gap, done in pace):  # done/90 a day, gap to go
        day += 1
    return as_of + timedelta(days=day)


def status_of(expected: dict[str, Any], as_of: date) -> str:
    """SPEC §3's status, from the figures."""
    due, projected = expected["deadline"], expected["projected_completion"]
    if expected["sworn_total"] == 0:
        return "no-sworn-officers"
    if all(expected[k] for k in ("partnership", "policy", "crisis_20", "all_trained")):
        return "complete"
    if due is None:
        return "on-track"
    if as_of > due:
        return "overdue"
    return "at-risk" if projected is None or projected > due else "on-track"


def reference(world: World, index: int) -> dict[str, Any]:
    """One agency's figures, person by person."""
    department, as_of = world.departments[index], world.as_of
    now = tally(world, index, as_of)
    before = tally(world, index, as_of - timedelta(days=90))
    total = now["sworn_total"]
    expected = {
        **now,
        "crisis_20": None if total == 0 else now["sworn_crisis"] * 5 >= total,
        "all_trained": None if total == 0 else still_to_do(now, 0)[0] == 0,
        "partnership": department.partnership_on is not None and department.partnership_on <= as_of,
        "policy": department.policy_on is not None and department.policy_on <= as_of,
        "deadline": (
            None
            if department.pledged_on is None
            else months_after(department.pledged_on, department.deadline_months)
        ),
        "crisis_needed": fewest_crisis_officers(total),
        "projected_completion": projection(now, before, as_of),
    }
    expected["status"] = status_of(expected, as_of)
    return expected


# --- generating worlds --------------------------------------------------------------------------


@st.composite
def near(draw: st.DrawFn, around: date, low: int, high: int) -> date:
    """A date around another, often right on or next to it."""
    offset = draw(st.one_of(st.sampled_from([-1, 0, 1]), st.integers(low, high)))
    return around + timedelta(days=offset)


@st.composite
def maybe_date(draw: st.DrawFn, around: date, low: int, high: int) -> date | None:
    return draw(st.one_of(st.none(), near(around, low, high)))


@st.composite
def trainings(draw: st.DrawFn, as_of: date) -> Training:
    category = draw(st.sampled_from([*CATEGORIES, UNMAPPED, None]))
    anniversary = years_after(as_of, -3) + timedelta(days=draw(st.sampled_from([-1, 0, 1])))
    window = as_of - timedelta(days=90)  # the rate window starts the day after
    completed = draw(st.one_of(near(as_of, -2000, 60), st.just(anniversary), near(window, 0, 90)))
    expires = draw(
        st.one_of(
            st.none(),
            st.none(),
            st.integers(1, 2000).map(lambda days: completed + timedelta(days=days)),
            near(as_of, -1, 1),
            near(window, 0, 90),
        )
    )
    voided = draw(st.sampled_from([False, False, False, True]))
    return Training(category, completed, expires, voided)


@st.composite
def jobs(draw: st.DrawFn, as_of: date, agency: int) -> Job:
    # mostly people on the roster at the as-of date, some arriving or leaving around it
    hired = draw(st.one_of(near(as_of, -4000, -1), near(as_of, -4000, -1), near(as_of, -1, 120)))
    separated = draw(
        st.one_of(
            st.none(),
            st.none(),
            st.integers(0, 3000).map(lambda days: hired + timedelta(days=days)),
            near(as_of, -1, 1).map(lambda day: max(day, hired)),
        )
    )
    return Job(
        agency=agency,
        sworn=draw(st.sampled_from([True, True, False])),
        position=draw(st.sampled_from(list(POSITIONS))),
        selected=draw(st.sampled_from([None, None, False, True])),
        hired_on=hired,
        separated_on=separated,
    )


@st.composite
def people(draw: st.DrawFn, as_of: date, agencies: int, effort: str) -> Someone:
    first = draw(jobs(as_of, draw(st.integers(0, agencies - 1))))
    held = [first]
    # now and then a lateral hire (or, if the first job goes on, a second job elsewhere)
    if agencies > 1 and draw(st.integers(0, 3)) == 0:
        elsewhere = draw(st.sampled_from([i for i in range(agencies) if i != first.agency]))
        second = draw(jobs(as_of, elsewhere))
        if first.separated_on is not None:
            hired = first.separated_on + timedelta(days=draw(st.integers(0, 60)))
            second = replace(second, hired_on=hired, separated_on=None)
        held.append(second)
    records = [draw(trainings(as_of)) for _ in range(draw(st.integers(0, 4)))]
    category = draw(st.sampled_from(["cit", "crit", "mhfa-equivalent"]))
    if effort == "diligent":  # an agency that trains everyone: a credential that surely counts
        records.append(Training(category, as_of - timedelta(days=200), None, False))
    elif effort == "drive" and draw(st.booleans()):  # about half trained in the rate window
        completed = draw(near(as_of - timedelta(days=90), 1, 90))
        records.append(Training(category, completed, None, False))
    return Someone(tuple(held), tuple(records))


@st.composite
def departments(draw: st.DrawFn, as_of: date) -> Department:
    return Department(
        program=draw(st.sampled_from(list(TRAINED_BY))),
        pledged_on=draw(maybe_date(as_of, -1500, 100)),
        deadline_months=draw(st.integers(12, 36)),
        partnership_on=draw(maybe_date(as_of, -1000, 100)),
        policy_on=draw(maybe_date(as_of, -1000, 100)),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    as_of = draw(
        st.one_of(
            st.dates(date(2024, 1, 1), date(2028, 12, 31)),
            st.sampled_from([date(2028, 2, 29), date(2027, 2, 28), date(2027, 3, 1)]),
        )
    )
    count = draw(st.integers(1, 3))
    effort = draw(st.sampled_from(["none", "none", "diligent", "drive"]))
    world = World(
        as_of=as_of,
        departments=tuple(draw(departments(as_of)) for _ in range(count)),
        people=tuple(draw(people(as_of, count, effort)) for _ in range(draw(st.integers(0, 12)))),
        orphans=draw(st.integers(0, 2)),
    )
    squad = draw(st.one_of(st.none(), st.none(), st.tuples(st.integers(1, 8), st.integers(0, 3))))
    world = world if squad is None else trained_lately(world, *squad)
    skew = draw(st.sampled_from([None, -1, 0, 1]))
    world = world if skew is None else near_the_share(world, skew)
    skew = draw(st.sampled_from([None, -1, 0, 1]))
    return world if skew is None else deadline_near_projection(world, skew)


def near_the_share(world: World, skew: int) -> World:
    """Add officers to agency 0 so that crisis * 5 - total == skew: the 20 % boundary."""
    first = reference(world, 0)
    crisis, total = first["sworn_crisis"], first["sworn_total"]
    extra_crisis = max(0, -(-(total + skew - 5 * crisis) // 4))  # so that extra_plain >= 0
    extra_plain = 5 * (crisis + extra_crisis) - skew - total - extra_crisis
    if extra_plain < 0 or extra_crisis + extra_plain > 20:
        return world
    squad = officers(world, extra_crisis, world.as_of - timedelta(days=300))
    return replace(world, people=world.people + squad + officers(world, extra_plain, None))


def trained_lately(world: World, trained: int, left: int) -> World:
    """Add to agency 0 officers CIT-trained 30 days ago and untrained ones: progress in the
    rate window, so that the projection is a date more often than never."""
    squad = officers(world, trained, world.as_of - timedelta(days=30))
    return replace(world, people=world.people + squad + officers(world, left, None))


def officers(world: World, count: int, cit_on: date | None) -> tuple[Someone, ...]:
    """`count` long-serving officers of agency 0, holding a CIT from `cit_on` or nothing."""
    job = (Job(0, True, "Patrol Officer", False, world.as_of - timedelta(days=1000), None),)
    cit = () if cit_on is None else (Training("cit", cit_on, None, False),)
    return (Someone(job, cit),) * count


def deadline_near_projection(world: World, skew: int) -> World:
    """Move agency 0's pledge so that its deadline is `skew` days after its projected completion:
    the on-track / at-risk boundary."""
    department = world.departments[0]
    projected = reference(world, 0)["projected_completion"]
    if projected is None:
        return world
    due = projected + timedelta(days=skew)
    pledged_on = months_after(due, -department.deadline_months)
    if months_after(pledged_on, department.deadline_months) != due:
        return world  # a month's end no pledge date reaches
    moved = replace(department, pledged_on=pledged_on)
    return replace(world, departments=(moved, *world.departments[1:]))


# --- running the engine -------------------------------------------------------------------------


def agency_id(index: int) -> str:
    return f"agency-{index}"


def load(session: Session, world: World) -> None:
    b = StoreBuilder.start(session, NOW)
    for category, (tier, months) in STAFF_CATEGORIES.items():
        b.category(category, tier, months=months)
    for index, d in enumerate(world.departments):
        b.agency(
            agency_id(index),
            program=d.program,
            pledged_on=d.pledged_on,
            deadline_months=d.deadline_months,
            partnership_on=d.partnership_on,
            policy_on=d.policy_on,
        )
    for someone in world.people:
        first, *others = someone.jobs
        person = b.person(agency_id(first.agency), **_employment(first))
        for job in others:
            b.employ(person, agency_id(job.agency), **_employment(job))
        for t in someone.trainings:
            b.complete(person, t.category, t.completed_on, expires_on=t.expires_on, voided=t.voided)
    for _ in range(world.orphans):
        b.complete(None, "cit", world.as_of - timedelta(days=30))


def _employment(job: Job) -> dict[str, Any]:
    return {
        "sworn": job.sworn,
        "position": job.position,
        "selected": job.selected,
        "hired_on": job.hired_on,
        "separated_on": job.separated_on,
    }


def figures(report: CoverageReport) -> dict[str, Any]:
    c = report.counts
    return {
        "sworn_total": c.sworn_total,
        "sworn_crisis": c.sworn_crisis,
        "sworn_trained": c.sworn_trained,
        "nonsworn_selected_total": c.nonsworn_total,
        "nonsworn_trained": c.nonsworn_trained,
        "crisis_20": report.crisis_20,
        "all_trained": report.all_trained,
        "partnership": report.partnership,
        "policy": report.policy,
        "deadline": report.deadline,
        "crisis_needed": report.crisis_needed,
        "projected_completion": report.projected_completion,
        "status": report.status,
    }


def check(sessions: sessionmaker[Session], world: World) -> None:
    with transaction(sessions) as session:
        load(session, world)
    with sessions() as session:
        reports = compute(session, world.as_of)
        first_only = compute(session, world.as_of, [agency_id(0)])
    assert [r.agency for r in reports] == [agency_id(i) for i in range(len(world.departments))]
    assert first_only == reports[:1]
    for index, report in enumerate(reports):
        expected = reference(world, index)
        assert (report.agency, figures(report)) == (agency_id(index), expected)
        assert report.program == world.departments[index].program


@pytest.fixture(scope="module")
def sqlite_engine() -> Iterator[Engine]:
    """One in-memory store for all examples (its compiled-statement cache is what makes it fast)."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_engine_equals_reference_on_sqlite(sqlite_engine: Engine, world: World) -> None:
    empty_store(sqlite_engine)
    check(session_factory(sqlite_engine), world)


@pytest.mark.postgres
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_engine_equals_reference_on_postgresql(pg_engine: Engine, world: World) -> None:
    empty_store(pg_engine)
    check(session_factory(pg_engine), world)
