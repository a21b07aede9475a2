"""Generate the bundled demo data (roster, completions, xAPI statements) into demo/data/."""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

SEED = 2026
TODAY = date(2026, 11, 26)
FIRST_TRAINING = date(2021, 1, 1)
LAST_TRAINING = date(2026, 11, 20)
RECENT_FROM = TODAY - timedelta(days=85)  # safely inside the last 90 days
MH_VALID_FROM = date(2023, 12, 15)  # an MHFA completed since then is still valid today
MH_EXPIRED_BY = date(2023, 10, 31)  # an MHFA completed by then has expired (3-year term)
LRS_MIGRATION = date(2024, 1, 15)  # older statements were bulk-loaded into the LRS that day
OUT_DIR = Path(__file__).resolve().parent / "data"
LMS = "https://lms.state-academy.example"
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
DISPATCH = frozenset({"Dispatcher", "Telecommunicator", "Call Taker"})
QUALIFYING = frozenset({"cit", "crit", "mhfa-ps", "mhfa-adult", "cit-tc"})
ROSTER_FIELDS = [
    "agency", "employee_id", "first_name", "last_name", "email", "sworn", "position", "selected",
    "hired_on", "separated_on",
]  # fmt: skip
COMPLETION_FIELDS = [
    "employee_id", "email", "course_id", "course_title", "provider", "hours", "completed_on",
    "expires_on",
]  # fmt: skip

FIRST_NAMES = (
    "James", "Maria", "Robert", "Aisha", "Michael", "Jennifer", "David", "Keisha", "Carlos",
    "Linda", "William", "Priya", "Joseph", "Emily", "Daniel", "Sofia", "Thomas", "Mei",
    "Anthony", "Rachel", "Marcus", "Laura", "Kevin", "Fatima", "Brian", "Megan", "Jose",
    "Hannah", "Eric", "Tamika", "Steven", "Olivia", "Andre", "Grace", "Ryan", "Nicole", "Luis",
    "Erin", "Jamal", "Heather", "Derek", "Yesenia", "Patrick", "Amanda", "Tyrone", "Kimberly",
    "Victor", "Samantha", "Hiroshi", "Danielle", "Raymond", "Ana", "Sean", "Brianna", "Omar",
    "Christine", "Travis", "Leah", "Darnell", "Molly",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kowalski", "O'Brien", "Patel",
    "Kim", "Chen", "Okafor", "Haddad", "Novak", "Schultz", "Murphy", "Sullivan", "Brennan",
    "Castillo", "Delgado", "Washington", "Jefferson", "Yamamoto", "Lindqvist", "Fitzgerald",
    "MacDonald", "Ibrahim", "Petrov", "Romano", "Dubois", "Nakamura", "Obi", "Whitfield",
    "Gallagher", "Esposito", "Van Dyke",
)  # fmt: skip


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


@dataclass(frozen=True, slots=True)
class AgencySpec:
    id: str
    prefix: str
    domain: str
    officer_title: str
    sworn: int  # active sworn, lateral hires included
    crisis: int  # of them, holding CIT/CRIT
    trained: int  # of them, holding any valid credential (crisis included)
    expired: int  # of them, whose only MHFA has expired
    in_scope: tuple[tuple[str, str], ...]  # (position, selected) of in-scope non-sworn staff
    ns_trained: int
    ns_expired: int
    out_of_scope: tuple[tuple[str, str], ...]
    separated: int
    recent_hires: int
    recent_share: float  # share of new credentials earned in the last 90 days
    xapi_share: float  # share of credentials reported through the LRS


