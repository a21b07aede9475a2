"""Every agency's head counts, working out again only the people whose standing may have moved.

Where each person stands in each agency that employs them (counted or not, sworn or not, holding
a crisis credential, trained, at the basis date and at its rate window's start) is kept in
`coverage_person`, with the first dates on which the passing of time alone could change it (a
hire, a separation, a credential starting or expiring); `coverage_counts` keeps each agency's
sums. Triggers (migrations 0020, 0025) mark the people whose completions (classifications
included) or employments change, and the agencies whose program changes. A recompute for a
later date works out again the marked people, the people of marked agencies and the people
whose date has come, and re-sums only their agencies: a night's changes on a hub of 800,000
people touch a few thousand. Anything it cannot reason about (nothing cached, other rules, an
earlier date or one long after, a changed category, the triggers missing) works out everyone.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from onemind.domain import programs as rules
from onemind.domain.categories import CRISIS, EVERYONE, MH
from onemind.domain.programs import PROGRAMS, Counts
from onemind.store import coverage
from onemind.store.bulk import among
from onemind.store.models import (
    Agency,
    CoverageBasis,
    CoverageCounts,
    CoverageDirtyAgency,
    CoverageDirtyPerson,
    CoveragePerson,
    CoverageTodo,
    Employment,
)
from onemind.store.statistics import analyze

EVERY_AGENCY = "*"  # what the category trigger marks: every agency's figures may move
TRIGGERS = 12  # three (insert, update, delete) on each of four tables (0020, 0025)
MOST = 100_000  # more people to work out again than this, and working out everyone is cheaper
LONGEST_GAP = 62  # days since the basis beyond which everyone is worked out again


class Counted(NamedTuple):
    """Every agency's counts at a date and at its rate window's start, and how many people
    were worked out afresh to get them (-1: the store has no triggers, everyone was counted)."""

    now: dict[str, Counts]
    before: dict[str, Counts]
    recounted: int


def rules_version() -> str:
    """A digest of what the standings rest on in code: programs, tiers, window, this module."""
    programs = [
        (p.id, sorted(p.trained_tiers), p.in_scope_positions) for p in PROGRAMS.values()
    ]  # sets sorted: their order changes from one process to the next
    basis = repr((sorted(programs), CRISIS, MH, EVERYONE, rules.RATE_WINDOW_DAYS, 2))
    return hashlib.sha256(basis.encode()).hexdigest()


def head_counts(session: Session, as_of: date) -> Counted:
    """Every agency's counts at `as_of` and at its rate window's start, the cache brought up
    to date. Call it in the recompute's transaction, after taking its lock."""
    window = coverage.window_start(as_of)
    if not _triggers_in_place(session):
        now, before = coverage.head_counts_at(session, as_of, [window])
        return Counted(now, before, -1)
    coverage.settle_planner(session)
    values = {"as_of": as_of, "window": window}
    basis = session.get(CoverageBasis, 1)
    version = rules_version()
    everyone = _claim_marks(session) or (
        basis is None
        or basis.rules != version
        or not 0 <= (as_of - basis.as_of).days <= LONGEST_GAP
    )
    recounted = -1
    if not everyone:
        recounted = _due(session, as_of, window)
        everyone = recounted > MOST
    if everyone:
        recounted = _everyone(session, values)
    else:
        _some(session, values)
    if basis is None:
        session.add(CoverageBasis(id=1, as_of=as_of, rules=version))
    else:
        basis.as_of, basis.rules = as_of, version
    session.flush()
    now, before = _read_counts(session)
    return Counted(now, before, recounted)


def _everyone(session: Session, values: dict[str, Any]) -> int:
    """Work out everyone's standing afresh, and every agency's sums; how many rows. The
    person table's indexes (and on PostgreSQL its primary key) are dropped for the fill and
    built after: sorting 800,000 keys once is cheaper than inserting them one by one."""
    connection = session.connection()
    cached = (CoverageTodo, CoveragePerson, CoverageCounts)
    table = CoveragePerson.__table__
    keys = []
    if connection.dialect.name == "postgresql":
        # not row by row; only recomputes read these tables, and this one holds their lock
        session.execute(text(f"TRUNCATE {', '.join(m.__tablename__ for m in cached)}"))
        keys.append(table.primary_key)  # SQLite's belongs to the table: it stays
    else:
        for model in cached:
            session.execute(delete(model.__table__))
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    for key in keys:
        connection.execute(DropConstraint(key))
    for index in indexes:
        index.drop(connection)
    session.execute(_fill(False), values)
    for key in keys:
        connection.execute(AddConstraint(key))
    for index in indexes:
        index.create(connection)
    # statistics for the table just filled, so that the next statements read it by its
    # indexes (before autovacuum comes round, the planner guesses its size)
    analyze(session, [CoveragePerson.__tablename__])
    session.execute(_sums())
    return session.scalar(select(func.count()).select_from(CoveragePerson)) or 0


