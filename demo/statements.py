"""The demo's LRS export: xAPI statements of the training it reports, and some earning nothing."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from onemind.demo.people import Person, pick_date, written_email
from onemind.demo.trainings import COURSES, Course, Training, window

LRS_MIGRATION = date(2024, 1, 15)  # older statements were bulk-loaded into the LRS that day
LMS = "https://lms.state-academy.example"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"

AUTHORITY = {
    "objectType": "Agent",
    "name": "State Academy LMS",
    "account": {"homePage": LMS, "name": "lms-sync"},
}
ADMIN = {
    "objectType": "Agent",
    "name": "LRS Administrator",
    "mbox": "mailto:lrs-admin@state-academy.example",
}


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from the seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stamp(moment: datetime, millis: bool = False) -> str:
    """ISO 8601 in UTC with a `Z`, to the second or to the millisecond."""
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


def actor(rng: random.Random, person: Person) -> dict[str, Any]:
    """The xAPI Agent for a person, identified by mailbox or by LMS account (employee id)."""
    agent: dict[str, Any] = {"objectType": "Agent", "name": f"{person.first} {person.last}"}
    if rng.random() < 0.6:
        agent["mbox"] = "mailto:" + written_email(rng, person)
    else:
        agent["account"] = {"homePage": LMS, "name": person.employee_id}
    return agent


def verb(name: str) -> dict[str, Any]:
    """An ADL verb with its en-US display."""
    return {"id": ADL_VERBS + name, "display": {"en-US": name}}


def activity(course: Course) -> dict[str, Any]:
    """The LRS activity for a course."""
    return {
        "objectType": "Activity",
        "id": f"{LMS}/courses/{course.slug}",
        "definition": {
            "name": {"en-US": course.title},
            "type": "http://adlnet.gov/expapi/activities/course",
        },
    }


def moments(rng: random.Random, day: date) -> tuple[datetime, datetime]:
    """When a statement happened (a US afternoon, in UTC) and when the LRS stored it."""
    clock = time(rng.randint(13, 21), rng.randint(0, 59), rng.randint(0, 59))
    happened = datetime.combine(day, clock, tzinfo=UTC)
    if day < LRS_MIGRATION:
        clock = time(3, rng.randint(0, 59), rng.randint(0, 59))
        stored = datetime.combine(LRS_MIGRATION, clock, tzinfo=UTC)
    else:
        stored = happened + timedelta(seconds=rng.randint(2, 900))
    return happened, stored + timedelta(milliseconds=rng.randint(0, 999))


def statement(
    rng: random.Random, person: Person, course_key: str, day: date,
    verb_name: str = "completed", result: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One xAPI 1.0.3 statement as an LRS exports it; by default a successful completion."""
    course = COURSES[course_key]
    happened, stored = moments(rng, day)
    if result is None:
        result = {"completion": True, "success": True}
    if result.get("completion"):
        result = {**result, "duration": f"PT{course.hours}H"}
    body: dict[str, Any] = {
        "id": new_uuid(rng),
        "actor": actor(rng, person),
        "verb": verb(verb_name),
        "object": activity(course),
    }
    if result:
        body["result"] = result
    body.update(timestamp=stamp(happened), stored=stamp(stored, True))
    body.update(authority=AUTHORITY, version="1.0.0")
    return body


def credit_statements(rng: random.Random, trainings: list[Training]) -> list[dict[str, Any]]:
    """Completed/passed statements for the training the LRS reports."""
    found = []
    for training in trainings:
        if training.channel != "csv":
            name = rng.choice(("completed",) * 7 + ("passed",) * 3)
            person, course, day = training.person, training.course, training.completed_on
            found.append(statement(rng, person, course, day, name))
    return found


def off_tier(
    rng: random.Random, person: Person, verb_name: str = "completed",
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A statement about a course the person does not hold (so any credit would show)."""
    courses = ("cit", "crit") if person.plan == "mh" else ("cit", "crit", "mhfa-ps")
    course = rng.choice(courses)
    lo, _ = window(person)
    day = pick_date(rng, max(lo, date(2026, 2, 1)), date(2026, 10, 31))
    return statement(rng, person, course, day, verb_name, result)


def voiding(rng: random.Random, target: dict[str, Any]) -> dict[str, Any]:
    """A voiding statement retracting `target`, stored some days after it."""
    stored = datetime.fromisoformat(target["stored"])
    stored += timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 3600))
    return {
        "id": new_uuid(rng),
        "actor": ADMIN,
        "verb": verb("voided"),
        "object": {"objectType": "StatementRef", "id": target["id"]},
        "timestamp": stamp(stored.replace(microsecond=0)),
        "stored": stamp(stored, True),
        "authority": AUTHORITY,
        "version": "1.0.0",
    }


def statement_targets(
    rng: random.Random, people: list[Person]
) -> tuple[list[Person], list[Person]]:
    """Active Springfield/Ogdenville sworn staff without crisis training: untrained, MHFA-only."""
    pool = [
        p
        for p in people
        if p.agency.id in ("springfield-pd", "ogdenville-so") and p.sworn
        if p.separated_on is None and not p.lateral and p.plan != "crisis"
    ]
    rng.shuffle(pool)
    return [p for p in pool if p.plan != "mh"], [p for p in pool if p.plan == "mh"]


def special_statements(rng: random.Random, people: list[Person]) -> list[dict[str, Any]]:
    """Statements that earn nothing: failed, merely attempted/experienced, voided, malformed."""
    untrained, trained = statement_targets(rng, people)
    failed = {"completion": True, "success": False}
    out = [off_tier(rng, p, result=failed) for p in untrained[:2] + trained[:3]]
    for i, person in enumerate(untrained[2:6] + trained[3:11]):
        if i % 2:
            out.append(off_tier(rng, person, "experienced", {}))
        else:
            out.append(off_tier(rng, person, "attempted", {"completion": False}))
    targets = [off_tier(rng, p) for p in untrained[6:7] + trained[11:13]]
    out += targets + [voiding(rng, target) for target in targets]
    broken = off_tier(rng, untrained[7])
    del broken["verb"]
    return [*out, broken]


def all_statements(
    rng: random.Random, people: list[Person], trainings: list[Training]
) -> list[dict[str, Any]]:
    """The LRS export: every statement, oldest stored first."""
    found = credit_statements(rng, trainings) + special_statements(rng, people)
    return sorted(found, key=lambda s: s["stored"])
