"""The training the demo's people took, and the completions.csv rows that report it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from onemind.demo.people import (
    DISPATCH,
    NameBook,
    Person,
    mailbox,
    pick_date,
    written_email,
)

TODAY = date(2026, 11, 26)  # the day the demo data describes
FIRST_TRAINING = date(2021, 1, 1)
LAST_TRAINING = date(2026, 11, 20)
RECENT_FROM = TODAY - timedelta(days=85)  # safely inside the last 90 days
MH_VALID_FROM = date(2023, 12, 15)  # an MHFA completed since then is still valid today
MH_EXPIRED_BY = date(2023, 10, 31)  # an MHFA completed by then has expired (3-year term)
QUALIFYING = frozenset({"cit", "crit", "mhfa-ps", "mhfa-adult", "cit-tc"})
COMPLETION_FIELDS = [
    "employee_id", "email", "course_id", "course_title", "provider", "hours", "completed_on",
    "expires_on",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Course:
    course_id: str
    title: str
    hours: str
    providers: tuple[str, ...]
    slug: str | None = None  # the LRS activity, for courses also tracked in xAPI


COURSES = {
    "cit": Course(
        "POST-CIT-40",
        "Crisis Intervention Team (CIT) Basic 40-Hour",
        "40",
        ("Regional CIT Center", "State POST Academy"),
        "cit-40",
    ),
    "crit": Course(
        "BJA-CRIT",
        "Crisis Response and Intervention Training (CRIT)",
        "40",
        ("State POST Academy",),
        "crit",
    ),
    "mhfa-ps": Course(
        "MHFA-PS",
        "Mental Health First Aid for Public Safety",
        "8",
        ("National Council for Mental Wellbeing", "State POST Academy"),
        "mhfa-ps",
    ),
    "mhfa-adult": Course(
        "MHFA-ADULT",
        "Adult Mental Health First Aid",
        "7.5",
        ("National Council for Mental Wellbeing",),
    ),
    "cit-tc": Course("CIT-TC-16", "CIT for Telecommunicators", "16", ("Regional CIT Center",)),
    "firearms": Course("FQ-2026", "Firearms Qualification", "4", ("State POST Academy",)),
    "dt": Course("DT-UPD-8", "Defensive Tactics Update", "8", ("State POST Academy",)),
    "cit-ref": Course("CIT-REF-4", "CIT Refresher 4hr", "4", ("Regional CIT Center",)),
    "neg": Course("NEG-101", "Crisis Negotiation", "24", ("State POST Academy",)),
    "cpr": Course("FA-CPR", "First Aid/CPR", "4", ("County EMS Training Office",)),
}


@dataclass(slots=True)
class Training:
    person: Person
    course: str
    completed_on: date
    expires_on: date | None = None
    channel: str = "csv"  # csv | xapi | both


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def window(person: Person) -> tuple[date, date]:
    """The days the person could train: from two weeks after hire until they left."""
    lo = max(person.hired_on + timedelta(days=14), FIRST_TRAINING)
    if person.separated_on is None:
        return lo, LAST_TRAINING
    return lo, person.separated_on - timedelta(days=1)


def when(rng: random.Random, person: Person, lo: date, hi: date) -> date:
    """A training day in [lo, hi]: in the last 90 days for the agency's share, else before."""
    if person.separated_on is None and rng.random() < person.agency.recent_share:
        return pick_date(rng, max(lo, RECENT_FROM), hi)
    return pick_date(rng, lo, max(lo, min(hi, RECENT_FROM - timedelta(days=1))))


def mhfa(rng: random.Random, person: Person, day: date) -> Training:
    """An MHFA course (Public Safety mostly for sworn), sometimes with its expiry date."""
    public_safety = rng.random() < (0.75 if person.sworn else 0.3)
    expires = add_years(day, 3) if rng.random() < 0.3 else None
    return Training(person, "mhfa-ps" if public_safety else "mhfa-adult", day, expires)


def crisis_training(rng: random.Random, person: Person, lo: date, hi: date) -> list[Training]:
    """A CIT or CRIT course, sometimes with an MHFA and a (non-qualifying) refresher."""
    course = "cit" if rng.random() < 0.8 else "crit"
    day = when(rng, person, lo, hi)
    found = [Training(person, course, day)]
    if rng.random() < 0.35:
        found.append(mhfa(rng, person, when(rng, person, lo, hi)))
    if day < date(2025, 6, 1) and rng.random() < 0.3:
        found.append(Training(person, "cit-ref", pick_date(rng, day + timedelta(days=365), hi)))
    return found


def mh_training(rng: random.Random, person: Person, lo: date, hi: date) -> list[Training]:
    """A valid MHFA (or CIT for telecommunicators), sometimes after an expired older MHFA."""
    if not person.sworn and person.position in DISPATCH and rng.random() < 0.5:
        found = [Training(person, "cit-tc", when(rng, person, lo, hi))]
    else:
        found = [mhfa(rng, person, when(rng, person, max(lo, MH_VALID_FROM), hi))]
    if lo <= MH_EXPIRED_BY and rng.random() < 0.2:  # an older course, since renewed
        found.append(mhfa(rng, person, pick_date(rng, lo, MH_EXPIRED_BY)))
    return found


