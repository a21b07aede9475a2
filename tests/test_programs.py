"""The program rules as pure functions, against tables worked out by hand from SPEC §3.

`Counts(sworn_total, sworn_crisis, sworn_trained, nonsworn_total, nonsworn_trained)`: the
same people counted at the as-of date D and 90 days before it. The expected dates were
counted on a calendar, not computed with `timedelta`.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_coverage_property import fewest_crisis_officers, projection

from onemind.domain.programs import (
    PROGRAMS,
    Counts,
    Program,
    crisis_needed,
    deadline,
    gaps,
    meets_crisis_share,
    projected_completion,
    status,
)

D = date(2026, 11, 26)
CURRENT, ORIGINAL = PROGRAMS["one-mind"], PROGRAMS["one-mind-2016"]


@pytest.mark.parametrize("program", [CURRENT, ORIGINAL], ids=lambda p: p.id)
@pytest.mark.parametrize(
    ("officers", "needed"),
    [(0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (9, 2), (10, 2), (11, 3), (15, 3), (16, 4)],
)
def test_crisis_needed(program: Program, officers: int, needed: int) -> None:
    assert crisis_needed(program, officers) == needed


@pytest.mark.parametrize("officers", range(1, 101))
def test_crisis_needed_is_the_fewest_that_meet_the_share(officers: int) -> None:
    needed = crisis_needed(CURRENT, officers)
    assert meets_crisis_share(CURRENT, needed, officers) is True
    assert meets_crisis_share(CURRENT, needed - 1, officers) is False


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param(Counts(10, 1, 6, 2, 1), (5, 1), id="both-gaps-open"),
        pytest.param(Counts(11, 0, 11), (0, 3), id="all-trained-no-crisis"),
        pytest.param(Counts(5, 3, 5), (0, 0), id="crisis-surplus-is-not-a-negative-gap"),
        pytest.param(Counts(0, 0, 0, 3, 1), (2, 0), id="no-sworn-officers"),
    ],
)
def test_gaps(counts: Counts, expected: tuple[int, int]) -> None:
    assert gaps(CURRENT, counts) == expected


PROJECTIONS = [
    # (people still to train, officers still to crisis-train) now and 90 days ago
    pytest.param(
        Counts(5, 1, 3), Counts(5, 0, 0), date(2027, 1, 25), id="3-trained-2-left-60-days"
    ),
    pytest.param(Counts(4, 1, 3), Counts(4, 1, 0), date(2026, 12, 26), id="1-left-3-done-30-days"),
    pytest.param(Counts(5, 1, 3), Counts(5, 1, 3), None, id="no-progress-never"),
    pytest.param(Counts(5, 1, 3), Counts(5, 1, 4), None, id="more-expired-than-trained-never"),
    pytest.param(
        # untrained: 1 left, 3 done → 30 days; crisis: 1 of 2 left, 1 done → 90 days
        Counts(10, 1, 9),
        Counts(10, 0, 6),
        date(2027, 2, 24),
        id="crisis-gap-is-the-later-one",
    ),
    pytest.param(
        # untrained: 4 left, 1 done → 360 days; crisis: 1 left, 1 done → 90 days
        Counts(10, 1, 6),
        Counts(10, 0, 5),
        date(2027, 11, 21),
        id="all-trained-gap-is-the-later-one",
    ),
    pytest.param(Counts(10, 0, 8), Counts(10, 0, 4), None, id="crisis-gap-stuck-never"),
    pytest.param(Counts(10, 2, 9), Counts(10, 2, 2), date(2026, 12, 9), id="90/7-rounds-up-to-13"),
    pytest.param(
        Counts(10, 2, 8), Counts(10, 2, 1), date(2026, 12, 22), id="180/7-rounds-up-to-26"
    ),
    pytest.param(Counts(5, 1, 5), Counts(5, 0, 0), D, id="already-trained-today"),
    pytest.param(Counts(5, 1, 5), Counts(5, 1, 5), D, id="already-trained-no-progress-needed"),
    pytest.param(
        Counts(2, 1, 2, 3, 1), Counts(2, 1, 2, 3, 0), date(2027, 5, 25), id="nonsworn-gap-180-days"
    ),
    pytest.param(
        # sworn 4 → 1 left, staff 1 → 2 left: net 2 done, 3 left → 135 days
        Counts(6, 2, 5, 2, 0),
        Counts(6, 2, 2, 2, 1),
        date(2027, 4, 10),
        id="net-rate-across-sworn-and-staff",
    ),
    pytest.param(
        # the last day of the calendar is D + 2,912,113 days = D + 32,356 * 90 + 73
        Counts(40000, 8000, 7644),
        Counts(40000, 8000, 7643),
        date(9999, 10, 19),
        id="huge-gap-still-within-the-calendar",
    ),
    pytest.param(
        Counts(40000, 8000, 7643), Counts(40000, 8000, 7642), None, id="beyond-the-calendar-never"
    ),
]


@pytest.mark.parametrize(("now", "before", "expected"), PROJECTIONS)
def test_projected_completion(now: Counts, before: Counts, expected: date | None) -> None:
    assert projected_completion(CURRENT, now, before, D) == expected


def test_projected_completion_2016_wording_waits_for_the_crisis_share() -> None:
    # everyone holds MH training; 1 of the 2 crisis officers needed came in the window
    assert projected_completion(ORIGINAL, Counts(10, 1, 10), Counts(10, 0, 10), D) == date(
        2027, 2, 24
    )


@st.composite
def now_and_before(draw: st.DrawFn) -> tuple[Counts, Counts]:
    """The same people counted today and 90 days ago: mostly a few more trained today."""
    sworn, staff = draw(st.integers(0, 40)), draw(st.integers(0, 8))

    def held(total: int) -> tuple[int, int]:
        today = draw(st.integers(0, total))
        earlier = min(total, max(0, today - draw(st.integers(-2, 8))))
        return today, earlier

    (crisis, crisis_then), (trained, trained_then) = held(sworn), held(sworn)
    staff_trained, staff_then = held(staff)
    return (
        Counts(sworn, crisis, trained, staff, staff_trained),
        Counts(sworn, crisis_then, trained_then, staff, staff_then),
    )


def spec_names(counts: Counts) -> dict[str, int]:
    return {
        "sworn_total": counts.sworn_total,
        "sworn_crisis": counts.sworn_crisis,
        "sworn_trained": counts.sworn_trained,
        "nonsworn_selected_total": counts.nonsworn_total,
        "nonsworn_trained": counts.nonsworn_trained,
    }


@settings(max_examples=400)
@given(pair=now_and_before(), program=st.sampled_from([CURRENT, ORIGINAL]))
def test_rules_equal_the_day_by_day_reference(
    pair: tuple[Counts, Counts], program: Program
) -> None:
    now, before = pair
    assert crisis_needed(program, now.sworn_total) == fewest_crisis_officers(now.sworn_total)
    expected = projection(spec_names(now), spec_names(before), D)
    assert projected_completion(program, now, before, D) == expected


DUE = date(2027, 6, 30)


@pytest.mark.parametrize(
    ("complete", "as_of", "due", "projected", "has_sworn", "expected"),
    [
        pytest.param(True, D, DUE, D, True, "complete", id="complete"),
        pytest.param(True, D, date(2026, 1, 1), None, True, "complete", id="complete-late"),
        pytest.param(False, D, DUE, D, False, "no-sworn-officers", id="no-sworn"),
        pytest.param(
            False, D, date(2026, 1, 1), None, False, "no-sworn-officers", id="no-sworn-past-due"
        ),
        pytest.param(False, date(2027, 7, 1), DUE, date(2027, 7, 1), True, "overdue", id="overdue"),
        pytest.param(False, DUE, DUE, DUE, True, "on-track", id="deadline-today-trained"),
        pytest.param(False, DUE, DUE, None, True, "at-risk", id="deadline-today-no-progress"),
        pytest.param(False, D, DUE, date(2027, 6, 29), True, "on-track", id="projected-deadline-1"),
        pytest.param(False, D, DUE, DUE, True, "on-track", id="projected-on-deadline"),
        pytest.param(False, D, DUE, date(2027, 7, 1), True, "at-risk", id="projected-deadline+1"),
        pytest.param(False, D, DUE, None, True, "at-risk", id="never-projected"),
        pytest.param(False, D, None, None, True, "on-track", id="no-pledge-nothing-to-miss"),
        pytest.param(False, D, None, date(2040, 1, 1), True, "on-track", id="no-pledge-slow"),
    ],
)
def test_status(
    complete: bool,
    as_of: date,
    due: date | None,
    projected: date | None,
    has_sworn: bool,
    expected: str,
) -> None:
    assert status(complete, as_of, due, projected, has_sworn) == expected


@pytest.mark.parametrize(
    ("pledged", "months", "due"),
    [
        (date(2025, 1, 15), 36, date(2028, 1, 15)),
        (date(2025, 1, 28), 1, date(2025, 2, 28)),
        (date(2025, 1, 29), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        (date(2025, 12, 30), 2, date(2026, 2, 28)),
        (date(2025, 11, 30), 1, date(2025, 12, 30)),
        (date(2025, 10, 31), 14, date(2026, 12, 31)),
    ],
)
def test_deadline_keeps_the_day_or_takes_the_months_last(
    pledged: date, months: int, due: date
) -> None:
    assert deadline(pledged, months) == due
    assert deadline(None, months) is None
