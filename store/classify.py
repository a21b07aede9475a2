"""Classify completions with the mapping rules, one course decision reused for all its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from onemind.mapping.categories import valid_until
from onemind.mapping.rules import Rule, first_match, ordered
from onemind.store.models import Category, Classification, Completion, MappingRule
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

BATCH = 5000


def load_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(MappingRule).where(MappingRule.active.is_(True)))
    return ordered(
        Rule(
            id=r.id,
            match=r.match,
            pattern=r.pattern,
            category=r.category_id,
            priority=r.priority,
            version=r.version,
            source_id=r.source_id,
            min_hours=r.min_hours,
        )
        for r in rows
    )


def classify_pending(session: Session, now: datetime) -> int:
    """Classify every completion that has no classification yet; returns how many."""
    rules = load_rules(session)
    validity = {c: m for c, m in session.execute(select(Category.id, Category.validity_months))}
    pending = (
        select(
            Completion.id,
            Completion.source_id,
            Completion.course_key,
            Completion.course_title,
            Completion.hours,
            Completion.completed_on,
            Completion.expires_on,
        )
        .outerjoin(Classification, Classification.completion_id == Completion.id)
        .where(Classification.completion_id.is_(None))
        .order_by(Completion.id)
        .limit(BATCH)
    )
    decided: dict[tuple[Any, ...], Rule | None] = {}
    count, last_id = 0, 0
    while rows := session.execute(pending.where(Completion.id > last_id)).all():
        _insert(session, rows, rules, validity, decided, now)
        count += len(rows)
        last_id = rows[-1][0]
    return count


def _insert(
    session: Session,
    rows: Sequence[Any],
    rules: list[Rule],
    validity: dict[str, Any],
    decided: dict[tuple[Any, ...], Rule | None],
    now: datetime,
) -> None:
    out = []
    for cid, source_id, key, title, hours, completed_on, expires_on in rows:
        course = (source_id, key, title, hours)
        if course not in decided:
            decided[course] = first_match(rules, source_id, key, title, hours)
        rule = decided[course]
        category = rule.category if rule else None
        until = valid_until(completed_on, expires_on, validity.get(category)) if category else None
        out.append(
            {
                "completion_id": cid,
                "category_id": category,
                "rule_id": rule.id if rule else None,
                "rule_version": rule.version if rule else None,
                "valid_until": until,
                "classified_at": now,
            }
        )
    session.execute(Classification.__table__.insert(), out)


def reclassify_all(session: Session, now: datetime) -> int:
    """Drop every classification and classify again (after the rules changed)."""
    session.execute(delete(Classification))
    return classify_pending(session, now)