def planned(rng: random.Random, person: Person) -> list[Training]:
    """The qualifying training the person's plan calls for (none on a lateral's new record)."""
    lo, hi = window(person)
    if person.carried and person.separated_on is None:
        return []
    if person.plan == "crisis":
        return crisis_training(rng, person, lo, hi)
    if person.plan == "mh":
        return mh_training(rng, person, lo, hi)
    if person.plan == "expired":
        return [mhfa(rng, person, pick_date(rng, lo, min(hi, MH_EXPIRED_BY)))]
    return []


def noise(rng: random.Random, person: Person) -> list[Training]:
    """Courses that earn nothing: firearms, defensive tactics, CPR, negotiation, refreshers."""
    lo, hi = window(person)
    found = []
    if person.sworn and hi >= date(2026, 1, 10) and rng.random() < 0.7:
        day = pick_date(rng, max(lo, date(2026, 1, 10)), min(hi, date(2026, 10, 30)))
        found.append(Training(person, "firearms", day))
    shares = {"dt": 0.3, "cpr": 0.3, "neg": 0.05, "cit-ref": 0.03}
    for course, share in shares.items():
        if (person.sworn or course == "cpr") and rng.random() < share:
            found.append(Training(person, course, pick_date(rng, lo, hi)))
    return found


def channel(rng: random.Random, training: Training) -> str:
    """Where the record shows up: the CSV export, the LRS, or both."""
    person = training.person
    if COURSES[training.course].slug is None or person.lateral or training.expires_on:
        return "csv"
    roll, share = rng.random(), person.agency.xapi_share
    if roll < share:
        return "xapi"
    return "both" if roll < share * 1.2 else "csv"


def all_trainings(rng: random.Random, people: list[Person]) -> list[Training]:
    """Every course everyone took, each assigned to the channel that reports it."""
    found = []
    for person in people:
        found += planned(rng, person) + noise(rng, person)
    for training in found:
        training.channel = channel(rng, training)
    return found


def completion_row(rng: random.Random, training: Training) -> dict[str, str]:
    """One completions.csv row naming the person by employee id, email or both."""
    person, course = training.person, COURSES[training.course]
    how = "id" if person.lateral else rng.choices(("id", "email", "both"), (45, 35, 20))[0]
    return {
        "employee_id": "" if how == "email" else person.employee_id,
        "email": "" if how == "id" else written_email(rng, person),
        "course_id": course.course_id,
        "course_title": course.title,
        "provider": rng.choice(course.providers),
        "hours": course.hours,
        "completed_on": training.completed_on.isoformat(),
        "expires_on": training.expires_on.isoformat() if training.expires_on else "",
    }


def plain_row(course: str, day: date, employee_id: str = "", email: str = "") -> dict[str, str]:
    """A completions.csv row built by hand (for the malformed and unknown-person rows)."""
    spec = COURSES[course]
    return {
        "employee_id": employee_id,
        "email": email,
        "course_id": spec.course_id,
        "course_title": spec.title,
        "provider": spec.providers[0],
        "hours": spec.hours,
        "completed_on": day.isoformat(),
        "expires_on": "",
    }


def pick(rng: random.Random, people: list[Person], agency: str, plans: tuple[str, ...]) -> Person:
    """A random active sworn non-lateral person of `agency` whose plan is one of `plans`."""
    pool = [
        p
        for p in people
        if p.agency.id == agency and p.sworn and p.separated_on is None
        if p.plan in plans and not p.lateral
    ]
    return rng.choice(pool)


def malformed_rows(rng: random.Random, people: list[Person]) -> list[dict[str, str]]:
    """The three rows the quarantine demo expects: a bad date, bad hours, and nobody named."""
    person = pick(rng, people, "springfield-pd", ("expired",))
    bad_date = plain_row("mhfa-ps", date(2026, 1, 1), person.employee_id)
    bad_date["completed_on"] = "2026-13-45"
    person = pick(rng, people, "shelbyville-pd", ("none",))
    bad_hours = plain_row("mhfa-ps", date(2026, 6, 17), email=person.email.lower())
    bad_hours["hours"] = "eight"
    nobody = plain_row("cit", date(2026, 5, 8))
    return [bad_date, bad_hours, nobody]


def unknown_rows(rng: random.Random, names: NameBook) -> list[dict[str, str]]:
    """Four completions by people on no roster yet (new recruits); they stay unmatched."""
    rows = []
    for domain, course in (
        ("springfield.example", "mhfa-ps"),
        ("springfield.example", "cit"),
        ("ogdenville.example", "mhfa-adult"),
        ("shelbyville.example", "mhfa-ps"),
    ):
        first, last = names.draw()
        day = pick_date(rng, date(2026, 10, 1), LAST_TRAINING)
        rows.append(plain_row(course, day, email=mailbox(first, last, domain).lower()))
    return rows


def completion_rows(
    rng: random.Random, names: NameBook, people: list[Person], trainings: list[Training]
) -> list[dict[str, str]]:
    """All completions.csv rows by date, with the malformed rows slipped in at random."""
    rows = [completion_row(rng, t) for t in trainings if t.channel != "xapi"]
    rows += unknown_rows(rng, names)
    rows.sort(key=lambda r: (r["completed_on"], r["course_id"], r["employee_id"], r["email"]))
    for row in malformed_rows(rng, people):
        rows.insert(rng.randrange(len(rows)), row)
    return rows