AGENCIES = (
    AgencySpec(
        "springfield-pd", "SPD", "springfield.example", "Officer", 140, 38, 133, 4,
        (("Dispatcher", "true"),) * 9 + (("Telecommunicator", "true"),) * 3, 11, 1,
        (("Records Clerk", "false"),) * 2
        + (("Evidence Technician", ""), ("Evidence Technician", "false")),
        6, 6, 0.15, 0.75,
    ),
    AgencySpec(
        "shelbyville-pd", "SBPD", "shelbyville.example", "Officer", 90, 15, 54, 6,
        (("Dispatcher", "true"),) * 3 + (("Telecommunicator", ""),) * 2
        + (("Call Taker", ""), ("Call Taker", "true"), ("Records Clerk", "true")), 5, 1,
        (("Evidence Technician", ""), ("Records Clerk", "false")),
        4, 3, 0.06, 0.05,
    ),
    AgencySpec(
        "ogdenville-so", "OCSO", "ogdenville.example", "Deputy", 60, 13, 48, 3,
        (("Dispatcher", "true"),) * 4 + (("Call Taker", "true"),) * 2, 5, 0,
        (("Evidence Technician", "false"), ("Records Clerk", "false")),
        3, 4, 0.2, 0.75,
    ),
    AgencySpec(
        "north-haverbrook-pd", "NHPD", "northhaverbrook.example", "Officer", 25, 1, 2, 1,
        (("Dispatcher", "true"),) * 3, 1, 0, (("Records Clerk", "false"),),
        1, 1, 0.0, 0.0,
    ),
)  # fmt: skip
BY_ID = {spec.id: spec for spec in AGENCIES}

# (from agency, to agency, plan, hired at the first, separated from it, hired at the second)
LATERALS = (
    ("shelbyville-pd", "springfield-pd", "crisis", date(2015, 8, 3), date(2025, 3, 14),
     date(2025, 4, 7)),
    ("north-haverbrook-pd", "ogdenville-so", "mh", date(2018, 2, 12), date(2025, 12, 19),
     date(2026, 1, 12)),
)  # fmt: skip


@dataclass(slots=True)
class Person:
    agency: AgencySpec
    first: str
    last: str
    email: str
    sworn: bool
    position: str
    selected: str
    plan: str  # crisis | mh | expired | none
    hired_on: date
    separated_on: date | None = None
    employee_id: str = ""
    lateral: bool = False
    carried: bool = False  # a lateral hire's new record: the training sits on the old one


@dataclass(slots=True)
class Training:
    person: Person
    course: str
    completed_on: date
    expires_on: date | None = None
    channel: str = "csv"  # csv | xapi | both


class NameBook:
    """Hands out (first, last) name pairs, each only once."""

    def __init__(self, rng: random.Random) -> None:
        """Starts with no names handed out."""
        self.rng = rng
        self.used: set[tuple[str, str]] = set()

    def draw(self) -> tuple[str, str]:
        """A name pair nobody has been given yet."""
        while True:
            pair = (self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES))
            if pair not in self.used:
                self.used.add(pair)
                return pair


def pick_date(rng: random.Random, lo: date, hi: date) -> date:
    """A uniformly random day in [lo, hi] (hi itself when the range is empty)."""
    if lo >= hi:
        return hi
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def mailbox(first: str, last: str, domain: str) -> str:
    """An address `First.Last@domain` as typed, without apostrophes or spaces."""
    return f"{first}.{last.replace(chr(39), '').replace(' ', '')}@{domain}"


def new_person(
    names: NameBook, spec: AgencySpec, sworn: bool, role: tuple[str, str], plan: str,
    hired: date, separated: date | None = None,
) -> Person:  # fmt: skip
    """A new person on `spec`'s roster with a fresh name and a lower-case email."""
    first, last = names.draw()
    email = mailbox(first, last, spec.domain).lower()
    return Person(spec, first, last, email, sworn, role[0], role[1], plan, hired, separated)


def sworn_position(rng: random.Random, spec: AgencySpec) -> str:
    """A sworn rank, weighted like a typical department."""
    ranks = (spec.officer_title, "Corporal", "Sergeant", "Detective", "Lieutenant", "Captain")
    return rng.choices(ranks, weights=(62, 7, 12, 11, 5, 3))[0]


def hire_date(rng: random.Random, plan: str) -> date:
    """A plausible hire date; staff whose MHFA has expired were hired before 2021."""
    latest = date(2020, 12, 31) if plan == "expired" else date(2025, 6, 30)
    return pick_date(rng, date(1996, 1, 8), latest)


