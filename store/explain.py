"""Why each person of an agency counts or not: the record and rule behind every figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onemind.domain.categories import CRISIS, NONSWORN_ONLY
from onemind.domain.programs import PROGRAMS, Program
from onemind.errors import ConfigurationError
from onemind.store.coverage import population
from onemind.store.models import (
    Agency,
    Category,
    Completion,
    Employment,
    Person,
    RawRecord,
    Source,
)


@dataclass(frozen=True)
class CredentialNote:
    """One completion of the person and what it does for them at the date."""

    course: str
    completed_on: date
    source: str
    record: str
    category: str | None
    rule_id: int | None
    valid_until: date | None
    verdict: str
    tier: str | None = None

    @property
    def counts(self) -> bool:
        return self.tier is not None


@dataclass
class PersonExplanation:
    person_id: int
    name: str
    employee_id: str
    role: str
    trained: bool = False
    crisis: bool = False
    notes: list[CredentialNote] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "employee_id": self.employee_id,
            "role": self.role,
            "trained": self.trained,
            "crisis": self.crisis,
            "credentials": [
                {
                    "course": n.course,
                    "completed_on": n.completed_on.isoformat(),
                    "source": n.source,
                    "record": n.record,
                    "category": n.category,
                    "rule": n.rule_id,
                    "valid_until": n.valid_until.isoformat() if n.valid_until else None,
                    "verdict": n.verdict,
                }
                for n in self.notes
            ],
        }


def people_in(population: Select[Any]) -> Select[Any]:
    """Each employment of `population` (a coverage population select) with its person's name,
    ordered by name, sworn employments first."""
    pop = population.subquery()
    return (
        select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Employment.employee_id,
            Employment.sworn,
            Employment.selected,
            Employment.position,
        )
        .join(Employment, Employment.person_id == Person.id)
        .join(pop, pop.c.employment_id == Employment.id)
        .order_by(Person.last_name, Person.first_name, Person.id, Employment.sworn.desc())
    )


def explain_agency(session: Session, agency_id: str, as_of: date) -> list[PersonExplanation]:
    """Every person in the agency's population at `as_of`, ordered by name."""
    agency = session.get_one(Agency, agency_id)
    program = PROGRAMS[agency.program]
    pop = population(program, as_of, select(Agency.id).where(Agency.id == agency_id))
    # plain rows, not ORM objects: the largest agencies count tens of thousands of people
    rows = session.execute(people_in(pop))
    people: dict[int, PersonExplanation] = {}
    for row in rows:
        people.setdefault(
            row.id,
            PersonExplanation(
                row.id,
                f"{row.first_name} {row.last_name}",
                row.employee_id,
                _role(row, program),
            ),
        )
    counted = select(pop.subquery().c.person_id)
    for person_id, note in _notes(session, counted, as_of, people, program):
        _attach(people[person_id], [(person_id, note)], program)
    return list(people.values())


def _attach(
    explanation: PersonExplanation, notes: list[tuple[int, CredentialNote]], program: Program
) -> None:
    """Add the notes and derive whether they make the person trained or crisis-trained."""
    for _, note in notes:
        explanation.notes.append(note)
        if note.tier is not None:
            explanation.trained |= note.tier in program.trained_tiers
            explanation.crisis |= note.tier == CRISIS and explanation.role == "sworn"


def _role(employment: Any, program: Program) -> str:
    """`employment`: an Employment, or a row with its sworn, selected and position."""
    if employment.sworn:
        return "sworn"
    if employment.selected:
        return "non-sworn, selected on the roster"
    return f"non-sworn, position {employment.position!r} in scope"


def _notes(
    session: Session,
    person_ids: list[int] | Select[Any],
    as_of: date,
    people: dict[int, PersonExplanation],
    program: Program,
) -> list[tuple[int, CredentialNote]]:
    query = (
        select(
            Completion.person_id,
            Completion.course_title,
            Completion.completed_on,
            Completion.voided,
            Completion.classified_at.label("classified"),
            Completion.rule_id,
            Completion.valid_until,
            Category.id.label("category"),
            Category.tier,
            Category.population,
            RawRecord.location,
            Source.name.label("source"),
        )
        .join(RawRecord, RawRecord.id == Completion.raw_record_id)
        .join(Source, Source.id == Completion.source_id)
        .outerjoin(Category, Category.id == Completion.category_id)
        .where(Completion.person_id.in_(person_ids))
        .order_by(Completion.completed_on)
    )
    notes = []
    for row in session.execute(query):
        verdict, tier = _verdict(row, as_of, people[row.person_id].role == "sworn", program)
        notes.append(
            (
                row.person_id,
                CredentialNote(
                    course=row.course_title,
                    completed_on=row.completed_on,
                    source=row.source,
                    record=row.location,
                    category=row.category,
                    rule_id=row.rule_id,
                    valid_until=row.valid_until,
                    verdict=verdict,
                    tier=tier,
                ),
            )
        )
    return notes


