"""Classify completions with the mapping rules; one course's candidate rules serve all its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from onemind.domain.categories import valid_until
from onemind.domain.rules import DECIDING_FIELDS, CourseFacts, Rule, candidates, decide, ordered
from onemind.store.models import Category, Completion, MappingRule

BATCH = 5000
VALID_UNTIL_REMEMBERED = 1 << 14
"""Terms (a completion's date, expiry and its category's validity) a classifier keeps
computed. Completions share their dates (a few thousand days among a million rows); a cache
by course and date as well held an entry for almost every row a writer classified, and found
few of them twice."""
FACTS = (
    Completion.source_id,
    Completion.course_key,
    Completion.course_title,
    Completion.hours,
    Completion.provider,
    Completion.activity_type,
)


def rule_of(row: MappingRule) -> Rule:
    return Rule(
        id=row.id,
        category=row.category_id,
        version=row.version,
        source_id=row.source_id,
        **{f: getattr(row, f) for f in DECIDING_FIELDS},
    )


def load_rules(session: Session) -> list[Rule]:
    """The active rules in evaluation order."""
    return ordered(
        rule_of(r) for r in session.scalars(select(MappingRule).where(MappingRule.active.is_(True)))
    )


Decision = tuple[str | None, int | None, int | None, date | None]
"""(category, rule id, rule version, valid until) of one completion."""


class Classifier:
    """Decides completions with the active rules; a course's candidate rules serve all its rows."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.rules = load_rules(session)
        self.validity = dict(session.execute(select(Category.id, Category.validity_months)).all())
        self.cache: dict[tuple[Any, ...], tuple[Rule, ...]] = {}
        self.valid_until = lru_cache(maxsize=VALID_UNTIL_REMEMBERED)(valid_until)
        self.now = now

    def rows(self, completions: Sequence[Any]) -> list[dict[str, Any]]:
        """The classification of each (id, completed_on, expires_on, *FACTS) tuple, as
        parameters of CLASSIFY."""
        return [
            dict(
                zip(
                    DECISION,
                    (completion_id, *self.decide(tuple(course), done, expires)),
                    strict=True,
                )
            )
            | {"b_classified_at": self.now}
            for completion_id, done, expires, *course in completions
        ]

    def decide(
        self, course: tuple[Any, ...], completed_on: date, expires_on: date | None
    ) -> Decision:
        """(category, rule id, rule version, valid until) for one completion of `course`
        (its FACTS values). A course's candidate rules are found once; a completion's date
        picks among them, and its term is computed once per date and expiry."""
        rules = self.cache.get(course)
        if rules is None:
            rules = self.cache[course] = candidates(self.rules, CourseFacts(*course))
        rule = decide(rules, completed_on)
        if rule is None:
            return None, None, None, None
        if rule.category is None:
            return None, rule.id, rule.version, None
        until = self.valid_until(completed_on, expires_on, self.validity.get(rule.category))
        return rule.category, rule.id, rule.version, until


CLASSIFIED = ("category_id", "rule_id", "rule_version", "valid_until")
"""A completion's classification columns (with `classified_at`), as `Classifier.decide` gives
them."""
UNCLASSIFIED = dict.fromkeys((*CLASSIFIED, "classified_at"))
"""A completion's classification forgotten: the classifier decides it again."""
DECISION = ("b_id", *(f"b_{name}" for name in CLASSIFIED))
CLASSIFY = (
    update(Completion.__table__)
    .where(Completion.__table__.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in (*CLASSIFIED, "classified_at")})
)
"""A completion's classification written, for each row of `Classifier.rows`."""


def classify_pending(session: Session, now: datetime) -> int:
    """Classify every completion not classified yet; returns how many.

    They are found through `ix_completion_unclassified`, which holds them alone: none after a
    load, which inserts its completions classified."""
    classifier = Classifier(session, now)
    pending = (
        select(Completion.id, Completion.completed_on, Completion.expires_on, *FACTS)
        .where(Completion.classified_at.is_(None))
        .order_by(Completion.id)
        .limit(BATCH)
    )
    count, last_id = 0, 0
    while rows := session.execute(pending.where(Completion.id > last_id)).all():
        session.connection().execute(CLASSIFY, classifier.rows(rows))
        count += len(rows)
        last_id = rows[-1][0]
    return count


def course_facts(session: Session) -> list[CourseFacts]:
    """Every distinct course description among the completions."""
    return [CourseFacts(*row) for row in session.execute(select(*FACTS).distinct())]


def unclassify(session: Session, courses: Sequence[CourseFacts]) -> None:
    """Forget the classifications of these courses' completions, so they are classified again."""
    for source_id, course_key in {(c.source_id, c.course_key) for c in courses}:
        session.execute(
            update(Completion)
            .where(Completion.source_id == source_id, Completion.course_key == course_key)
            .values(UNCLASSIFIED)
        )
