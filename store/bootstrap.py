"""Bring the configured agencies, sources and the built-in categories and rules into the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.model import AgencyConfig, Settings
from onemind.domain.categories import BUILT_IN
from onemind.domain.records import AttestationEntry
from onemind.domain.rules import BUILT_IN_RULES, TITLE
from onemind.store.agencies import CONFIG, record_attestations, release
from onemind.store.audit import audit
from onemind.store.models import Agency, Category, MappingRule, Source
from onemind.store.upsert import chunks, upsert

SYSTEM = "onemind"


def apply_settings(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Agencies and sources from the configuration; built-ins if missing. Idempotent.

    Returns the agencies whose attestations changed, for the caller to recompute.
    """
    _categories(session)
    _rules(session, now)
    attested = _agencies(session, settings.agencies, now)
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


AGENCY_COLUMNS = (
    *("name", "program", "pledged_on", "deadline_months", "report_to", "region", "active"),
    "managed_by",
)


def _agencies(session: Session, configs: Sequence[AgencyConfig], now: datetime) -> list[str]:
    """Create or update the configured agencies, set-based, writing only rows that differ;
    the agencies with a new attestation (or new evidence)."""
    wanted = {config.id: _columns(config) for config in configs}
    stored = _stored(session, list(wanted))
    changed = [
        {"id": agency, **dict(zip(AGENCY_COLUMNS, columns, strict=True))}
        for agency, columns in wanted.items()
        if stored.get(agency) != columns
    ]
    upsert(session, Agency.__table__, changed, keys=["id"], update=AGENCY_COLUMNS)
    entries = [
        AttestationEntry(
            f"{config.id}:{kind}:{on.isoformat()}", CONFIG, config.id, kind, on, evidence, CONFIG
        )
        for config in configs
        for kind, on, evidence in (
            ("partnership", config.partnership_on, config.partnership_evidence),
            ("policy", config.policy_on, config.policy_evidence),
        )
        if on is not None
    ]
    return record_attestations(session, entries, now) if entries else []


def _columns(config: AgencyConfig) -> tuple[Any, ...]:
    """An agency's stored columns as its `[[agencies]]` table states them (AGENCY_COLUMNS)."""
    return (
        *(config.name, config.program, config.pledged_on, config.deadline_months),
        *(list(config.report_to), config.region, True, CONFIG),
    )


def _stored(session: Session, agencies: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    columns = [getattr(Agency, name) for name in AGENCY_COLUMNS]
    for part in chunks(agencies):
        rows = session.execute(select(Agency.id, *columns).where(Agency.id.in_(part)))
        found.update({agency: tuple(values) for agency, *values in rows})
    return found
