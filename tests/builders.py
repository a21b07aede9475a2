"""Put agencies, people, employments and classified completions straight into the store.

The coverage tests describe a world by hand; these helpers write it with the ORM models,
skipping connectors, identity resolution and the mapping rules (a completion is given its
category directly, the way `store.classify` would have recorded it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onemind.config import Settings
from onemind.domain.categories import EVERYONE, valid_until
from onemind.domain.rules import COURSE_KEY
from onemind.store.bootstrap import apply_settings
from onemind.store.models import (
    Agency,
    Attestation,
    Base,
    Category,
    Completion,
    Employment,
    MappingRule,
    Person,
    RawRecord,
    Source,
)
from onemind.store.roster import position_key

SOURCE = "test-completions"
OFFICER = "Patrol Officer"
LONG_AGO = date(2015, 1, 5)
UNMAPPED = "unmapped"
"""`StoreBuilder.complete` category meaning: classified by a rule saying "not qualifying"."""


@dataclass
class StoreBuilder:
    """Writes a hand-described world into one session; every object is flushed (has its id)."""

    session: Session
    now: datetime
    source: Source | None = None
    _rules: dict[str | None, int] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, session: Session, now: datetime) -> StoreBuilder:
        """A builder on a store holding the built-in categories and mapping rules (idempotent)."""
        apply_settings(session, Settings(), now)
        source = session.scalar(select(Source).where(Source.name == SOURCE))
        if source is None:
            source = Source(name=SOURCE, kind="csv")
            session.add(source)
            session.flush()
        # serials continue past what earlier builders wrote (each one made a row of these)
        made = sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Person, Employment, RawRecord)
        )
        return cls(session, now, source, _serial=itertools.count(made + 1))

    def _next(self) -> int:
        return next(self._serial)

    def category(
        self, category_id: str, tier: str, population: str = EVERYONE, months: int | None = None
    ) -> Category:
        """An equivalent added by academy staff, pointing at a tier."""
        category = Category(
            id=category_id,
            label=f"{category_id} (added by staff)",
            tier=tier,
            population=population,
            validity_months=months,
            built_in=False,
        )
        self.session.add(category)
        self.session.flush()
        return category

    def agency(
        self,
        agency_id: str,
        *,
        program: str = "one-mind",
        pledged_on: date | None = None,
        deadline_months: int = 36,
        partnership_on: date | None = None,
        policy_on: date | None = None,
    ) -> Agency:
        agency = Agency(
            id=agency_id,
            name=f"{agency_id} department",
            program=program,
            pledged_on=pledged_on,
            deadline_months=deadline_months,
            report_to=[],
        )
        self.session.add(agency)
        self.session.flush()
        if partnership_on is not None:
            self.attest(agency_id, "partnership", partnership_on)
        if policy_on is not None:
            self.attest(agency_id, "policy", policy_on)
        return agency

    def attest(self, agency_id: str, kind: str, on: date) -> Attestation:
        attestation = Attestation(
            agency_id=agency_id,
            kind=kind,
            attested_on=on,
            evidence=f"https://evidence.example/{agency_id}/{kind}",
            recorded_by="test",
            recorded_at=self.now,
        )
        self.session.add(attestation)
        self.session.flush()
        return attestation

    def person(
        self,
        agency_id: str,
        *,
        sworn: bool = True,
        position: str | None = None,
        selected: bool | None = None,
        hired_on: date = LONG_AGO,
        separated_on: date | None = None,
        name: str | None = None,
    ) -> Person:
        """A new person with one employment at the agency."""
        serial = self._next()
        first, _, last = (name or f"Person {serial:03d}").partition(" ")
        person = Person(first_name=first, last_name=last or str(serial), created_at=self.now)
        self.session.add(person)
        self.session.flush()
        self.employ(
            person,
            agency_id,
            sworn=sworn,
            position=position,
            selected=selected,
            hired_on=hired_on,
            separated_on=separated_on,
        )
        return person

    def officers(self, agency_id: str, count: int, *, hired_on: date = LONG_AGO) -> list[Person]:
        """`count` sworn officers at the agency."""
        return [self.person(agency_id, hired_on=hired_on) for _ in range(count)]

    def employ(
        self,
        person: Person,
        agency_id: str,
        *,
        sworn: bool = True,
        position: str | None = None,
        selected: bool | None = None,
        hired_on: date = LONG_AGO,
        separated_on: date | None = None,
    ) -> Employment:
        """Another employment of an existing person (a lateral hire)."""
        position = position if position is not None else (OFFICER if sworn else "Clerk")
        employment = Employment(
            person_id=person.id,
            agency_id=agency_id,
            employee_id=f"E{self._next():05d}",
            sworn=sworn,
            position=position,
            position_key=position_key(position),
            selected=selected,
            hired_on=hired_on,
            separated_on=separated_on,
        )
        self.session.add(employment)
        self.session.flush()
        return employment

    def complete(
        self,
        person: Person | None,
        category: str | None,
        completed_on: date,
        *,
        expires_on: date | None = None,
        voided: bool = False,
        title: str | None = None,
    ) -> Completion:
        """A completion, classified.

        `category` is a category id, `UNMAPPED` (classified as not qualifying) or None (not
        classified yet). The classification's `valid_until` is worked out as the classifier does.
        """
        assert self.source is not None
        serial = self._next()
        raw = RawRecord(
            source_id=self.source.id,
            external_id=f"rec-{serial}",
            kind="completion",
            location=f"completions.csv:{serial}",
            payload={},
            payload_hash=f"{serial:064d}",
            first_seen=self.now,
            last_seen=self.now,
        )
        self.session.add(raw)
        self.session.flush()
        completion = Completion(
            raw_record_id=raw.id,
            source_id=self.source.id,
            person_id=person.id if person is not None else None,
            course_key=f"course-{category or 'unclassified'}",
            course_title=title or f"Course in {category}",
            completed_on=completed_on,
            expires_on=expires_on,
            voided=voided,
        )
        self.session.add(completion)
        self.session.flush()
        if category is not None:
            self._classify(completion, None if category == UNMAPPED else category)
        return completion

    def _rule(self, category_id: str | None) -> int:
        """A course-key mapping rule for the category, made once (what staff would map)."""
        if category_id not in self._rules:
            rule = MappingRule(
                match=COURSE_KEY,
                pattern=f"course-{category_id or UNMAPPED}",
                category_id=category_id,
                author="test",
                reason="mapped by the test",
                created_at=self.now,
            )
            self.session.add(rule)
            self.session.flush()
            self._rules[category_id] = rule.id
        return self._rules[category_id]

    def _classify(self, completion: Completion, category_id: str | None) -> None:
        until = None
        if category_id is not None:
            months = self.session.get_one(Category, category_id).validity_months
            until = valid_until(completion.completed_on, completion.expires_on, months)
        completion.category_id = category_id
        completion.rule_id = self._rule(category_id)
        completion.rule_version = 1
        completion.valid_until = until
        completion.classified_at = self.now
        self.session.flush()


def empty_store(engine: Engine) -> None:
    """Delete every row, children first (for a handful of rows, cheaper than TRUNCATE)."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
