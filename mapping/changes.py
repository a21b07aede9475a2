"""Rule changes that are safe: reclassify, recompute and report the effect in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.names import did_you_mean
from onemind.domain.programs import Counts
from onemind.domain.rules import COURSE_KEY, DECIDING_FIELDS, MATCHES, Rule
from onemind.errors import ConfigurationError
from onemind.mapping import effects
from onemind.mapping.effects import Excluded, PersonChange
from onemind.store import coverage
from onemind.store.audit import audit
from onemind.store.classify import classify_pending, course_facts, rule_of, unclassify
from onemind.store.models import Category, Course, MappingRule, Source

APPROVAL_PRIORITY = 1000


class InvalidRuleError(ConfigurationError):
    """A rule that cannot be stored as given."""


@dataclass(frozen=True)
class RuleSpec:
    """A rule as staff write it; `category` None means "does not qualify"."""

    match: str
    pattern: str
    category: str | None
    reason: str
    author: str
    source: str | None = None
    min_hours: float | None = None
    priority: int = 100
    effective_from: date | None = None
    effective_until: date | None = None


@dataclass
class ChangeReport:
    """What a change did (or, in a dry run, would do) to the figures."""

    action: str
    rule_id: int
    reclassified_courses: int
    agencies: dict[str, tuple[Counts, Counts]] = field(default_factory=dict)
    people: list[PersonChange] = field(default_factory=list)
    dry_run: bool = False
    certificates_issued: list[str] = field(default_factory=list)
    certificates_revoked: list[str] = field(default_factory=list)
    touched_people: list[int] = field(default_factory=list)
    rule_ids: list[int] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    excluded: Excluded = field(default_factory=Excluded)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule": self.rule_id,
            "rules": self.rule_ids,
            "dry_run": self.dry_run,
            "reclassified_courses": self.reclassified_courses,
            "excluded_courses": asdict(self.excluded),
            "unchanged": self.unchanged,
            "agencies": {
                a: {"before": b._asdict(), "after": c._asdict()}
                for a, (b, c) in self.agencies.items()
            },
            "people": [asdict(p) for p in self.people],
            "certificates": {
                "issued": self.certificates_issued,
                "revoked": self.certificates_revoked,
            },
        }


@dataclass(frozen=True)
class Plan:
    """One rule change not made yet: the rule before and after, and how to make it."""

    old: Rule | None
    new: Rule | None
    mutate: Callable[[], MappingRule]
    action: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """Staff decide a course, or every course of a title: a category, or None (does not count)."""

    subject: str
    match: str
    pattern: str
    source: str | None
    category: str | None


def add_rule(
    session: Session, spec: RuleSpec, now: datetime, as_of: date, action: str = "mapping.add"
) -> ChangeReport:
    """Store a new rule and apply it."""
    return apply(session, [add_plan(session, spec, now, action)], spec.author, now, as_of)


def add_plan(session: Session, spec: RuleSpec, now: datetime, action: str) -> Plan:
    row = _row(session, spec, now)

    def mutate() -> MappingRule:
        session.add(row)
        session.flush()
        return row

    return Plan(None, rule_of(row), mutate, action, spec.reason)


def retire_rule(
    session: Session, rule_id: int, reason: str, author: str, now: datetime, as_of: date
) -> ChangeReport:
    """Stop a rule from deciding anything; what it decided is decided again."""
    row = _active(session, rule_id)

    def mutate() -> MappingRule:
        row.active = False
        row.updated_at = now
        return row

    plan = Plan(rule_of(row), None, mutate, "mapping.retire", reason)
    return apply(session, [plan], author, now, as_of)


def edit_rule(
    session: Session,
    rule_id: int,
    changes: dict[str, Any],
    reason: str,
    author: str,
    now: datetime,
    as_of: date,
) -> ChangeReport:
    """Change a rule in place as a new version; completions it or its old self decided move."""
    plan = edit_plan(session, rule_id, changes, reason, author, now, "mapping.edit")
    return apply(session, [plan], author, now, as_of)


def edit_plan(
    session: Session,
    rule_id: int,
    changes: dict[str, Any],
    reason: str,
    author: str,
    now: datetime,
    action: str,
) -> Plan:
    row = _active(session, rule_id)
    current = RuleSpec(
        category=row.category_id,
        reason=reason,
        author=author,
        source=_source_name(session, row.source_id),
        **{f: getattr(row, f) for f in DECIDING_FIELDS},
    )
    updated = _row(session, replace(current, **changes), now)

    def mutate() -> MappingRule:
        for column in (*DECIDING_FIELDS, "source_id", "category_id"):
            setattr(row, column, getattr(updated, column))
        row.version += 1
        row.reason, row.author, row.updated_at = reason, author, now
        return row

    return Plan(rule_of(row), rule_of(updated), mutate, action, reason)


def _source_name(session: Session, source_id: int | None) -> str | None:
    return None if source_id is None else session.get_one(Source, source_id).name


def approve(
    session: Session,
    course_id: int,
    category: str | None,
    reason: str,
    author: str,
    now: datetime,
    as_of: date,
) -> ChangeReport:
    """Staff decide one catalogue course: an exact-key rule for its source, above patterns."""
    decision = course_decision(session, course_id, category)
    return decide(session, [decision], reason, author, now, as_of)


def course_decision(session: Session, course_id: int, category: str | None) -> Decision:
    """A decision on the course with this catalogue id.

    Raises:
        InvalidRuleError: there is no such course.
    """
    course = session.get(Course, course_id)
    if course is None:
        raise InvalidRuleError(f"no course #{course_id} in the catalogue")
    source = session.get_one(Source, course.source_id).name
    subject = f"course #{course_id} ({source}:{course.course_key})"
    return Decision(subject, COURSE_KEY, course.course_key, source, category)


def decide(
    session: Session,
    decisions: list[Decision],
    reason: str,
    author: str,
    now: datetime,
    as_of: date,
) -> ChangeReport:
    """Apply staff decisions as approval rules, together; a decision already in force is left
    as it is and said so, and a changed mind edits the approval rather than adding a rival."""
    plans: list[Plan] = []
    unchanged: list[str] = []
    kept: list[int] = []
    for decision in decisions:
        action = "mapping.approve" if decision.category else "mapping.reject"
        found = _approval(session, decision)
        if found is None:
            spec = RuleSpec(
                decision.match,
                decision.pattern,
                decision.category,
                reason,
                author,
                decision.source,
                priority=APPROVAL_PRIORITY,
            )
            plans.append(add_plan(session, spec, now, action))
        elif found.category_id == decision.category:
            said = decision.category or "not-qualifying"
            unchanged.append(f"{decision.subject}: rule #{found.id} already says {said}")
            kept.append(found.id)
        else:
            change = {"category": decision.category}
            plans.append(edit_plan(session, found.id, change, reason, author, now, action))
    if not plans:
        rejecting = bool(decisions) and decisions[0].category is None
        action = "mapping.reject" if rejecting else "mapping.approve"
        return ChangeReport(action, kept[0] if kept else 0, 0, unchanged=unchanged)
    report = apply(session, plans, author, now, as_of)
    report.unchanged = unchanged
    return report


def _approval(session: Session, decision: Decision) -> MappingRule | None:
    """The active approval rule that already decides what `decision` is about."""
    source_id = None
    if decision.source is not None:
        source_id = session.scalar(select(Source.id).where(Source.name == decision.source))
    return session.scalar(
        select(MappingRule)
        .where(
            MappingRule.active.is_(True),
            MappingRule.match == decision.match,
            MappingRule.pattern == decision.pattern,
            MappingRule.priority == APPROVAL_PRIORITY,
            MappingRule.source_id.is_(None)
            if source_id is None
            else MappingRule.source_id == source_id,
        )
        .order_by(MappingRule.id)
        .limit(1)
    )


def apply(
    session: Session, plans: list[Plan], author: str, now: datetime, as_of: date
) -> ChangeReport:
    """Make the planned changes (at least one), reclassify once what any of them touches, and
    measure it."""
    facts = course_facts(session)
    affected = [
        c
        for c in facts
        if any((p.old and p.old.matches(c)) or (p.new and p.new.matches(c)) for p in plans)
    ]
    people = effects.people(session, affected)
    agencies = effects.agencies(session, people)
    before_counts = coverage.head_counts(session, as_of, agencies)
    before_people = effects.flags(session, people, as_of)
    rows = [(plan, plan.mutate()) for plan in plans]
    unclassify(session, affected)
    classify_pending(session, now)
    after_counts = coverage.head_counts(session, as_of, agencies)
    after_people = effects.flags(session, people, as_of)
    report = ChangeReport(
        plans[0].action,
        rows[0][1].id,
        len({(c.source_id, c.course_key) for c in affected}),
        rule_ids=[row.id for _, row in rows],
    )
    for agency in agencies:
        pair = (before_counts.get(agency, Counts()), after_counts.get(agency, Counts()))
        if pair[0] != pair[1]:
            report.agencies[agency] = pair
    report.people = effects.person_changes(session, before_people, after_people)
    report.touched_people = people
    for plan, row in rows:
        if plan.new is not None:
            report.excluded += effects.excluded(session, plan.new, facts)
        details = {
            "reason": plan.reason,
            "rule": _describe(row),
            "reclassified_courses": report.reclassified_courses,
            "agencies_changed": sorted(report.agencies),
        }
        audit(session, now, author, plan.action, f"rule #{row.id}", details)
    return report


def _row(session: Session, spec: RuleSpec, now: datetime) -> MappingRule:
    found = problems(session, spec)
    if found:
        raise InvalidRuleError("; ".join(found))
    source_id = None
    if spec.source is not None:
        source_id = session.scalar(select(Source.id).where(Source.name == spec.source))
    return MappingRule(
        source_id=source_id,
        category_id=spec.category,
        **{f: getattr(spec, f) for f in DECIDING_FIELDS},
        author=spec.author,
        reason=spec.reason,
        version=1,
        active=True,
        created_at=now,
    )


def problems(session: Session, spec: RuleSpec) -> list[str]:
    """Everything that keeps `spec` from being stored, each in words for staff."""
    found = []
    if spec.match not in MATCHES:
        found.append(
            f"match must be one of {', '.join(MATCHES)}, not {spec.match!r}"
            + did_you_mean(spec.match, MATCHES)
        )
    if spec.match in ("title", "provider"):
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            found.append(f"pattern '{spec.pattern}' is not a valid regular expression: {exc}")
    if spec.category is not None and session.get(Category, spec.category) is None:
        known = list(session.scalars(select(Category.id).order_by(Category.id)))
        found.append(
            f"unknown category {spec.category!r}{did_you_mean(spec.category, known)}; "
            f"known: {', '.join(known)}"
        )
    if spec.source is not None:
        sources = list(session.scalars(select(Source.name)))
        if spec.source not in sources:
            found.append(f"unknown source {spec.source!r}{did_you_mean(spec.source, sources)}")
    if spec.effective_from and spec.effective_until and spec.effective_from >= spec.effective_until:
        found.append("effective_from must be before effective_until")
    if not spec.reason.strip():
        found.append("a reason is required")
    return found


def _active(session: Session, rule_id: int) -> MappingRule:
    row = session.get(MappingRule, rule_id)
    if row is None or not row.active:
        raise InvalidRuleError(f"no active mapping rule #{rule_id}")
    return row


def _describe(row: MappingRule) -> dict[str, Any]:
    return {
        "match": row.match,
        "pattern": row.pattern,
        "category": row.category_id,
        "source_id": row.source_id,
        "priority": row.priority,
        "min_hours": row.min_hours,
        "effective_from": str(row.effective_from) if row.effective_from else None,
        "effective_until": str(row.effective_until) if row.effective_until else None,
        "version": row.version,
        "active": row.active,
    }
