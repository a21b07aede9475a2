"""The coverage engine: set-based head counts per agency, then the program's pure rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, and_, bindparam, case, func, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from onemind.domain import programs as rules
from onemind.domain.categories import CRISIS, EVERYONE, MH
from onemind.domain.programs import PROGRAMS, Counts, Program
from onemind.store.models import (
    Agency,
    Attestation,
    Category,
    Completion,
    Employment,
)

Day = date | ColumnElement[date]  # a date, or a parameter standing for one


class CoverageReport(NamedTuple):
    """One agency's standing on its program as of one date; `to_json` is the CLI contract.
    (A tuple: a hub recompute makes 18,000, and a frozen dataclass cost more to build than
    everything else about a report.)"""

    agency: str
    name: str
    as_of: date
    program: str
    counts: Counts
    partnership: bool
    policy: bool
    crisis_20: bool | None
    all_trained: bool | None
    status: str
    deadline: date | None
    projected_completion: date | None
    crisis_needed: int

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def to_json(self) -> dict[str, Any]:
        c = self.counts
        return {
            "agency": self.agency,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "program": self.program,
            "sworn_total": c.sworn_total,
            "sworn_crisis": c.sworn_crisis,
            "sworn_trained": c.sworn_trained,
            "nonsworn_selected_total": c.nonsworn_total,
            "nonsworn_trained": c.nonsworn_trained,
            "crisis_needed": self.crisis_needed,
            "requirements": {
                "partnership": self.partnership,
                "policy": self.policy,
                "crisis_20": self.crisis_20,
                "all_trained": self.all_trained,
            },
            "status": self.status,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "projected_completion": (
                self.projected_completion.isoformat() if self.projected_completion else None
            ),
        }


def population(program: Program, as_of: Day, agencies: Select[Any]) -> Select[Any]:
    """People active at `as_of` who count: sworn, or non-sworn and selected (SPEC §3)."""
    return select(
        Employment.agency_id,
        Employment.person_id,
        Employment.sworn,
        Employment.id.label("employment_id"),
    ).where(
        Employment.agency_id.in_(agencies),
        active_at(as_of),
        or_(Employment.sworn, selected(in_scope(program))),
    )


def active_at(as_of: Day) -> Any:
    """The employment runs on `as_of`: hired by then, not separated before it."""
    return and_(
        Employment.hired_on <= as_of,
        or_(Employment.separated_on.is_(None), Employment.separated_on >= as_of),
    )


def selected(in_scope: Any) -> Any:
    """Non-sworn staff who count: `selected` true, or blank and their position in scope;
    an explicit false excludes them whatever their position."""
    return or_(Employment.selected.is_(True), and_(Employment.selected.is_(None), in_scope))


def in_scope(program: Program) -> Any:
    """The employment's position is one the program counts (words matched whole)."""
    return or_(*(Employment.position_key.like(f"%-{p}-%") for p in program.in_scope_positions))


def credentials(
    as_of: Day, *earlier: Day, people: Select[Any] | None = None, changes: bool = False
) -> Select[Any]:
    """Per person: valid tier flags for sworn (`_s`) and non-sworn (`_n`) use at `as_of`,
    and at each earlier date (suffixed `_0`, `_1`, …), in one pass over the completions;
    only over the completions of `people` (a select of person ids) when given.

    With `changes`, also the first day after each date on which a counted credential starts
    or stops being valid (`changes`, `changes_0`, …), its completions after `as_of` read too."""
    dates = [("", as_of)] + [(f"_{i}", day) for i, day in enumerate(earlier)]
    columns = []
    for suffix, day in dates:
        valid = and_(
            Completion.completed_on <= day,
            or_(Completion.valid_until.is_(None), Completion.valid_until > day),
        )
        for tier in (CRISIS, MH):
            held = and_(valid, Category.tier == tier)
            columns.append(
                any_of(and_(held, Category.population == EVERYONE)).label(f"{tier}_s{suffix}")
            )
            columns.append(any_of(held).label(f"{tier}_n{suffix}"))
        if changes:
            columns.append(_first_change(day).label(f"changes{suffix}"))
    query = credited(None if changes else as_of, Completion.person_id, *columns)
    query = query.group_by(Completion.person_id)
    # the person index `ix_completion_credit` covers the completion's side (its id as well on
    # PostgreSQL, migration 0022): walking it gives the people in order (no sort) without
    # visiting the wide completion rows
    return query if people is None else query.where(Completion.person_id.in_(people))


def credited(as_of: Day | None, *columns: Any) -> Select[Any]:
    """`columns` of the completions that may carry credit on `as_of`: linked to a person, not
    voided, completed by then (whenever, if None) and classified (the caller checks the
    category's validity)."""
    query = (
        select(*columns)
        .join(Category, Category.id == Completion.category_id)
        .where(Completion.person_id.is_not(None), Completion.voided.is_(False))
    )
    return query if as_of is None else query.where(Completion.completed_on <= as_of)