def _some(session: Session, values: dict[str, Any]) -> None:
    """Work out again the standing of the people in `coverage_todo`, and move their agencies'
    sums by the difference."""
    analyze(session, [CoverageTodo.__tablename__])
    mine = CoveragePerson.person_id.in_(select(CoverageTodo.person_id))
    gone = delete(CoveragePerson.__table__).where(mine)
    if session.get_bind().dialect.name == "postgresql":  # the rows' sums as they go
        was = _by_agency(session.execute(_sums_of(None, gone.returning(*gone.table.c).cte())))
    else:  # no DELETE in a WITH: summed, then deleted
        was = _by_agency(session.execute(_sums_of(mine)))
        session.execute(gone)
    session.execute(_fill(True), values)
    now = _by_agency(session.execute(_sums_of(mine)))
    session.execute(delete(CoverageTodo.__table__))
    counts = CoverageCounts.__table__
    touched = sorted(was.keys() | now.keys())
    theirs = among(session.get_bind().dialect, counts.c.agency_id, touched)
    stored = _by_agency(session.execute(select(counts).where(theirs)))
    session.execute(delete(counts).where(theirs))
    zero = (0,) * (len(counts.columns) - 1)
    rows = []
    for agency in touched:
        moved = zip(
            stored.get(agency, zero), was.get(agency, zero), now.get(agency, zero), strict=True
        )
        sums = [kept - old + new for kept, old, new in moved]
        rows.append(dict(zip(counts.columns.keys(), [agency, *sums], strict=True)))
    if rows:
        session.execute(insert(counts), rows)


def _by_agency(rows: Any) -> dict[str, tuple[int, ...]]:
    return {agency: tuple(int(v) for v in sums) for agency, *sums in rows}


def _claim_marks(session: Session) -> bool:
    """Move the marked people, and the people of marked agencies, into `coverage_todo`, the
    marks deleted; True when a mark asks for everyone. On PostgreSQL the delete claims exactly
    the marks committed before it: a writer committing later leaves its marks for the next
    recompute. On SQLite the recompute holds the write lock, so nothing is written meanwhile."""
    todo = "INSERT INTO coverage_todo (person_id) "
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                f"WITH gone AS ({_claim('coverage_dirty_person', 'person_id')}) "
                f"{todo}SELECT DISTINCT person_id FROM gone"
            )
        )
        claimed = f"WITH gone AS ({_claim('coverage_dirty_agency', 'agency_id')}) "
        marked = set(session.scalars(text(f"{claimed}SELECT DISTINCT agency_id FROM gone")))
    else:
        session.execute(text(f"{todo}SELECT DISTINCT person_id FROM coverage_dirty_person"))
        marked = set(session.scalars(select(CoverageDirtyAgency.agency_id).distinct()))
        session.execute(delete(CoverageDirtyPerson))
        session.execute(delete(CoverageDirtyAgency))
    if EVERY_AGENCY in marked:
        return True
    if marked:
        employed = among(session.get_bind().dialect, Employment.agency_id, sorted(marked))
        people = select(Employment.person_id).where(employed).distinct()
        session.execute(insert(CoverageTodo.__table__).from_select(["person_id"], people))
    return False


def _claim(table: str, column: str) -> str:
    """PostgreSQL: DELETE every mark of `table`, returning `column`, found by the key's index.
    A large load leaves the table as many pages as its marks filled, and VACUUM gives them
    back only from the end of the file, where the next marks may sit: a plain DELETE would
    read every page, night after night (40 ms at a hub's first load's size)."""
    return f"DELETE FROM {table} WHERE id >= (SELECT min(id) FROM {table}) RETURNING {column}"


def _due(session: Session, as_of: date, window: date) -> int:
    """Add to `coverage_todo` the people whose standing the days since the basis may have
    moved; how many people are to be worked out again."""
    due = select(CoveragePerson.person_id).where(
        or_(CoveragePerson.changes_on <= as_of, CoveragePerson.window_changes_on <= window)
    )
    session.execute(insert(CoverageTodo.__table__).from_select(["person_id"], due.distinct()))
    return session.scalar(select(func.count(CoverageTodo.person_id.distinct()))) or 0


def _fill(narrowed: bool) -> Any:
    """INSERT of the standings of everyone (or of the people in `coverage_todo`)."""
    columns = [c.name for c in CoveragePerson.__table__.columns]
    return insert(CoveragePerson.__table__).from_select(columns, _standing_statement(narrowed))


