"""Rule changes that are safe: reclassify, recompute and report the effect in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.domain.programs import Counts
from onemind.domain.rules import COURSE_KEY, DECIDING_FIELDS, MATCHES, CourseFacts, Rule
from onemind.errors import ConfigurationError
from onemind.store import coverage
from onemind.store.audit import audit
from onemind.store.classify import classify_pending, course_facts, rule_of, unclassify
from onemind.store.models import (
    Category,
    Completion,
    Course,
    Employment,
    MappingRule,
    Person,
    Source,
)

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


@dataclass(frozen=True)
class PersonChange:
    person_id: int
    name: str
    before: str
    after: str


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

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "rule": self.rule_id,
            "dry_run": self.dry_run,
            "reclassified_courses": self.reclassified_courses,
            "agencies": {
                a: {"before": asdict(b), "after": asdict(c)} for a, (b, c) in self.agencies.items()
            },
            "people": [asdict(p) for p in self.people],
            "certificates": {
                "issued": self.certificates_issued,
                "revoked": self.certificates_revoked,
            },
        }


def add_rule(
    session: Session, spec: RuleSpec, now: datetime, as_of: date, action: str = "mapping.add"
) -> ChangeReport:
    """Store a new rule and apply it."""
    row = _row(session, spec, now)

    def mutate() -> MappingRule:
        session.add(row)
        session.flush()
        return row

    return _apply(session, None, rule_of(row), mutate, spec.author, action, spec.reason, now, as_of)


def retire_rule(
    session: Session, rule_id: int, reason: str, author: str, now: datetime, as_of: date
) -> ChangeReport:
    """Stop a rule from deciding anything; what it decided is decided again."""
    row = _active(session, rule_id)
    old = rule_of(row)

    def mutate() -> MappingRule:
        row.active = False
        row.updated_at = now
        return row

    return _apply(session, old, None, mutate, author, "mapping.retire", reason, now, as_of)


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
    row = _active(session, rule_id)
    old = rule_of(row)
    current = RuleSpec(
        category=row.category_id,
        reason=reason,
        author=author,
        source=_source_name(session, row.source_id),
        **{f: getattr(row, f) for f in DECIDING_FIELDS},
    )
    spec = replace(current, **changes)
    updated = _row(session, spec, now)

    def mutate() -> MappingRule:
        for column in (*DECIDING_FIELDS, "source_id", "category_id"):
            setattr(row, column, getattr(updated, column))
        row.version += 1
        row.reason, row.author, row.updated_at = reason, author, now
        return row

    return _apply(
        session, old, rule_of(updated), mutate, author, "mapping.edit", reason, now, as_of
    )


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
    course = session.get(Course, course_id)
    if course is None:
        raise InvalidRuleError(f"no course #{course_id} in the catalogue")
    source = session.get_one(Source, course.source_id)
    spec = RuleSpec(
        COURSE_KEY,
        course.course_key,
        category,
        reason,
        author,
        source.name,
        priority=APPROVAL_PRIORITY,
    )
    action = "mapping.approve" if category else "mapping.reject"
    return add_rule(session, spec, now, as_of, action)


def _apply(
    session: Session,
    old: Rule | None,
    new: Rule | None,
    mutate: Callable[[], MappingRule],
    author: str,
    action: str,
    reason: str,
    now: datetime,
    as_of: date,
) -> ChangeReport:
    affected = [
        c
        for c in course_facts(session)
        if (old is not None and old.matches(c)) or (new is not None and new.matches(c))
    ]
    people = _people(session, affected)
    agencies = _agencies(session, people)
    before_counts = coverage.head_counts(session, as_of, agencies)
    before_people = _flags(session, people, as_of)
    row = mutate()
    unclassify(session, affected)
    classify_pending(session, now)
    after_counts = coverage.head_counts(session, as_of, agencies)
    after_people = _flags(session, people, as_of)
    report = ChangeReport(action, row.id, len({(c.source_id, c.course_key) for c in affected}))
    for agency in agencies:
        pair = (before_counts.get(agency, Counts()), after_counts.get(agency, Counts()))
        if pair[0] != pair[1]:
            report.agencies[agency] = pair
    report.people = _person_changes(session, before_people, after_people)
    report.touched_people = people
    details = {
        "reason": reason,
        "rule": _describe(row),
        "reclassified_courses": report.reclassified_courses,
        "agencies_changed": sorted(report.agencies),
    }
    audit(session, now, author, action, f"rule #{row.id}", details)
    return report


def _people(session: Session, courses: list[CourseFacts]) -> list[int]:
    found: set[int] = set()
    for source_id, key in {(c.source_id, c.course_key) for c in courses}:
        found.update(
            session.scalars(
                select(Completion.person_id)
                .where(
                    Completion.source_id == source_id,
                    Completion.course_key == key,
                    Completion.person_id.is_not(None),
                )
                .distinct()
            )
        )
    return sorted(found)


def _agencies(session: Session, people: list[int]) -> list[str]:
    found: set[str] = set()
    for start in range(0, len(people), 900):
        found.update(
            session.scalars(
                select(Employment.agency_id)
                .where(Employment.person_id.in_(people[start : start + 900]))
                .distinct()
            )
        )
    return sorted(found)


def _flags(session: Session, people: list[int], as_of: date) -> dict[int, str]:
    """Per person, the tiers they hold at `as_of` in words ('crisis+mh', 'mh', 'none')."""
    cred = coverage.credentials(as_of).subquery()
    flags: dict[int, str] = dict.fromkeys(people, "none")
    for start in range(0, len(people), 900):
        rows = session.execute(
            select(cred).where(cred.c.person_id.in_(people[start : start + 900]))
        )
        for row in rows:
            tiers = [t for t, held in (("crisis", row.crisis_n), ("mh", row.mh_n)) if held]
            flags[row.person_id] = "+".join(tiers) or "none"
    return flags


def _person_changes(
    session: Session, before: dict[int, str], after: dict[int, str]
) -> list[PersonChange]:
    changed = [p for p in before if before[p] != after.get(p, "none")]
    names = (
        {
            p.id: f"{p.first_name} {p.last_name}"
            for p in session.scalars(select(Person).where(Person.id.in_(changed)))
        }
        if changed
        else {}
    )
    return [PersonChange(p, names.get(p, "?"), before[p], after.get(p, "none")) for p in changed]


def _row(session: Session, spec: RuleSpec, now: datetime) -> MappingRule:
    problems = _problems(session, spec)
    if problems:
        raise InvalidRuleError("; ".join(problems))
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


def _problems(session: Session, spec: RuleSpec) -> list[str]:
    problems = []
    if spec.match not in MATCHES:
        problems.append(f"match must be one of {', '.join(MATCHES)}, not {spec.match!r}")
    if spec.match in ("title", "provider"):
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            problems.append(f"pattern {spec.pattern!r} is not a valid regular expression: {exc}")
    if spec.category is not None and session.get(Category, spec.category) is None:
        known = ", ".join(session.scalars(select(Category.id).order_by(Category.id)))
        problems.append(f"unknown category {spec.category!r} (known: {known})")
    if (
        spec.source is not None
        and session.scalar(select(Source.id).where(Source.name == spec.source)) is None
    ):
        problems.append(f"unknown source {spec.source!r}")
    if spec.effective_from and spec.effective_until and spec.effective_from >= spec.effective_until:
        problems.append("effective_from must be before effective_until")
    if not spec.reason.strip():
        problems.append("a reason is required")
    return problems


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
