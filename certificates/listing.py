"""Credentials as staff look them up: by id, listed with their push-back state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.certificates import issuer
from onemind.config.model import CertificatesConfig, Settings
from onemind.errors import ConfigurationError
from onemind.store.models import Credential, CredentialPush, Source


def require_config(settings: Settings) -> CertificatesConfig:
    """The [certificates] section.

    Raises:
        ConfigurationError: certificates are not configured.
    """
    if settings.certificates is None:
        raise ConfigurationError(
            "certificates are not configured: add a [certificates] section "
            '(issuer_id, issuer_name, key_passphrase = "env:…")'
        )
    return settings.certificates


def summaries(session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Every credential (or those with `status`) in the order they were issued."""
    query = select(Credential).order_by(Credential.issued_at, Credential.id)
    if status:
        query = query.where(Credential.status == status)
    return [summary(session, c) for c in session.scalars(query)]


def summary(session: Session, credential: Credential) -> dict[str, Any]:
    """A credential's state and its pushes to the sources, as JSON."""
    pushes = session.execute(
        select(
            Source.name,
            CredentialPush.action,
            CredentialPush.status,
            CredentialPush.attempts,
            CredentialPush.last_error,
        )
        .join(Source, Source.id == CredentialPush.source_id)
        .where(CredentialPush.credential_id == credential.id)
    )
    return {
        "id": credential.id,
        "kind": credential.kind,
        "holder": credential.person_id
        if credential.kind == issuer.PERSON
        else credential.agency_id,
        "tier": credential.tier,
        "category": credential.category_id,
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": credential.valid_until.isoformat() if credential.valid_until else None,
        "issued_at": credential.issued_at.isoformat(),
        "status": credential.status,
        "revoked_reason": credential.revoked_reason,
        "pushes": [
            {"source": s, "action": a, "status": st, "attempts": n, "error": e}
            for s, a, st, n, e in pushes
        ],
    }


def find(session: Session, credential_id: str) -> Credential:
    """The credential with this id, with or without its `urn:uuid:` prefix.

    Raises:
        ConfigurationError: there is none.
    """
    candidates = [credential_id, f"urn:uuid:{credential_id}"]
    found = session.scalar(select(Credential).where(Credential.id.in_(candidates)))
    if found is None:
        raise ConfigurationError(f"no credential {credential_id!r}")
    return found
