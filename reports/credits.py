"""The credits of one agency's people, read once per report.

The coverage engine counts in SQL, one set of CASE columns per date, over everyone's
completions. A report wants one agency at thirty dates and each person's standing: it is far
cheaper to read today's population (the engine's `coverage.population`) and the completions that
may carry credit for them (the engine's `coverage.credited`) once, and to apply the engine's
rules here: a credit is valid from its completion until `valid_until`; a sworn officer counts
only categories open to everyone; trained means holding a tier the program counts. Tests hold
these counts to the engine's, date by date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Select, bindparam, select
from sqlalchemy.orm import Session

from onemind.domain.categories import CRISIS, EVERYONE
from onemind.domain.programs import PROGRAMS, Counts, Program
from onemind.store import coverage
from onemind.store.models import Agency, Category, Classification, Completion

Credit = tuple[date, date | None, str, str]  # completed on, valid until, tier, population


@dataclass(frozen=True)
class Credits:
    """Today's population of one agency (person id: sworn) and the credits each may hold."""

    program: Program
    sworn: dict[int, bool]
    credits: dict[int, set[Credit]]

    def tiers(self, person: int, day: date) -> set[str]:
        """The tiers the person holds on `day` by the engine's rules."""
        officer = self.sworn[person]
        return {
            tier
            for completed, valid_until, tier, population in self.credits.get(person, ())
            if completed <= day
            and (valid_until is None or valid_until > day)
            and (population == EVERYONE or not officer)
        }

    def counts(self, day: date) -> Counts:
        """The population's head counts on `day` (the people stay today's)."""
        officers = sum(self.sworn.values())
        crisis = trained = staff_trained = 0
        for person in self.credits:
            held = self.tiers(person, day)
            if self.sworn[person]:
                crisis += CRISIS in held
                trained += bool(held & self.program.trained_tiers)
            else:
                staff_trained += bool(held & self.program.trained_tiers)
        return Counts(officers, crisis, trained, len(self.sworn) - officers, staff_trained)


def read_credits(session: Session, program: Program, agency: str, as_of: date) -> Credits:
    """The agency's population at `as_of` and their credits, in one query."""
    sworn: dict[int, bool] = {}
    credits: dict[int, set[Credit]] = {}
    rows = session.execute(_credit_query(program.id), {"as_of": as_of, "agency": agency})
    for person, is_sworn, completed, valid_until, tier, population in rows:
        sworn[person] = sworn.get(person, False) or bool(is_sworn)
        if tier is not None:
            credits.setdefault(person, set()).add((completed, valid_until, tier, population))
    return Credits(program, sworn, credits)


@lru_cache(maxsize=len(PROGRAMS))
def _credit_query(program_id: str) -> Select[Any]:
    """Built once per program, the date and agency as parameters: building the statement
    took longer than running it."""
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
