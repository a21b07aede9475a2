"""Bring the configured agencies, sources and the built-in categories and rules into the store."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.model import AgencyConfig, Settings
from onemind.domain.categories import BUILT_IN
from onemind.domain.records import AttestationEntry
from onemind.domain.rules import BUILT_IN_RULES, TITLE
from onemind.store.agencies import CONFIG, record_attestations, release
from onemind.store.audit import audit
from onemind.store.models import (
    Agency,
    Category,
    MappingRule,
    Source,
)
from onemind.store.upsert import upsert

SYSTEM = "onemind"


def apply_settings(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Agencies and sources from the configuration; built-ins if missing. Idempotent.

    Returns the agencies whose attestations changed, for the caller to recompute.
    """
    _categories(session)
    _rules(session, now)
    attested = [a.id for a in settings.agencies if _agency(session, a, now)]
    release(session, [a.id for a in settings.agencies])
    upsert(
        session,
        Source.__table__,
        [{"name": s.name, "kind": s.kind} for s in settings.sources],
        keys=["name"],
        update=["kind"],
    )
    session.flush()
    return attested


def _categories(session: Session) -> None:
    upsert(
        session,
        Category.__table__,
        [
            {
                "id": c.id,
                "label": c.label,
                "tier": c.tier,
                "population": c.population,
                "validity_months": c.validity_months,
                "built_in": True,
            }
            for c in BUILT_IN
        ],
        keys=["id"],
    )


def _rules(session: Session, now: datetime) -> None:
    existing = set(session.scalars(select(MappingRule.pattern).where(MappingRule.author == SYSTEM)))
    for rule in BUILT_IN_RULES:
        if rule.pattern in existing:
            continue
        session.add(
            MappingRule(
                match=TITLE,
                pattern=rule.pattern,
                category_id=rule.category,
                min_hours=rule.min_hours,
                priority=rule.priority,
                author=SYSTEM,
                reason=rule.reason,
                created_at=now,
            )
        )
        audit(
            session,
            now,
            SYSTEM,
            "mapping.add",
            rule.pattern,
            {"category": rule.category, "built_in": True},
        )


def _agency(session: Session, config: AgencyConfig, now: datetime) -> bool:
    """Create or update one agency; whether any of its attestations is new."""
    agency = session.get(Agency, config.id) or Agency(id=config.id)
    agency.name = config.name
    agency.program = config.program
    agency.pledged_on = config.pledged_on
    agency.deadline_months = config.deadline_months
    agency.report_to = list(config.report_to)
    agency.region = config.region
    agency.active = True
    agency.managed_by = CONFIG
    session.add(agency)
    session.flush()
    attestations = (
        ("partnership", config.partnership_on, config.partnership_evidence),
        ("policy", config.policy_on, config.policy_evidence),
    )
    return any(
        [
            attest(session, config.id, kind, on, evidence, CONFIG, now)
            for kind, on, evidence in attestations
            if on is not None
        ]
    )


def attest(
    session: Session,
    agency_id: str,
    kind: str,
    on: date,
    evidence: str | None,
    actor: str,
    now: datetime,
) -> bool:
    """Record an attestation once; a new one (or new evidence) is audited. Whether it was new."""
    entry = AttestationEntry(
        f"{agency_id}:{kind}:{on.isoformat()}", actor, agency_id, kind, on, evidence, actor
    )
    return bool(record_attestations(session, [entry], now))