def standing_query(as_of: Any, window: Any, people: Select[Any] | None) -> Select[Any]:
    """One row per (agency, person) of every employment (of `people` when given): the columns
    of `coverage_person` at `as_of`, worked out as `coverage.count_query` counts."""
    counts = coverage.counts_at(as_of)
    jobs = (
        select(
            Employment.agency_id,
            Agency.program,
            Employment.person_id,
            coverage.any_of(counts).label("counted"),
            coverage.any_of(and_(counts, Employment.sworn.is_(True))).label("sworn"),
            func.min(case((Employment.hired_on > as_of, Employment.hired_on))).label("hired"),
            func.min(case((Employment.separated_on >= as_of, Employment.separated_on))).label(
                "leaves"
            ),
        )
        .join(Agency, Agency.id == Employment.agency_id)
        .group_by(Employment.agency_id, Agency.program, Employment.person_id)
    )
    if people is not None:
        jobs = jobs.where(Employment.person_id.in_(people))
    job = jobs.subquery("job")
    cred = coverage.credentials(as_of, window, people=people, changes=True).subquery("cred")
    counted, sworn = job.c.counted == 1, job.c.sworn == 1

    def held(tier: str, who: str, suffix: str) -> Any:
        return func.coalesce(cred.c[f"{tier}_{who}{suffix}"], 0) == 1

    def flag(condition: Any) -> Any:
        return case((and_(counted, condition), 1), else_=0)

    def trained(suffix: str) -> Any:
        return or_(
            and_(sworn, coverage.trained_under(job.c.program, lambda t: held(t, "s", suffix))),
            and_(~sworn, coverage.trained_under(job.c.program, lambda t: held(t, "n", suffix))),
        )

    # a separation moves the standing the day after: marking its own day as well is harmless
    changes = _earliest(job.c.hired, job.c.leaves, case((counted, cred.c.changes)))
    return select(
        job.c.agency_id,
        job.c.person_id,
        job.c.counted,
        case((counted, job.c.sworn), else_=0),
        flag(and_(sworn, held(CRISIS, "s", ""))),
        flag(trained("")),
        flag(and_(sworn, held(CRISIS, "s", "_0"))),
        flag(trained("_0")),
        changes,
        case((counted, cred.c.changes_0)),
    ).select_from(job.outerjoin(cred, cred.c.person_id == job.c.person_id))


def _earliest(*days: Any) -> Any:
    """The earliest of some dates, NULLs ignored (SQLite's min() of several gives NULL)."""
    first, *rest = days
    for day in rest:
        first = case(
            (first.is_(None), day), (and_(day.is_not(None), day < first), day), else_=first
        )
    return first


@lru_cache(maxsize=2)
def _standing_statement(narrowed: bool) -> Select[Any]:
    people = select(CoverageTodo.person_id) if narrowed else None
    as_of, window = bindparam("as_of", type_=Date), bindparam("window", type_=Date)
    return standing_query(as_of, window, people)


def _sums_of(rows: Any = None, standings: Any = None) -> Select[Any]:
    """Per agency, the sums of its standings (of those matching `rows` when given; of the rows
    of `standings`, in the columns of `coverage_person`, when given), in the columns of
    `coverage_counts`."""
    p = CoveragePerson.__table__.c if standings is None else standings.c

    def total(*conditions: Any) -> Any:
        return func.coalesce(func.sum(case((and_(p.counted == 1, *conditions), 1), else_=0)), 0)

    sworn, nonsworn = p.sworn == 1, p.sworn == 0
    query = select(
        p.agency_id,
        total(sworn),
        total(sworn, p.crisis == 1),
        total(sworn, p.trained == 1),
        total(nonsworn),
        total(nonsworn, p.trained == 1),
        total(sworn, p.window_crisis == 1),
        total(sworn, p.window_trained == 1),
        total(nonsworn, p.window_trained == 1),
    ).group_by(p.agency_id)
    return query if rows is None else query.where(rows)


def _sums() -> Any:
    """INSERT of every agency's sums."""
    columns = [c.name for c in CoverageCounts.__table__.columns]
    return insert(CoverageCounts.__table__).from_select(columns, _sums_of())


def _read_counts(session: Session) -> tuple[dict[str, Counts], dict[str, Counts]]:
    """Every agency's counts at the basis date and at its window's start: on the connection,
    every row at once and unpacked by position (the ORM's handling, or reading 18,000 rows
    by name, costs more than the read)."""
    c = CoverageCounts.__table__.c
    query = select(
        *(c.agency_id, c.sworn_total, c.sworn_crisis, c.sworn_trained, c.nonsworn_total),
        *(c.nonsworn_trained, c.window_crisis, c.window_trained, c.window_nonsworn_trained),
    )
    now, before = {}, {}
    for agency, sworn, crisis, trained, nonsworn, others, *window in (
        session.connection().execute(query).all()
    ):
        now[agency] = Counts(sworn, crisis, trained, nonsworn, others)
        before[agency] = Counts(sworn, window[0], window[1], nonsworn, window[2])
    return now, before


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


__all__ = ["Counted", "head_counts", "standing_query"]