def plan_list(total: int, crisis: int, trained: int, expired: int) -> list[str]:
    """One training plan per person so that the counts come out exactly as given."""
    rest = total - trained - expired
    return (
        ["crisis"] * crisis + ["mh"] * (trained - crisis) + ["expired"] * expired + ["none"] * rest
    )


def active_sworn(
    rng: random.Random, names: NameBook, spec: AgencySpec, reserved: list[str]
) -> list[Person]:
    """The agency's active sworn officers, minus the plans `reserved` for lateral hires."""
    plans = plan_list(spec.sworn, spec.crisis, spec.trained, spec.expired)
    for plan in reserved:
        plans.remove(plan)
    rng.shuffle(plans)
    untrained = rng.sample([i for i, plan in enumerate(plans) if plan == "none"], 1)
    pool = [i for i, plan in enumerate(plans) if plan in ("mh", "none") and i not in untrained]
    newcomers = set(untrained + rng.sample(pool, spec.recent_hires - 1))
    people = []
    for i, plan in enumerate(plans):
        if i in newcomers:
            hired = pick_date(rng, date(2026, 1, 5), date(2026, 9, 28))
            role = (spec.officer_title, "")
        else:
            hired, role = hire_date(rng, plan), (sworn_position(rng, spec), "")
        people.append(new_person(names, spec, True, role, plan, hired))
    return people


def non_sworn(rng: random.Random, names: NameBook, spec: AgencySpec) -> list[Person]:
    """The agency's active civilians: in-scope ones by plan, out-of-scope ones at random."""
    plans = ["mh"] * spec.ns_trained + ["expired"] * spec.ns_expired
    plans += ["none"] * (len(spec.in_scope) - len(plans))
    rng.shuffle(plans)
    staff = [
        new_person(names, spec, False, role, plan, hire_date(rng, plan))
        for role, plan in zip(spec.in_scope, plans, strict=True)
    ]
    for role in spec.out_of_scope:
        plan = rng.choice(("mh", "none"))
        staff.append(new_person(names, spec, False, role, plan, hire_date(rng, plan)))
    return staff


def separated(rng: random.Random, names: NameBook, spec: AgencySpec) -> list[Person]:
    """Former staff (left 2024-2026), many of them trained before they left."""
    people = []
    for i in range(spec.separated):
        plan = rng.choices(("crisis", "mh", "none"), weights=(35, 35, 30))[0]
        hired = pick_date(rng, date(1998, 3, 2), date(2019, 10, 31))
        left = pick_date(rng, date(2024, 1, 19), date(2026, 10, 30))
        if i == 0:  # one former dispatcher
            role, sworn, plan = spec.in_scope[0], False, plan.replace("crisis", "mh")
        else:
            role, sworn = (sworn_position(rng, spec), ""), True
        people.append(new_person(names, spec, sworn, role, plan, hired, left))
    return people


def laterals(names: NameBook) -> list[tuple[Person, Person]]:
    """Two officers who left one agency and joined another, with the same personal email."""
    pairs = []
    for src, dst, plan, hired, left, rehired in LATERALS:
        old_spec, new_spec = BY_ID[src], BY_ID[dst]
        first, last = names.draw()
        email = mailbox(first, last, "mail.example").lower()
        old_role, new_role = (old_spec.officer_title, ""), (new_spec.officer_title, "")
        old = Person(old_spec, first, last, email, True, *old_role, plan, hired, left)
        new = Person(new_spec, first, last, email, True, *new_role, plan, rehired)
        old.lateral = new.lateral = new.carried = True
        pairs.append((old, new))
    return pairs


def assign_ids(rng: random.Random, people: list[Person]) -> None:
    """Numbers each agency's staff in hire order, with gaps, as `PREFIX-0042`."""
    for spec in AGENCIES:
        staff = [p for p in people if p.agency is spec]
        staff.sort(key=lambda p: (p.hired_on, p.last, p.first))
        numbers = sorted(rng.sample(range(1, 3 * len(staff) + 60), len(staff)))
        for person, number in zip(staff, numbers, strict=True):
            person.employee_id = f"{spec.prefix}-{number:04d}"


