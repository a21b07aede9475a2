"""Classify completions with the mapping rules; one course's candidate rules serve all its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onemind.mapping.categories import valid_until
from onemind.mapping.rules import CourseFacts, Rule, candidates, decide, ordered
from onemind.store.models import Category, Classification, Completion, MappingRule

BATCH = 5000
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
        match=row.match,
        pattern=row.pattern,
        category=row.category_id,
        priority=row.priority,
        version=row.version,
        source_id=row.source_id,
        min_hours=row.min_hours,
        effective_from=row.effective_from,
        effective_until=row.effective_until,
    )


def load_rules(session: Session) -> list[Rule]:
    """The active rules in evaluation order."""
    return ordered(
        rule_of(r) for r in session.scalars(select(MappingRule).where(MappingRule.active.is_(True)))
    )


class Classifier:
    """Decides completions with the active rules; a course's candidate rules serve all its rows."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.rules = load_rules(session)
        self.validity = dict(session.execute(select(Category.id, Category.validity_months)).all())
        self.cache: dict[CourseFacts, tuple[Rule, ...]] = {}
        self.now = now

    def rows(self, completions: Sequence[Any]) -> list[dict[str, Any]]:
        """Classification rows for (id, completed_on, expires_on, *FACTS) tuples."""
        return [self._one(row) for row in completions]

    def _one(self, row: Any) -> dict[str, Any]:
        completion_id, completed_on, expires_on, *facts = row
        course = CourseFacts(*facts)
        if course not in self.cache:
            self.cache[course] = candidates(self.rules, course)
        rule = decide(self.cache[course], completed_on)
        category = rule.category if rule else None
        until = (
            valid_until(completed_on, expires_on, self.validity.get(category)) if category else None
        )
        return {
            "completion_id": completion_id,
            "category_id": category,
            "rule_id": rule.id if rule else None,
            "rule_version": rule.version if rule else None,
            "valid_until": until,
            "classified_at": self.now,
        }


def classify_pending(session: Session, now: datetime) -> int:
    """Classify every completion that has no classification yet; returns how many."""
    classifier = Classifier(session, now)
    pending = (
        select(Completion.id, Completion.completed_on, Completion.expires_on, *FACTS)
        .outerjoin(Classification, Classification.completion_id == Completion.id)
        .where(Classification.completion_id.is_(None))
        .order_by(Completion.id)
        .limit(BATCH)
    )
    count, last_id = 0, 0
    while rows := session.execute(pending.where(Completion.id > last_id)).all():
        session.execute(Classification.__table__.insert(), classifier.rows(rows))
        count += len(rows)
        last_id = rows[-1][0]
    return count


def course_facts(session: Session) -> list[CourseFacts]:
    """Every distinct course description among the completions."""
    return [CourseFacts(*row) for row in session.execute(select(*FACTS).distinct())]


def unclassify(session: Session, courses: Sequence[CourseFacts]) -> None:
    """Forget the classifications of these courses' completions, so they are classified again."""
    for source_id, course_key in {(c.source_id, c.course_key) for c in courses}:
        ids = select(Completion.id).where(
            Completion.source_id == source_id, Completion.course_key == course_key
        )
        session.execute(delete(Classification).where(Classification.completion_id.in_(ids)))