def _verdict(row: Any, as_of: date, sworn: bool, program: Program) -> tuple[str, str | None]:
    """The same tests as the coverage query, one at a time, in words (`row` from `_notes`)."""
    if row.classified is None:
        return "not classified yet (run 'onemind sync')", None
    if row.category is None:
        if row.rule_id is None:
            return "course not mapped to any category", None
        return f"not qualifying (mapping rule #{row.rule_id})", None
    if row.voided:
        return "voided by its source", None
    if row.completed_on > as_of:
        return f"completed after {as_of.isoformat()}", None
    if row.valid_until is not None and row.valid_until <= as_of:
        return f"expired on {row.valid_until.isoformat()}", None
    if sworn and row.population == NONSWORN_ONLY:
        return f"{row.category} counts for non-sworn staff only", None
    held = f"{row.category} ({row.tier} tier, rule #{row.rule_id})"
    if row.tier in program.trained_tiers:
        return f"counts: {held}", row.tier
    if sworn and row.tier == CRISIS:
        return (
            f"counts toward the crisis share only: {held}; {program.id} also needs a "
            "mental-health-tier credential"
        ), row.tier
    return f"does not count under {program.id}: {held}", None


@dataclass
class EmploymentExplanation:
    """One of a person's employments: does the person count there at the date, and why."""

    agency: str
    program: str
    in_population: bool
    person: PersonExplanation

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "program": self.program,
            "in_population": self.in_population,
            **self.person.to_json(),
        }


def find_person(session: Session, key: str) -> Person:
    """A person by id, email, or employee id (unique across agencies).

    Raises:
        ConfigurationError: nobody, or more than one person, answers to the key.
    """
    candidates: set[int] = set()
    if key.isdigit() and session.get(Person, int(key)) is not None:
        candidates.add(int(key))
    candidates.update(session.scalars(select(Person.id).where(Person.email == key.lower())))
    candidates.update(
        session.scalars(select(Employment.person_id).where(Employment.employee_id == key))
    )
    if not candidates:
        raise ConfigurationError(f"no person with id, email or employee id {key!r}")
    if len(candidates) > 1:
        raise ConfigurationError(
            f"{key!r} names {len(candidates)} people; use the person id "
            f"({', '.join(map(str, sorted(candidates)))})"
        )
    return session.get_one(Person, candidates.pop())


def explain_person(session: Session, person: Person, as_of: date) -> list[EmploymentExplanation]:
    """Per employment of the person: in the population at `as_of`, and what each record does."""
    out = []
    employments = session.scalars(
        select(Employment).where(Employment.person_id == person.id).order_by(Employment.hired_on)
    )
    for employment in employments:
        agency = session.get_one(Agency, employment.agency_id)
        program = PROGRAMS[agency.program]
        pop = population(program, as_of, select(Agency.id).where(Agency.id == agency.id))
        members = pop.where(Employment.id == employment.id)
        counted = session.execute(members).first() is not None
        explanation = PersonExplanation(
            person.id,
            f"{person.first_name} {person.last_name}",
            employment.employee_id,
            _role(employment, program) if counted else _absence(employment, as_of),
        )
        _attach(
            explanation,
            _notes(session, [person.id], as_of, {person.id: explanation}, program),
            program,
        )
        out.append(EmploymentExplanation(agency.id, program.id, counted, explanation))
    return out


def _absence(employment: Employment, as_of: date) -> str:
    if employment.hired_on > as_of:
        return f"not counted: hired {employment.hired_on.isoformat()}"
    if employment.separated_on is not None and employment.separated_on < as_of:
        return f"not counted: separated {employment.separated_on.isoformat()}"
    if employment.selected is False:
        return f"not counted: non-sworn {employment.position!r}, selected = false"
    return f"not counted: non-sworn {employment.position!r}, not selected"