def _first_change(day: Day) -> Any:
    """The first date after `day` on which one of the person's credentials of a counted tier
    starts (its completion date) or stops (its `valid_until`) being valid."""
    counted = Category.tier.in_((CRISIS, MH))
    completed, until = Completion.completed_on, Completion.valid_until
    starts = func.min(case((and_(counted, completed > day), completed)))
    ends = func.min(case((and_(counted, until > day), until)))
    return case((or_(starts.is_(None), and_(ends.is_not(None), ends < starts)), ends), else_=starts)


def any_of(condition: Any) -> Any:
    """1 when the condition holds for a row of the group, else 0."""
    return func.max(case((condition, 1), else_=0))


def everyone_counted(as_of: Day, agencies: Select[Any] | None) -> Select[Any]:
    """One row per (agency, person) counted at `as_of` under the agency's own program;
    sworn if any of their active employments there is sworn. Every active agency when None."""
    query = (
        select(
            Employment.agency_id,
            Agency.program,
            Employment.person_id,
            any_of(Employment.sworn.is_(True)).label("sworn"),
        )
        .join(Agency, Agency.id == Employment.agency_id)
        .where(counts_at(as_of))
        .group_by(Employment.agency_id, Agency.program, Employment.person_id)
    )
    if agencies is None:
        return query.where(Agency.active)
    return query.where(Employment.agency_id.in_(agencies))


def counts_at(as_of: Day) -> Any:
    """The employment (joined to its agency) counts at `as_of` under the agency's program:
    active then, and sworn or selected."""
    scope = or_(*(and_(Agency.program == p.id, in_scope(p)) for p in PROGRAMS.values()))
    return and_(active_at(as_of), or_(Employment.sworn, selected(scope)))


def trained_under(program: Any, held: Callable[[str], Any]) -> Any:
    """Trained under the agency's `program` (a column): holding one of its trained tiers."""
    return case(
        *(
            (program == p.id, or_(*(held(t) for t in sorted(p.trained_tiers))))
            for p in PROGRAMS.values()
        ),
        else_=False,
    )


