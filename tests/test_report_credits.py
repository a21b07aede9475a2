"""A report's head counts at many dates (`Credits.counts`, by spans) against the plain rule
applied person by person (`Credits.tiers`: valid from completion until `valid_until`, an
officer only holding categories open to everyone)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from onemind.domain.categories import CRISIS, EVERYONE, MH, NONSWORN_ONLY
from onemind.domain.programs import PROGRAMS, Counts
from onemind.reports.credits import Credit, Credits

START = date(2024, 1, 1)
DAYS = [START + timedelta(days=n) for n in range(0, 260, 3)]


@st.composite
def credit(draw: st.DrawFn) -> Credit:
    completed = START + timedelta(days=draw(st.integers(0, 120)))
    length = draw(st.one_of(st.none(), st.integers(-5, 120)))
    valid_until = None if length is None else completed + timedelta(days=length)
    tier = draw(st.sampled_from([CRISIS, MH]))
    return completed, valid_until, tier, draw(st.sampled_from([EVERYONE, NONSWORN_ONLY]))


def by_the_rule(credits: Credits, day: date) -> Counts:
    """What `counts` must give: each person's tiers on `day`, counted one by one."""
    trained_tiers = credits.program.trained_tiers
    held = {person: credits.tiers(person, day) for person in credits.sworn}
    officers = [p for p, sworn in credits.sworn.items() if sworn]
    staff = [p for p, sworn in credits.sworn.items() if not sworn]
    return Counts(
        len(officers),
        sum(CRISIS in held[p] for p in officers),
        sum(bool(held[p] & trained_tiers) for p in officers),
        len(staff),
        sum(bool(held[p] & trained_tiers) for p in staff),
    )


@settings(max_examples=400)
@given(
    program=st.sampled_from(sorted(PROGRAMS)),
    people=st.lists(
        st.tuples(st.booleans(), st.lists(credit(), max_size=4)), min_size=1, max_size=12
    ),
)
def test_counts_at_every_date_are_the_rule_applied_person_by_person(
    program: str, people: list[tuple[bool, list[Credit]]]
) -> None:
    sworn = {person: officer for person, (officer, _) in enumerate(people)}
    held = {person: set(found) for person, (_, found) in enumerate(people) if found}
    credits = Credits(PROGRAMS[program], sworn, held)
    assert [credits.counts(day) for day in DAYS] == [by_the_rule(credits, day) for day in DAYS]
