"""Every agency's head counts, recounting only what changed since the last recompute.

The counts of the last full recompute stay in `coverage_counts`, for one basis date and one
version of the rules. Triggers (migration 0020) mark the people whose completions or
classifications changed and the agencies whose roster or program changed; each cached row
also holds the first date on which the passing of time alone could move its figures (a hire, a
separation, a credential starting or expiring, at the date or at its rate window's start). A
recompute for a later date recounts the marked agencies and those whose date has come, and
takes every other agency's figures from the cache: on a hub of 18,000 agencies a night's
changes touch a few hundred. Anything it cannot reason about (no cache, other rules, an
earlier date, a changed category, the triggers missing) recounts everything.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, bindparam, case, delete, func, insert, select, text
from sqlalchemy.orm import Session

from onemind.domain import programs as rules
from onemind.domain.categories import CRISIS, EVERYONE, MH
from onemind.domain.programs import PROGRAMS, Counts
from onemind.store import coverage
from onemind.store.models import (
    Agency,
    CoverageBasis,
    CoverageCounts,
    CoverageDirtyAgency,
    CoverageDirtyPerson,
    Employment,
)

EVERY_AGENCY = "*"  # what the category trigger marks: every agency's figures may move
TRIGGERS = 15  # three (insert, update, delete) on each of five tables
MOST = 2_000  # more agencies to recount than this, and one full count is cheaper
LONGEST_GAP = 62  # days since the basis beyond which everything is recounted


class Cached(NamedTuple):
    """One agency's cached figures."""

    now: Counts
    before: Counts
    changes_on: date | None
    window_changes_on: date | None


class Counted(NamedTuple):
    """Every agency's counts at a date and at its rate window's start, and how many agencies
    were counted afresh to get them."""

    now: dict[str, Counts]
    before: dict[str, Counts]
    recounted: int


def rules_version() -> str:
    """A digest of what the counts rest on in code: the programs, the tiers, the window."""
    basis = repr((sorted(PROGRAMS.items()), CRISIS, MH, EVERYONE, rules.RATE_WINDOW_DAYS, 1))
    return hashlib.sha256(basis.encode()).hexdigest()


def head_counts(session: Session, as_of: date) -> Counted:
    """Every agency's counts at `as_of` and at its rate window's start; the cache kept up to
    date. Call it in the recompute's transaction, after taking its lock."""
    if not _triggers_in_place(session):
        now, before = coverage.head_counts_at(session, as_of, [coverage.window_start(as_of)])
        return Counted(now, before, len(now))
    marked = _claim_marks(session)
    basis = session.get(CoverageBasis, 1)
    version = rules_version()
    cached = None
    if (
        basis is not None
        and basis.rules == version
        and EVERY_AGENCY not in marked
        and 0 <= (as_of - basis.as_of).days <= LONGEST_GAP
    ):
        cached = _read_cache(session)
        due = _due(cached, as_of) | marked | _uncached(session, cached)
        if len(due) > MOST:
            cached = None
    if cached is None:
        fresh = _count(session, as_of, None)
        # a row for every agency, of nothing for those with nobody to count: the cache names all
        fresh.update({agency: _EMPTY for agency in _every_agency(session) - fresh.keys()})
        session.execute(delete(CoverageCounts))
        _store(session, fresh)
        cached = fresh
        recounted = len(fresh)
    else:
        fresh = _count(session, as_of, sorted(due))
        fresh.update({agency: _EMPTY for agency in due - fresh.keys()})
        session.execute(delete(CoverageCounts).where(CoverageCounts.agency_id.in_(due)))
        _store(session, fresh)
        cached.update(fresh)
        recounted = len(due)
    _set_basis(session, basis, as_of, version)
    now = {agency: row.now for agency, row in cached.items()}
    before = {agency: row.before for agency, row in cached.items()}
    return Counted(now, before, recounted)


_EMPTY = Cached(Counts(), Counts(), None, None)


def _due(cached: dict[str, Cached], as_of: date) -> set[str]:
    """The agencies whose figures the days since the basis may have moved."""
    window = coverage.window_start(as_of)
    return {
        agency
        for agency, row in cached.items()
        if (row.changes_on is not None and row.changes_on <= as_of)
        or (row.window_changes_on is not None and row.window_changes_on <= window)
    }


def _uncached(session: Session, cached: dict[str, Cached]) -> set[str]:
    """Agencies the cache has no row for (there should be none: an agency's insert marks it)."""
    return _every_agency(session) - cached.keys()


def _every_agency(session: Session) -> set[str]:
    return set(session.scalars(select(Agency.id)))


def _claim_marks(session: Session) -> set[str]:
    """The agencies marked since the last recompute (a marked person's agencies among them),
    the marks deleted. On PostgreSQL the delete claims exactly the marks committed before it:
    a writer committing later leaves its marks for the next recompute. On SQLite the
    recompute holds the write lock, so nothing is written meanwhile."""
    if session.get_bind().dialect.name == "postgresql":
        people = text(
            "WITH gone AS (DELETE FROM coverage_dirty_person RETURNING person_id) "
            "SELECT DISTINCT e.agency_id FROM employment e "
            "WHERE e.person_id IN (SELECT person_id FROM gone)"
        )
        agencies = text(
            "WITH gone AS (DELETE FROM coverage_dirty_agency RETURNING agency_id) "
            "SELECT DISTINCT agency_id FROM gone"
        )
        return set(session.scalars(people)) | set(session.scalars(agencies))
    marked_people = select(CoverageDirtyPerson.person_id)
    found = set(
        session.scalars(
            select(Employment.agency_id).where(Employment.person_id.in_(marked_people)).distinct()
        )
    )
    found |= set(session.scalars(select(CoverageDirtyAgency.agency_id).distinct()))
    session.execute(delete(CoverageDirtyPerson))
    session.execute(delete(CoverageDirtyAgency))
    return found


