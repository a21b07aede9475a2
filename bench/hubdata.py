"""The synthetic hub every scale benchmark shares: agencies, people, employments, completions.

Everything is derived from ids and seeded generators, so two runs with the same sizes and seed
build the same world; `hubload` puts it into stores.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from onemind.domain.categories import add_months, valid_until
from onemind.domain.rules import Rule, decide
from onemind.store.roster import position_key

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
AS_OF = date(2026, 11, 26)
FIRST_DAY = date(2019, 1, 1)
SEED_SOURCE = 1

FIRST_NAMES = ("James", "Maria", "Robert", "Linda", "Michael", "Ana", "David", "Keisha", "Wei")
FIRST_NAMES += ("Jose", "Sarah", "Daniel", "Aisha", "Thomas", "Emily", "Carlos", "Nicole", "Omar")
LAST_NAMES = ("Smith", "Johnson", "Garcia", "Brown", "Nguyen", "Miller", "Davis", "Rodriguez")
LAST_NAMES += ("Martinez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Lee", "Walker")
SWORN_POSITIONS = ("Patrol Officer", "Sergeant", "Lieutenant", "Detective", "Deputy Sheriff")
DISPATCH_POSITIONS = ("Dispatcher", "Telecommunicator II", "911 Call-Taker")
OTHER_POSITIONS = ("Records Clerk", "Evidence Technician", "Crime Analyst", "Administrative Aide")
PROVIDERS = ("State Academy", "NAMI", "Regional Training Center", "Online LMS")


@dataclass(frozen=True, slots=True)
class Course:
    key: str
    title: str
    hours: float
    weight: int


CATALOGUE = (
    Course("CIT-40", "Crisis Intervention Team (CIT) 40-hour Basic Course", 40, 16),
    Course("CIT-MEM", "CIT Memphis Model Training", 40, 6),
    Course("CRIT-BJA", "Crisis Response and Intervention Training (CRIT)", 40, 5),
    Course("MHFA-PS", "Mental Health First Aid for Public Safety", 8, 20),
    Course("MHFA-ADULT", "Adult Mental Health First Aid", 8, 8),
    Course("CIT-911", "CIT for 911 Telecommunicators", 16, 3),
    Course("CIT-REF", "CIT Refresher In-Service Update", 4, 8),
    Course("MH-AWARE", "Mental Health Awareness Roll Call", 1, 6),
    Course("CIT-8", "Crisis Intervention Training overview", 8, 4),
    Course("DEESC-8", "De-escalation Tactics", 8, 10),
    Course("FIREARMS", "Firearms Qualification", 4, 10),
    Course("EVOC", "Emergency Vehicle Operations", 16, 4),
)
COURSE_WEIGHTS = [c.weight for c in CATALOGUE]


# ---------------------------------------------------------------- the synthetic world


@dataclass
class World:
    """Who works where; everything else is derived from ids and seeded generators."""

    seed: int
    agencies: list[str]
    person_agency: list[int]
    laterals: dict[int, int]
    candidates: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    validity: dict[str, int | None] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return len(self.person_agency)


def employee_id(pid: int) -> str:
    return f"E{pid:07d}"


def lateral_employee_id(pid: int) -> str:
    return f"L{pid:07d}"


def names(pid: int) -> tuple[str, str]:
    return FIRST_NAMES[pid % len(FIRST_NAMES)], LAST_NAMES[(pid * 7919) % len(LAST_NAMES)]


def email(pid: int) -> str:
    first, last = names(pid)
    return f"{first}.{last}.{pid}@mail.example".lower()


def random_day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def build_world(args: argparse.Namespace) -> World:
    rng = random.Random(args.seed)
    agencies = [f"agency-{i:05d}" for i in range(args.agencies)]
    weights = [rng.lognormvariate(0, 1.2) for _ in agencies]
    total = sum(weights)
    for i, share in enumerate((0.04, 0.015, 0.012, 0.01, 0.008)[: len(agencies) // 100]):
        weights[i] = total * share
    person_agency = rng.choices(range(len(agencies)), weights=weights, k=args.people)
    lateral_count = args.people // 200 if len(agencies) > 1 else 0
    chosen = rng.sample(range(1, args.people + 1), lateral_count)
    laterals = {pid: _other_agency(rng, person_agency[pid - 1], len(agencies)) for pid in chosen}
    return World(args.seed, agencies, person_agency, laterals)


def _other_agency(rng: random.Random, current: int, count: int) -> int:
    other = rng.randrange(count - 1)
    return other if other < current else other + 1


# ---------------------------------------------------------------- rows


def agency_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 1)
    for number, agency_id in enumerate(world.agencies):
        pledged = random_day(rng, FIRST_DAY, date(2025, 12, 31)) if rng.random() < 0.75 else None
        yield {
            "id": agency_id,
            "name": f"Town {number} Police Department",
            "program": "one-mind-2016" if rng.random() < 0.2 else "one-mind",
            "pledged_on": pledged,
            "deadline_months": rng.choice((12, 24, 36)),
            "report_to": [],
        }


def attestation_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 2)
    for agency_id in world.agencies:
        for kind, share in (("partnership", 0.5), ("policy", 0.35)):
            if rng.random() < share:
                yield {
                    "agency_id": agency_id,
                    "kind": kind,
                    "attested_on": random_day(rng, FIRST_DAY, AS_OF),
                    "evidence": "https://example.org/evidence",
                    "recorded_by": "bench",
                    "recorded_at": NOW,
                }


def person_rows(world: World) -> Iterator[dict[str, Any]]:
    for pid in range(1, world.people + 1):
        first, last = names(pid)
        yield {
            "id": pid,
            "first_name": first,
            "last_name": last,
            "email": email(pid),
            "created_at": NOW,
        }


def identifier_rows(world: World) -> Iterator[dict[str, Any]]:
    for pid in range(1, world.people + 1):
        yield {"person_id": pid, "kind": "email", "value": email(pid), "source_id": None}


def employment_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 3)
    extra = world.people
    for pid, agency in enumerate(world.person_agency, start=1):
        row = _employment(rng, pid, world.agencies[agency], employee_id(pid))
        second = world.laterals.get(pid)
        if second is None:
            yield row
            continue
        left = random_day(rng, date(2019, 6, 1), date(2026, 6, 30))
        row["separated_on"] = left
        yield row
        extra += 1
        lateral = _employment(rng, extra, world.agencies[second], lateral_employee_id(pid))
        lateral.update(person_id=pid, hired_on=left + timedelta(days=rng.randint(1, 60)))
        lateral["separated_on"] = None
        yield lateral


def _employment(rng: random.Random, row_id: int, agency: str, emp_id: str) -> dict[str, Any]:
    sworn = rng.random() < 0.85
    position, selected = _position(rng, sworn)
    hired = random_day(rng, date(1992, 1, 1), date(2026, 10, 31))
    separated = None
    if rng.random() < 0.07:
        separated = random_day(rng, hired, max(hired, date(2026, 11, 20)))
    return {
        "id": row_id,
        "person_id": row_id,
        "agency_id": agency,
        "employee_id": emp_id,
        "sworn": sworn,
        "position": position,
        "position_key": position_key(position),
        "selected": selected,
        "hired_on": hired,
        "separated_on": separated,
        "raw_record_id": None,
    }


def _position(rng: random.Random, sworn: bool) -> tuple[str, bool | None]:
    """A position and the roster's `selected` flag (None: blank, decided by the position)."""
    if sworn:
        return rng.choice(SWORN_POSITIONS), None
    if rng.random() < 0.45:
        return rng.choice(DISPATCH_POSITIONS), None
    return rng.choice(OTHER_POSITIONS), True if rng.random() < 0.15 else None