def count_query(as_of: Day, agencies: Select[Any] | None, *earlier: Day) -> Select[Any]:
    """One row per agency: head counts at `as_of` (and at `earlier` dates, same people),
    each agency counted by its own program: one pass over people and completions.

    `agencies` (a select of agency ids) narrows the count, and the completions read, to
    those agencies' people; None counts every agency, reading each table once in full.
    """
    pop = everyone_counted(as_of, agencies).subquery("pop")
    people = (
        None
        if agencies is None
        else select(Employment.person_id).where(Employment.agency_id.in_(agencies))
    )
    cred = credentials(as_of, *earlier, people=people).subquery("cred")
    sworn = pop.c.sworn == 1

    def held(tier: str, who: str, suffix: str) -> Any:
        return func.coalesce(cred.c[f"{tier}_{who}{suffix}"], 0) == 1

    def trained(who: str, suffix: str) -> Any:
        return trained_under(pop.c.program, lambda tier: held(tier, who, suffix))

    def total(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    columns = [total(sworn).label("sworn_total"), total(~sworn).label("nonsworn_total")]
    for suffix in [""] + [f"_{i}" for i in range(len(earlier))]:
        columns += [
            total(and_(sworn, held(CRISIS, "s", suffix))).label(f"sworn_crisis{suffix}"),
            total(and_(sworn, trained("s", suffix))).label(f"sworn_trained{suffix}"),
            total(and_(~sworn, trained("n", suffix))).label(f"nonsworn_trained{suffix}"),
        ]
    return (
        select(pop.c.agency_id, *columns)
        .select_from(pop.outerjoin(cred, cred.c.person_id == pop.c.person_id))
        .group_by(pop.c.agency_id)
    )


def head_counts_at(
    session: Session,
    as_of: date,
    earlier: Sequence[date] = (),
    agency_ids: Iterable[str] | None = None,
) -> list[dict[str, Counts]]:
    """Counts per agency at `as_of`, then at each earlier date, in one query (every active
    agency's unless `agency_ids` names them)."""
    wanted = None if agency_ids is None else list(agency_ids)
    found: list[dict[str, Counts]] = [{} for _ in range(len(earlier) + 1)]
    settle_planner(session)
    values = {"as_of": as_of, **{f"day_{i}": day for i, day in enumerate(earlier)}}
    if wanted is not None:
        values["agency_ids"] = wanted
    statement = _count_statement(len(earlier), wanted is not None)
    # count_query's columns: agency, the two totals, then three figures per date
    for agency, sworn, nonsworn, *figures in session.execute(statement, values).all():
        sworn, nonsworn = int(sworn or 0), int(nonsworn or 0)
        for index, counts in enumerate(found):
            crisis, trained, nonsworn_trained = figures[3 * index : 3 * index + 3]
            counts[agency] = Counts(
                sworn, int(crisis or 0), int(trained or 0), nonsworn, int(nonsworn_trained or 0)
            )
    return found


def settle_planner(session: Session) -> None:
    """PostgreSQL settings for the count queries, for this transaction only: the planner
    overestimates the join by orders of magnitude and then spends seconds JIT-compiling a
    query that runs in about as long."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


@lru_cache(maxsize=64)
def _count_statement(earlier: int, narrowed: bool) -> Select[Any]:
    """`count_query` with its dates (and agency ids) as parameters, built once per shape:
    a report's history asks for dozens of dates, and building that expression costs more
    than running it for one agency."""
    agencies = None
    if narrowed:
        agencies = select(Agency.id).where(Agency.id.in_(bindparam("agency_ids", expanding=True)))
    days = [bindparam(f"day_{i}", type_=Date) for i in range(earlier)]
    return count_query(bindparam("as_of", type_=Date), agencies, *days)


def head_counts(
    session: Session, as_of: date, agency_ids: Iterable[str] | None = None
) -> dict[str, Counts]:
    """Counts for every agency (or the given ones) at `as_of`."""
    return head_counts_at(session, as_of, (), agency_ids)[0]


def attested(
    session: Session, as_of: date, agency_ids: list[str] | None = None
) -> set[tuple[str, str]]:
    """(agency, kind) pairs with an attestation dated on or before `as_of`, not rejected (of
    every agency, or of the given ones)."""
    query = select(Attestation.agency_id, Attestation.kind).where(
        Attestation.attested_on <= as_of, Attestation.rejected_at.is_(None)
    )
    if agency_ids is not None:
        query = query.where(Attestation.agency_id.in_(agency_ids))
    return {(agency, kind) for agency, kind in session.execute(query.distinct())}


def compute(
    session: Session, as_of: date, agency_ids: Iterable[str] | None = None
) -> list[CoverageReport]:
    """Coverage reports for the agencies (every active one when None), ordered by agency id."""
    wanted = None if agency_ids is None else list(agency_ids)
    now, before = head_counts_at(session, as_of, [window_start(as_of)], wanted)
    return reports(session, as_of, now, before, wanted)


def window_start(as_of: date) -> date:
    """The first day of the rate window ending on `as_of`."""
    return as_of - timedelta(days=rules.RATE_WINDOW_DAYS)


def reports(
    session: Session,
    as_of: date,
    now: dict[str, Counts],
    before: dict[str, Counts],
    wanted: list[str] | None,
) -> list[CoverageReport]:
    """The reports of the agencies (every active one when None) from their head counts at
    `as_of` and at the start of its rate window, ordered by agency id."""
    evidence = attested(session, as_of, wanted)  # flushes what the session holds
    # plain rows on the connection, not through the ORM: a hub has tens of thousands
    query = select(
        Agency.id, Agency.name, Agency.program, Agency.pledged_on, Agency.deadline_months
    ).order_by(Agency.id)
    query = query.where(Agency.active if wanted is None else Agency.id.in_(wanted))
    none = Counts()
    return [
        _report(agency, as_of, now.get(agency[0], none), before.get(agency[0], none), evidence)
        for agency in session.connection().execute(query).all()
    ]


def _report(
    agency: Sequence[Any],
    as_of: date,
    counts: Counts,
    before: Counts,
    evidence: set[tuple[str, str]],
) -> CoverageReport:
    """One agency's report from its row (id, name, program, pledged_on, deadline_months).
    A hub makes 18,000 of these each night: the row is unpacked once, not read by name, and
    the report is built by position."""
    agency_id, name, program_id, pledged_on, deadline_months = agency
    program = PROGRAMS[program_id]
    crisis_20 = rules.meets_crisis_share(program, counts.sworn_crisis, counts.sworn_total)
    trained = rules.all_trained(counts)
    partnership = (agency_id, "partnership") in evidence
    policy = (agency_id, "policy") in evidence
    due = rules.deadline(pledged_on, deadline_months)
    projected = rules.projected_completion(program, counts, before, as_of)
    complete = bool(partnership and policy and crisis_20 and trained)
    status = rules.status(complete, as_of, due, projected, counts.sworn_total > 0)
    return CoverageReport(
        *(agency_id, name, as_of, program.id, counts, partnership, policy, crisis_20, trained),
        *(status, due, projected, rules.crisis_needed(program, counts.sworn_total)),
    )


__all__ = ["CoverageReport", "compute", "head_counts"]
