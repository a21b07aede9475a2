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

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, Select, bindparam, select
from sqlalchemy.orm import Session

from onemind.domain.categories import CRISIS, EVERYONE
from onemind.domain.programs import PROGRAMS, Counts, Program
from onemind.store import coverage
from onemind.store.models import Agency, Category, Completion

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
        held = self._spans
        officers = sum(self.sworn.values())
        return Counts(
            officers,
            held.crisis.at(day),
            held.trained.at(day),
            len(self.sworn) - officers,
            held.staff_trained.at(day),
        )

    @cached_property
    def _spans(self) -> _Spans:
        """Each head count as spans of time, built once: a report asks for thirty dates."""
        spans = _Spans(_Holders(), _Holders(), _Holders())
        for person, credits in self.credits.items():
            officer = self.sworn[person]
            usable = [c for c in credits if c[3] == EVERYONE or not officer]
            trained = [c for c in usable if c[2] in self.program.trained_tiers]
            if officer:
                spans.crisis.add([c for c in usable if c[2] == CRISIS])
                spans.trained.add(trained)
            else:
                spans.staff_trained.add(trained)
        spans.crisis.done()
        spans.trained.done()
        spans.staff_trained.done()
        return spans


class _Holders:
    """How many people hold something at a date, from each one's credits: every person's
    spans merged (so none is counted twice), their starts and ends sorted for bisection."""

    def __init__(self) -> None:
        self.starts: list[date] = []
        self.ends: list[date] = []

    def add(self, credits: list[Credit]) -> None:
        """One person's credits for this count: valid from completion until `valid_until`."""
        spans = sorted(
            ((c[0], c[1]) for c in credits if c[1] is None or c[1] > c[0]), key=itemgetter(0)
        )
        start: date | None = None
        end: date | None = None
        for completed, valid_until in spans:
            if start is not None and (end is None or completed <= end):
                end = None if end is None or valid_until is None else max(end, valid_until)
                continue
            if start is not None:
                self._span(start, end)
            start, end = completed, valid_until
        if start is not None:
            self._span(start, end)

    def _span(self, start: date, end: date | None) -> None:
        self.starts.append(start)
        if end is not None:
            self.ends.append(end)

    def done(self) -> None:
        self.starts.sort()
        self.ends.sort()

    def at(self, day: date) -> int:
        return bisect_right(self.starts, day) - bisect_right(self.ends, day)


@dataclass(frozen=True)
class _Spans:
    crisis: _Holders
    trained: _Holders
    staff_trained: _Holders


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
            Completion.valid_until,
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
