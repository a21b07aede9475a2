"""The people on the demo rosters: four agencies' staff, former staff and two lateral hires."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

DISPATCH = frozenset({"Dispatcher", "Telecommunicator", "Call Taker"})
ROSTER_FIELDS = [
    "agency", "employee_id", "first_name", "last_name", "email", "sworn", "position", "selected",
    "hired_on", "separated_on",
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


def mailbox(first: str, last: str, domain: str) -> str:
    """An address `First.Last@domain` as typed, without apostrophes or spaces."""
    return f"{first}.{last.replace(chr(39), '').replace(' ', '')}@{domain}"


def written_email(rng: random.Random, person: Person) -> str:
    """The email as another system typed it: lower case, now and then all upper case."""
    return person.email.upper() if rng.random() < 0.05 else person.email.lower()


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