@dataclass(frozen=True, slots=True)
class Fact:
    """One stored completion: its id doubles as its raw record's id."""

    id: int
    person_id: int | None
    who: str
    course: Course
    completed_on: date
    expires_on: date | None
    voided: bool


def facts(world: World, count: int) -> Iterator[Fact]:
    rng = random.Random(world.seed + 4)
    for cid in range(1, count + 1):
        pid = rng.randint(1, world.people)
        course = rng.choices(CATALOGUE, weights=COURSE_WEIGHTS)[0]
        done = random_day(rng, FIRST_DAY, AS_OF)
        expires = (
            add_months(done, 36) if course.key.startswith("MHFA") and rng.random() < 0.1 else None
        )
        linked = rng.random() >= 0.005
        who = employee_id(pid) if linked else f"U{cid:08d}"
        voided = rng.random() < 0.002
        yield Fact(cid, pid if linked else None, who, course, done, expires, voided)


def raw_row(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "source_id": SEED_SOURCE,
        "external_id": f"seed:{fact.id}",
        "kind": "completion",
        "location": f"seed.csv:{fact.id}",
        "payload": {"n": fact.id},
        "payload_hash": "0" * 64,
        "first_seen": NOW,
        "last_seen": NOW,
        "first_run_id": None,
        "last_run_id": None,
    }


def completion_row(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "raw_record_id": fact.id,
        "source_id": SEED_SOURCE,
        "person_id": fact.person_id,
        "agency_hint": None,
        "employee_id": fact.who,
        "email": None,
        "mbox_sha1sum": None,
        "account": None,
        "course_key": fact.course.key,
        "course_title": fact.course.title,
        "activity_type": None,
        "provider": PROVIDERS[fact.id % len(PROVIDERS)],
        "hours": fact.course.hours,
        "completed_on": fact.completed_on,
        "expires_on": fact.expires_on,
        "voided": fact.voided,
    }


def classification(world: World, fact: Fact) -> dict[str, Any]:
    """The completion's classification columns, as the classifier decides them."""
    rule = decide(world.candidates[fact.course.key], fact.completed_on)
    category = rule.category if rule else None
    months = world.validity.get(category) if category else None
    until = valid_until(fact.completed_on, fact.expires_on, months) if category else None
    return {
        "category_id": category,
        "rule_id": rule.id if rule else None,
        "rule_version": rule.version if rule else None,
        "valid_until": until,
        "classified_at": NOW,
    }