def _count(session: Session, as_of: date, agencies: list[str] | None) -> dict[str, Cached]:
    """The figures of `agencies` (every agency when None) counted afresh."""
    window = coverage.window_start(as_of)
    coverage.settle_planner(session)
    values: dict[str, Any] = {"as_of": as_of, "day_0": window}
    if agencies is not None:
        values["agency_ids"] = agencies
    found: dict[str, Cached] = {}
    rows = session.execute(_count_statement(agencies is not None), values).all()
    for agency, sworn, nonsworn, crisis, trained, ns_trained, *rest in rows:
        w_crisis, w_trained, w_ns_trained, changes_on, window_changes_on = rest
        sworn, nonsworn = int(sworn or 0), int(nonsworn or 0)
        found[agency] = Cached(
            Counts(sworn, int(crisis or 0), int(trained or 0), nonsworn, int(ns_trained or 0)),
            Counts(
                sworn, int(w_crisis or 0), int(w_trained or 0), nonsworn, int(w_ns_trained or 0)
            ),
            _day(changes_on),
            _day(window_changes_on),
        )
    for agency, hired, separated in session.execute(
        _roster_statement(agencies is not None), values
    ):
        row = found.get(agency, _EMPTY)
        left = None if separated is None else _day(separated) + timedelta(days=1)
        found[agency] = row._replace(changes_on=_earliest(row.changes_on, _day(hired), left))
    return found


@lru_cache(maxsize=4)
def _count_statement(narrowed: bool) -> Select[Any]:
    agencies = None
    if narrowed:
        agencies = select(Agency.id).where(Agency.id.in_(bindparam("agency_ids", expanding=True)))
    day = bindparam("day_0", type_=Date)
    return coverage.count_query(bindparam("as_of", type_=Date), agencies, day, changes=True)


@lru_cache(maxsize=4)
def _roster_statement(narrowed: bool) -> Select[Any]:
    """Per agency: its first hire after the date, and its first separation on or after it
    (whoever's: whether they count is decided when the day comes)."""
    as_of = bindparam("as_of", type_=Date)
    query = select(
        Employment.agency_id,
        func.min(case((Employment.hired_on > as_of, Employment.hired_on))),
        func.min(case((Employment.separated_on >= as_of, Employment.separated_on))),
    ).group_by(Employment.agency_id)
    if narrowed:
        query = query.where(Employment.agency_id.in_(bindparam("agency_ids", expanding=True)))
    return query


def _day(value: Any) -> date | None:
    """A date from a MIN over dates (SQLite gives its text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _earliest(*days: date | None) -> date | None:
    known = [day for day in days if day is not None]
    return min(known) if known else None


def _read_cache(session: Session) -> dict[str, Cached]:
    table = CoverageCounts.__table__
    found = {}
    for row in session.execute(select(table)):
        sworn, nonsworn = row.sworn_total, row.nonsworn_total
        found[row.agency_id] = Cached(
            Counts(sworn, row.sworn_crisis, row.sworn_trained, nonsworn, row.nonsworn_trained),
            Counts(
                sworn, row.window_crisis, row.window_trained, nonsworn, row.window_nonsworn_trained
            ),
            _day(row.changes_on),
            _day(row.window_changes_on),
        )
    return found


def _store(session: Session, counted: dict[str, Cached]) -> None:
    """Write `counted` into the cache (their old rows deleted already)."""
    if counted:
        session.execute(insert(CoverageCounts), [_row(a, c) for a, c in counted.items()])


def _row(agency: str, cached: Cached) -> dict[str, Any]:
    now, before = cached.now, cached.before
    return {
        "agency_id": agency,
        "sworn_total": now.sworn_total,
        "sworn_crisis": now.sworn_crisis,
        "sworn_trained": now.sworn_trained,
        "nonsworn_total": now.nonsworn_total,
        "nonsworn_trained": now.nonsworn_trained,
        "window_crisis": before.sworn_crisis,
        "window_trained": before.sworn_trained,
        "window_nonsworn_trained": before.nonsworn_trained,
        "changes_on": cached.changes_on,
        "window_changes_on": cached.window_changes_on,
    }


def _set_basis(session: Session, basis: CoverageBasis | None, as_of: date, version: str) -> None:
    if basis is None:
        session.add(CoverageBasis(id=1, as_of=as_of, rules=version))
    else:
        basis.as_of, basis.rules = as_of, version
    session.flush()


def _triggers_in_place(session: Session) -> bool:
    """Whether the marking triggers exist (a store made from the models alone has none)."""
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'coverage\\_%'"
        )
    else:
        query = text(
            "SELECT count(*) FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'coverage\\_%' ESCAPE '\\'"
        )
    return session.scalar(query) == TRIGGERS