def build_people(rng: random.Random, names: NameBook) -> list[Person]:
    """Everyone on every roster, each with a training plan and an employee id."""
    pairs = laterals(names)
    people: list[Person] = []
    for spec in AGENCIES:
        reserved = [new.plan for _, new in pairs if new.agency is spec]
        people += active_sworn(rng, names, spec, reserved)
        people += non_sworn(rng, names, spec) + separated(rng, names, spec)
    for old, new in pairs:
        people += [old, new]
    assign_ids(rng, people)
    for person in rng.sample([p for p in people if not p.lateral], 7):
        person.email = mailbox(person.first, person.last, person.agency.domain)
    return sorted(people, key=lambda p: (AGENCIES.index(p.agency), p.employee_id))


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


def written_email(rng: random.Random, person: Person) -> str:
    """The email as another system typed it: lower case, now and then all upper case."""
    return person.email.upper() if rng.random() < 0.05 else person.email.lower()


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


def roster_row(person: Person) -> dict[str, str]:
    """One roster.csv row."""
    return {
        "agency": person.agency.id,
        "employee_id": person.employee_id,
        "first_name": person.first,
        "last_name": person.last,
        "email": person.email,
        "sworn": "true" if person.sworn else "false",
        "position": person.position,
        "selected": person.selected,
        "hired_on": person.hired_on.isoformat(),
        "separated_on": person.separated_on.isoformat() if person.separated_on else "",
    }


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    """Writes rows under a header, with Unix line endings."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def in_scope(person: Person) -> bool:
    """A civilian counts if flagged selected, or unflagged in a dispatch position."""
    return person.selected == "true" or (person.selected == "" and person.position in DISPATCH)


def intended(people: list[Person], spec: AgencySpec) -> tuple[int, int, int, int, int]:
    """The coverage the data is built to produce today: sworn, crisis, trained, civilians."""
    active = [p for p in people if p.agency is spec and p.separated_on is None]
    sworn = [p for p in active if p.sworn]
    scope = [p for p in active if not p.sworn and in_scope(p)]
    crisis = sum(p.plan == "crisis" for p in sworn)
    trained = sum(p.plan in ("crisis", "mh") for p in sworn)
    return len(sworn), crisis, trained, len(scope), sum(p.plan == "mh" for p in scope)


def print_summary(
    people: list[Person], trainings: list[Training], rows: int, statements: int
) -> None:
    """Rows per file, then per agency: roster size and the coverage the data should yield."""
    print(f"demo data for {TODAY} written to {OUT_DIR}")
    print(f"  roster.csv       {len(people):4d} rows")
    print(f"  completions.csv  {rows:4d} rows (3 malformed, 4 for people on no roster)")
    print(f"  statements.json  {statements:4d} statements (3 voiding, 1 malformed)")
    recent = Counter(
        t.person.agency.id
        for t in trainings
        if t.course in QUALIFYING and t.completed_on >= RECENT_FROM
    )
    print("  agency               roster  sworn crisis trained  civ civ-trained  recent")
    for spec in AGENCIES:
        size = sum(p.agency is spec for p in people)
        sworn, crisis, trained, civ, civ_trained = intended(people, spec)
        print(
            f"  {spec.id:20s} {size:6d} {sworn:6d} {crisis:6d} {trained:7d} {civ:4d}"
            f" {civ_trained:11d} {recent[spec.id]:7d}"
        )


def main() -> None:
    """Builds the people, their training and the three files, then prints a summary."""
    rng = random.Random(SEED)
    names = NameBook(rng)
    people = build_people(rng, names)
    trainings = all_trainings(rng, people)
    rows = completion_rows(rng, names, people, trainings)
    statements = all_statements(rng, people, trainings)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(OUT_DIR / "roster.csv", ROSTER_FIELDS, [roster_row(p) for p in people])
    write_csv(OUT_DIR / "completions.csv", COMPLETION_FIELDS, rows)
    text = json.dumps(statements, indent=2, ensure_ascii=False) + "\n"
    (OUT_DIR / "statements.json").write_text(text, encoding="utf-8")
    print_summary(people, trainings, len(rows), len(statements))


if __name__ == "__main__":
    main()
