"""Coverage over time, computed from the records: a first report already has its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Select, bindparam, func, select
from sqlalchemy.orm import Session

from onemind.domain.categories import CRISIS, EVERYONE, add_months
from onemind.domain.programs import PROGRAMS, RATE_WINDOW_DAYS, Counts, Program
from onemind.store import coverage
from onemind.store.coverage import CoverageReport
from onemind.store.models import Agency, Category, Classification, Completion, Employment

HISTORY_POINTS = 36
MIN_HISTORY_MONTHS = 6


@dataclass(frozen=True)
class TrendPoint:
    """Shares (0-100) of the population trained at one date; None where nobody is counted."""

    as_of: date
    crisis: float | None
    sworn: float | None
    nonsworn: float | None

    @classmethod
    def of(cls, day: date, counts: Counts) -> TrendPoint:
        return cls(
            day,
            _share(counts.sworn_crisis, counts.sworn_total),
            _share(counts.sworn_trained, counts.sworn_total),
            _share(counts.nonsworn_trained, counts.nonsworn_total),
        )


@dataclass(frozen=True)
class Trend:
    """Today's population at each date of its history, the last point being the report's date;
    `window` is the same people `RATE_WINDOW_DAYS` earlier, the rate the projection follows."""

    points: list[TrendPoint]
    window: TrendPoint
    deadline: date | None
    projected: date | None

    @property
    def as_of(self) -> date:
        return self.points[-1].as_of


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100 * part / whole


def history_dates(start: date, as_of: date) -> list[date]:
    """Monthly dates from `start` up to (not including) `as_of`, spaced wider when there would
    be more than `HISTORY_POINTS - 1` of them."""
    months = (as_of.year - start.year) * 12 + as_of.month - start.month
    step = max(1, -(-months // (HISTORY_POINTS - 1)))
    days = (add_months(start, k * step) for k in range(months // step + 1))
    return [day for day in days if day < as_of]


def first_day(session: Session, agency_id: str, as_of: date) -> date:
    """Where the history starts: the pledge date, else the first training record of anyone
    employed there; at least `MIN_HISTORY_MONTHS` before the report's date."""
    start = session.scalar(select(Agency.pledged_on).where(Agency.id == agency_id))
    if start is None:
        start = session.scalar(
            select(func.min(Completion.completed_on))
            .join(Employment, Employment.person_id == Completion.person_id)
            .where(Employment.agency_id == agency_id, Completion.voided.is_(False))
        )
    latest = add_months(as_of, -MIN_HISTORY_MONTHS)
    return latest if start is None else min(start, latest)


def gather(session: Session, report: CoverageReport) -> tuple[Trend, Counts]:
    """The trend and the counts `RATE_WINDOW_DAYS` ago, in one pass over the records."""
    as_of, agency = report.as_of, report.agency
    window_day = as_of - timedelta(days=RATE_WINDOW_DAYS)
    earlier = history_dates(first_day(session, agency, as_of), as_of)
    counts = counts_at(session, agency, as_of, [window_day, *earlier])
    points = [TrendPoint.of(day, n) for day, n in zip(earlier, counts[2:], strict=True)]
    trend = Trend(
        points=[*points, TrendPoint.of(as_of, counts[0])],
        window=TrendPoint.of(window_day, counts[1]),
        deadline=report.deadline,
        projected=report.projected_completion,
    )
    return trend, counts[1]


def counts_at(session: Session, agency: str, as_of: date, earlier: list[date]) -> list[Counts]:
    """The agency's counts at `as_of`, then its people's at each earlier date.

    The coverage engine counts in SQL, one set of CASE columns per date; for one agency and
    thirty dates it is cheaper to read the credits of today's people once (the engine's own
    population and `coverage.credited` filter) and count each date here, by the same rules:
    a credit is valid from its completion until `valid_until`; a sworn officer counts only
    categories open to everyone; trained means holding a tier the program counts.
    """
    program_id = session.scalar(select(Agency.program).where(Agency.id == agency))
    if program_id is None:
        return [Counts() for _ in range(len(earlier) + 1)]
    program = PROGRAMS[program_id]
    sworn: dict[int, bool] = {}
    credits: dict[int, set[tuple[date, date | None, str, str]]] = {}
    rows = session.execute(_credit_query(program_id), {"as_of": as_of, "agency": agency})
    for person, is_sworn, completed, valid_until, tier, population in rows:
        sworn[person] = sworn.get(person, False) or bool(is_sworn)
        if tier is not None:
            credits.setdefault(person, set()).add((completed, valid_until, tier, population))
    return [_count(program, sworn, credits, day) for day in (as_of, *earlier)]


def _count(
    program: Program,
    sworn: dict[int, bool],
    credits: dict[int, set[tuple[date, date | None, str, str]]],
    day: date,
) -> Counts:
    officers = sum(sworn.values())
    crisis = trained = staff_trained = 0
    for person, held_credits in credits.items():
        officer = sworn[person]
        held = {
            tier
            for completed, valid_until, tier, population in held_credits
            if completed <= day
            and (valid_until is None or valid_until > day)
            and (population == EVERYONE or not officer)
        }
        if officer:
            crisis += CRISIS in held
            trained += bool(held & program.trained_tiers)
        else:
            staff_trained += bool(held & program.trained_tiers)
    return Counts(officers, crisis, trained, len(sworn) - officers, staff_trained)


@lru_cache(maxsize=len(PROGRAMS))
def _credit_query(program_id: str) -> Select[Any]:
    """Today's population of one agency, with every completion that may carry credit; built
    once per program with the date and agency as parameters."""
    as_of = bindparam("as_of", type_=Date)
    agency = select(Agency.id).where(Agency.id == bindparam("agency"))
    pop = coverage.population(PROGRAMS[program_id], as_of, agency).subquery()
    credited = (
        coverage.credited(
            as_of,
            Completion.person_id,
            Completion.completed_on,
            Classification.valid_until,
            Category.tier,
            Category.population,
        )
        .join(pop, pop.c.person_id == Completion.person_id)
        .subquery()
    )
    return select(
        pop.c.person_id,
        pop.c.sworn,
        credited.c.completed_on,
        credited.c.valid_until,
        credited.c.tier,
        credited.c.population,
    ).outerjoin(credited, credited.c.person_id == pop.c.person_id)
