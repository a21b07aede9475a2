"""Rule precedence and effective dates, as a table of cases on the pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from onemind.domain.rules import CourseFacts, Rule, first_match, ordered

CIT_COURSE = CourseFacts(
    source_id=1,
    course_key="POST-CIT-40",
    title="CIT Basic 40-Hour",
    hours=40,
    provider="State POST Academy",
    activity_type="http://adlnet.gov/expapi/activities/course",
)
PATTERN = Rule(1, "title", r"\bcit\b", "cit", priority=100, min_hours=24)
EXACT = Rule(2, "course_key", "POST-CIT-40", "crisis-equivalent", priority=100)
REFRESHER = Rule(3, "title", "refresher", None, priority=300)
OTHER_SOURCE = Rule(4, "course_key", "POST-CIT-40", None, priority=900, source_id=2)
REVISION = Rule(
    5, "course_key", "POST-CIT-40", "cit", priority=500, effective_from=date(2025, 1, 1)
)
RETIRED_VERSION = Rule(
    6, "course_key", "POST-CIT-40", None, priority=500, effective_until=date(2025, 1, 1)
)
PROVIDER = Rule(7, "provider", "post academy", "crisis-equivalent", priority=50)
ACTIVITY = Rule(
    8, "activity_type", "http://adlnet.gov/expapi/activities/course", "mhfa", priority=100
)
HIGH_MIN = Rule(9, "title", "cit", "cit", priority=400, min_hours=80)


@pytest.mark.parametrize(
    ("rules", "course", "completed_on", "expected"),
    [
        ([PATTERN], CIT_COURSE, date(2024, 5, 1), 1),
        ([PATTERN, EXACT], CIT_COURSE, date(2024, 5, 1), 2),
        ([PATTERN, ACTIVITY], CIT_COURSE, date(2024, 5, 1), 8),
        ([PATTERN, PROVIDER], CIT_COURSE, date(2024, 5, 1), 1),
        ([PROVIDER], CIT_COURSE, date(2024, 5, 1), 7),
        ([PATTERN, OTHER_SOURCE], CIT_COURSE, date(2024, 5, 1), 1),
        ([PATTERN, REVISION], CIT_COURSE, date(2025, 1, 1), 5),
        ([PATTERN, REVISION], CIT_COURSE, date(2024, 12, 31), 1),
        ([REVISION, RETIRED_VERSION], CIT_COURSE, date(2024, 12, 31), 6),
        ([REVISION, RETIRED_VERSION], CIT_COURSE, date(2025, 1, 1), 5),
        ([PATTERN, HIGH_MIN], CIT_COURSE, date(2024, 5, 1), 1),
        ([PATTERN], CourseFacts(1, "X", "CIT refresher", hours=4), date(2024, 5, 1), None),
        ([PATTERN], CourseFacts(1, "X", "CIT Basic", hours=None), date(2024, 5, 1), 1),
        ([PATTERN, REFRESHER], CourseFacts(1, "X", "CIT Refresher"), date(2024, 5, 1), 3),
        ([PROVIDER], CourseFacts(1, "X", "CIT", provider=None), date(2024, 5, 1), None),
    ],
    ids=[
        "pattern",
        "exact-beats-pattern-at-equal-priority",
        "activity-type-is-exact",
        "pattern-beats-lower-priority-provider",
        "provider",
        "rule-of-another-source-ignored",
        "revision-from-its-date",
        "before-revision-falls-through",
        "old-version-until-date",
        "until-is-exclusive",
        "min-hours-not-met-falls-through",
        "short-course-unmatched",
        "unknown-hours-do-not-block",
        "higher-priority-not-qualifying",
        "provider-rule-needs-a-provider",
    ],
)
def test_deciding_rule(
    rules: list[Rule], course: CourseFacts, completed_on: date, expected: int | None
) -> None:
    rule = first_match(ordered(rules), course, completed_on)
    assert (rule.id if rule else None) == expected


def test_order_is_priority_then_exact_then_age() -> None:
    assert [r.id for r in ordered([PROVIDER, PATTERN, EXACT, REFRESHER, REVISION])] == [
        5,
        3,
        2,
        1,
        7,
    ]
