"""What a rule change reaches: the people and agencies behind its courses, their tiers before and
after, and the matching courses its hours or dates leave out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.domain.rules import CourseFacts, Rule
from onemind.store import coverage
from onemind.store.models import Completion, Employment, Person

CHUNK = 900


@dataclass(frozen=True)
class PersonChange:
    person_id: int
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Excluded:
    """Courses a rule's pattern matches that its minimum hours or its dates leave out."""

    by_hours: int = 0
    by_dates: int = 0

    def __add__(self, other: Excluded) -> Excluded:
        return Excluded(self.by_hours + other.by_hours, self.by_dates + other.by_dates)


def people(session: Session, courses: Iterable[CourseFacts]) -> list[int]:
    """Everyone with a completion of one of these courses."""
    found: set[int] = set()
    for source_id, key in {(c.source_id, c.course_key) for c in courses}:
        found.update(
            session.scalars(
                select(Completion.person_id)
                .where(
                    Completion.source_id == source_id,
                    Completion.course_key == key,
                    Completion.person_id.is_not(None),
                )
                .distinct()
            )
        )
    return sorted(found)


def agencies(session: Session, people_ids: list[int]) -> list[str]:
    """The agencies these people have been employed by."""
    found: set[str] = set()
    for start in range(0, len(people_ids), CHUNK):
        found.update(
            session.scalars(
                select(Employment.agency_id)
                .where(Employment.person_id.in_(people_ids[start : start + CHUNK]))
                .distinct()
            )
        )
    return sorted(found)


def flags(session: Session, people_ids: list[int], as_of: date) -> dict[int, str]:
    """Per person, the tiers they hold at `as_of` in words ('crisis+mh', 'mh', 'none')."""
    found: dict[int, str] = dict.fromkeys(people_ids, "none")
    for start in range(0, len(people_ids), CHUNK):
        chunk = select(Person.id).where(Person.id.in_(people_ids[start : start + CHUNK]))
        # the chunk's completions only, not every completion grouped and then filtered
        for row in session.execute(coverage.credentials(as_of, people=chunk)):
            tiers = [t for t, held in (("crisis", row.crisis_n), ("mh", row.mh_n)) if held]
            found[row.person_id] = "+".join(tiers) or "none"
    return found


def person_changes(
    session: Session, before: dict[int, str], after: dict[int, str]
) -> list[PersonChange]:
    """The people whose tiers differ, by name."""
    changed = [p for p in before if before[p] != after.get(p, "none")]
    names = (
        {
            p.id: f"{p.first_name} {p.last_name}"
            for p in session.scalars(select(Person).where(Person.id.in_(changed)))
        }
        if changed
        else {}
    )
    return [PersonChange(p, names.get(p, "?"), before[p], after.get(p, "none")) for p in changed]


def excluded(session: Session, rule: Rule, facts: list[CourseFacts]) -> Excluded:
    """How many courses the rule's pattern matches but its hours, or its dates, leave out."""
    by_hours = 0
    if rule.min_hours is not None:
        loose = replace(rule, min_hours=None)
        matching = {(c.source_id, c.course_key) for c in facts if loose.matches(c)}
        kept = {(c.source_id, c.course_key) for c in facts if rule.matches(c)}
        by_hours = len(matching - kept)
    by_dates = 0
    if rule.effective_from is not None or rule.effective_until is not None:
        kept = {(c.source_id, c.course_key) for c in facts if rule.matches(c)}
        by_dates = len(kept - _completed_within(session, rule))
    return Excluded(by_hours, by_dates)


def _completed_within(session: Session, rule: Rule) -> set[tuple[int, str]]:
    """Courses with a completion inside the rule's effective dates."""
    query = select(Completion.source_id, Completion.course_key).distinct()
    if rule.effective_from is not None:
        query = query.where(Completion.completed_on >= rule.effective_from)
    if rule.effective_until is not None:
        query = query.where(Completion.completed_on < rule.effective_until)
    return {(s, k) for s, k in session.execute(query)}
