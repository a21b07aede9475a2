"""Who holds which credential: issue on first valid credit, revoke when the record behind goes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from onemind.certificates import documents
from onemind.certificates.batch import PERSON, SYSTEM, issue_people
from onemind.certificates.changes import CertificateChanges as CertificateChanges
from onemind.certificates.keys import Signer, signer
from onemind.certificates.outbox import enqueue
from onemind.config.model import CertificatesConfig
from onemind.store import coverage
from onemind.store.audit import audit
from onemind.store.bulk import among
from onemind.store.models import (
    Category,
    Completion,
    Credential,
)

AGENCY = "agency"


def reconcile(
    session: Session,
    config: CertificatesConfig,
    now: datetime,
    as_of: date,
    people: Iterable[int] | None = None,
    reports: Sequence[coverage.CoverageReport] | None = None,
    pushing: Collection[str] = (),
) -> CertificateChanges:
    """Bring credentials in line with the records: revoke what lost its basis, then issue.

    `reports` are the agencies' coverage at `as_of` when the caller has just computed them;
    `pushing` names the sources whose connectors take credentials back (see `pushing_sources`).
    """
    changes = reconcile_people(session, config, now, as_of, people, pushing)
    key = signer(session, config, now)
    changes.revoked += _recheck_recognitions(session, now)
    if reports is None:
        reports = coverage.compute(session, as_of)
    changes.issued += _recognise_agencies(session, config, key, reports, now)
    return changes


def reconcile_people(
    session: Session,
    config: CertificatesConfig,
    now: datetime,
    as_of: date,
    people: Iterable[int] | None = None,
    pushing: Collection[str] = (),
) -> CertificateChanges:
    """The people's credentials only (all when None): revoke what lost its basis, then issue
    what their records earn, in bulk. Agencies' recognitions are `reconcile`'s."""
    wanted = None if people is None else sorted(set(people))
    changes = CertificateChanges()
    key = signer(session, config, now)
    for credential, reason in _lost_basis(session, wanted):
        revoke(session, credential, reason, SYSTEM, now, pushing)
        changes.revoked.append(credential.id)
    found = _unrecognised(session, as_of, wanted)
    changes.issued += issue_people(session, config, key, found, now, pushing)
    return changes


def revoke(
    session: Session,
    credential: Credential,
    reason: str,
    actor: str,
    now: datetime,
    pushing: Collection[str] = (),
) -> None:
    """Mark revoked (kept, with its reason) and queue the withdrawal to the `pushing` sources."""
    credential.status = "revoked"
    credential.revoked_at = now
    credential.revoked_reason = reason
    audit(session, now, actor, "certificate.revoke", credential.id, {"reason": reason})
    enqueue(session, credential, "revoke", now, pushing)


def _lost_basis(session: Session, people: list[int] | None) -> list[tuple[Credential, str]]:
    """Active person credentials whose record no longer earns them, with why: the database
    picks them out, so only those few come into Python, not every active credential."""
    tier, category = Category.tier, Completion.category_id
    query = (
        select(Credential, Completion.voided, category, tier, Completion.person_id)
        .join(Completion, Completion.id == Credential.completion_id)
        .outerjoin(Category, Category.id == Completion.category_id)
        .where(
            Credential.kind == PERSON,
            Credential.status == "active",
            or_(
                Completion.voided.is_(True),
                category.is_(None),
                tier.is_distinct_from(Credential.tier),
                Completion.person_id.is_distinct_from(Credential.person_id),
            ),
        )
    )
    if people is not None:
        query = query.where(among(_dialect(session), Credential.person_id, people))
    out = []
    for credential, voided, category_id, tier_now, person_id in session.execute(query):
        reason = _why_lost(credential, voided, category_id, tier_now, person_id)
        if reason:
            out.append((credential, reason))
    return out


def _dialect(session: Session) -> Dialect:
    return session.get_bind().dialect


def _why_lost(
    credential: Credential,
    voided: bool,
    category: str | None,
    tier: str | None,
    person_id: int | None,
) -> str | None:
    if voided:
        return "the record behind it was voided by its source"
    if category is None:
        return "a mapping change means its course no longer qualifies"
    if tier != credential.tier:
        return f"a mapping change moved its course to the {tier} tier"
    if person_id != credential.person_id:
        return "the record behind it now belongs to another person"
    return None


def _unrecognised(
    session: Session, as_of: date, people: list[int] | None
) -> list[tuple[int, str, Any]]:
    """(person, tier, best completion) for valid credits no live credential covers yet."""
    live = (
        Credential.kind == PERSON,
        Credential.status == "active",
        or_(Credential.valid_until.is_(None), Credential.valid_until > as_of),
    )
    query = coverage.credited(
        as_of,
        Completion.person_id,
        Category.tier,
        Completion.id,
        Completion.completed_on,
        Completion.valid_until,
        Completion.category_id,
        Completion.rule_id,
        Completion.rule_version,
        Category.label,
    ).where(or_(Completion.valid_until.is_(None), Completion.valid_until > as_of))
    held: set[tuple[int, str]] = set()
    if people is None:
        covered = exists().where(
            Credential.person_id == Completion.person_id, Credential.tier == Category.tier, *live
        )
        query = query.where(~covered)
    else:
        # A batch's credentials read apart, through their person index: inside the query, the
        # planner came to scan every credential issued so far once per batch as they grew.
        dialect = _dialect(session)
        query = query.where(among(dialect, Completion.person_id, people))
        holding = select(Credential.person_id, Credential.tier).where(
            among(dialect, Credential.person_id, people), *live
        )
        held = {(person, tier) for person, tier in session.execute(holding)}
    best: dict[tuple[int, str], Any] = {}
    for row in session.execute(query.order_by(Completion.person_id, Category.tier)):
        key = (row.person_id, row.tier)
        if key not in held and (key not in best or _better(row, best[key])):
            best[key] = row
    return [(person, tier, row) for (person, tier), row in best.items()]


def _better(row: Any, than: Any) -> bool:
    """Longer-lasting first (no expiry is longest), then the more recent completion."""
    forever = date.max
    return ((row.valid_until or forever), row.completed_on) > (
        (than.valid_until or forever),
        than.completed_on,
    )


def _record(session: Session, credential: Credential, now: datetime) -> Credential:
    session.add(credential)
    session.flush()
    details = {
        "kind": credential.kind,
        "tier": credential.tier,
        "agency": credential.agency_id,
        "category": credential.category_id,
    }
    audit(session, now, SYSTEM, "certificate.issue", credential.id, details)
    return credential


def _recognise_agencies(
    session: Session,
    config: CertificatesConfig,
    key: Signer,
    reports: Sequence[coverage.CoverageReport],
    now: datetime,
) -> list[str]:
    recognised = set(
        session.scalars(
            select(Credential.agency_id).where(
                Credential.kind == AGENCY, Credential.status == "active"
            )
        )
    )
    issued = []
    for report in reports:
        if report.complete and report.agency not in recognised:
            issued.append(_issue_agency(session, config, key, report, now).id)
    return issued


def _issue_agency(
    session: Session,
    config: CertificatesConfig,
    key: Signer,
    report: coverage.CoverageReport,
    now: datetime,
) -> Credential:
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    c = report.counts
    subject = {
        "name": report.name,
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": report.agency,
                "identityType": "identifier",
                "hashed": False,
            }
        ],
    }
    award = documents.achievement(
        config,
        "one-mind-recognition",
        "One Mind Pledge recognition",
        "Completed all four strategies of the One Mind Pledge.",
    )
    evidence = [
        {
            "type": ["Evidence"],
            "name": "Coverage as of " + report.as_of.isoformat(),
            "description": f"program {report.program}; sworn {c.sworn_total}, crisis-trained "
            f"{c.sworn_crisis}, trained {c.sworn_trained}; selected non-sworn "
            f"{c.nonsworn_total}, trained {c.nonsworn_trained}; partnership "
            "and policy attested",
        }
    ]
    document = documents.credential(
        config,
        credential_id,
        "One Mind Pledge recognition",
        subject,
        award,
        evidence,
        report.as_of,
        None,
        now,
    )
    credential = Credential(
        id=credential_id,
        kind=AGENCY,
        agency_id=report.agency,
        valid_from=report.as_of,
        issued_at=now,
        kid=key.kid,
        jwt=key.sign(document),
        status="active",
    )
    return _record(session, credential, now)


def _recheck_recognitions(session: Session, now: datetime) -> list[str]:
    """A recognition stands through later separations and expiries; it falls only if the
    records it rested on were voided or disqualified (the agency was not complete that day)."""
    revoked = []
    for credential in session.scalars(
        select(Credential).where(Credential.kind == AGENCY, Credential.status == "active")
    ):
        [then] = coverage.compute(session, credential.valid_from, [credential.agency_id])
        if not then.complete:
            revoke(
                session,
                credential,
                "records behind the recognition were voided or no longer qualify",
                SYSTEM,
                now,
            )
            revoked.append(credential.id)
    return revoked


__all__ = ["AGENCY", "PERSON", "CertificateChanges", "reconcile", "reconcile_people", "revoke"]
