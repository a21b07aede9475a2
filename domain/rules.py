"""Mapping rules as data, and the pure functions that pick the rule for a completion."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

COURSE_KEY = "course_key"
TITLE = "title"
ACTIVITY_TYPE = "activity_type"
PROVIDER = "provider"
MATCHES = (COURSE_KEY, TITLE, ACTIVITY_TYPE, PROVIDER)
EXACT = frozenset({COURSE_KEY, ACTIVITY_TYPE})
DECIDING_FIELDS = ("match", "pattern", "min_hours", "priority", "effective_from", "effective_until")
"""What a rule decides by, besides its source and category: named alike on a `Rule`, a stored
rule and a rule as staff write it."""


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """What a rule may look at: the course as one source describes it."""

    source_id: int
    course_key: str
    title: str
    hours: float | None = None
    provider: str | None = None
    activity_type: str | None = None


@dataclass(frozen=True)
class Rule:
    """Course → category (None: explicitly not qualifying). Higher priority wins."""

    id: int
    match: str
    pattern: str
    category: str | None
    priority: int = 100
    version: int = 1
    source_id: int | None = None
    min_hours: float | None = None
    effective_from: date | None = None
    effective_until: date | None = None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)

    def matches(self, course: CourseFacts) -> bool:
        """Whether the rule speaks about this course (dates aside)."""
        if self.source_id is not None and self.source_id != course.source_id:
            return False
        if (
            self.min_hours is not None
            and course.hours is not None
            and course.hours < self.min_hours
        ):
            return False
        if self.match == COURSE_KEY:
            return course.course_key == self.pattern
        if self.match == ACTIVITY_TYPE:
            return course.activity_type == self.pattern
        text = course.title if self.match == TITLE else course.provider
        return text is not None and self.regex.search(text) is not None

    def covers(self, completed_on: date) -> bool:
        """Whether a completion on this date falls within the rule's effective dates."""
        if self.effective_from is not None and completed_on < self.effective_from:
            return False
        return self.effective_until is None or completed_on < self.effective_until


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Evaluation order: priority, then exact matches before patterns, then the older rule."""
    return sorted(rules, key=lambda r: (-r.priority, r.match not in EXACT, r.id))


def candidates(rules: Sequence[Rule], course: CourseFacts) -> tuple[Rule, ...]:
    """The rules, already `ordered`, that speak about this course; cache this per course."""
    return tuple(rule for rule in rules if rule.matches(course))


def decide(candidates_: Sequence[Rule], completed_on: date) -> Rule | None:
    """The deciding rule for one completion: the first candidate covering its date."""
    for rule in candidates_:
        if rule.covers(completed_on):
            return rule
    return None


def first_match(rules: Sequence[Rule], course: CourseFacts, completed_on: date) -> Rule | None:
    return decide(candidates(rules, course), completed_on)


@dataclass(frozen=True, slots=True)
class BuiltInRule:
    pattern: str
    category: str | None
    priority: int
    reason: str
    min_hours: float | None = None


DISPATCH = r"(telecommunicat|dispatch|\b911\b|call[- ]?tak)"
BUILT_IN_RULES = (
    BuiltInRule(
        r"refresher|\bupdate\b|in-service|awareness|negotiat|\bintro(duction)?\b",
        None,
        300,
        "refreshers, awareness and negotiation courses are not the full program",
    ),
    BuiltInRule(
        rf"(\bcit\b|crisis intervention).*{DISPATCH}|{DISPATCH}.*(\bcit\b|crisis intervention)",
        "dispatch-crisis",
        200,
        "CIT for 911 telecommunicators",
        8,
    ),
    BuiltInRule(
        r"\bcrit\b|crisis response and intervention", "crit", 100, "BJA/IACP CRIT curriculum", 24
    ),
    BuiltInRule(
        r"\bcit\b|crisis intervention team|crisis intervention training",
        "cit",
        100,
        "Memphis-model CIT",
        24,
    ),
    BuiltInRule(
        r"mental health first aid|\bmhfa\b", "mhfa", 100, "MHFA for Public Safety or Adult MHFA", 6
    ),
)
