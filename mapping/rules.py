"""Mapping rules as data, and the pure function that picks the rule for a course."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

COURSE_KEY = "course_key"
TITLE = "title"


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

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)

    def matches(self, source_id: int, course_key: str, title: str, hours: float | None) -> bool:
        if self.source_id is not None and self.source_id != source_id:
            return False
        if self.min_hours is not None and hours is not None and hours < self.min_hours:
            return False
        if self.match == COURSE_KEY:
            return course_key == self.pattern
        return self.regex.search(title) is not None


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Evaluation order: priority, then exact keys before patterns, then the older rule."""
    return sorted(rules, key=lambda r: (-r.priority, r.match != COURSE_KEY, r.id))


def first_match(
    rules: Sequence[Rule], source_id: int, course_key: str, title: str, hours: float | None
) -> Rule | None:
    """The rule that decides this course, from rules already `ordered`; None if none does."""
    for rule in rules:
        if rule.matches(source_id, course_key, title, hours):
            return rule
    return None


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
