"""Credentials as files: `<id>.jwt`, `<id>.json`, `<id>.pdf`, the JWKS and the revocation list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onemind.certificates import documents, jose
from onemind.certificates.keys import jwks
from onemind.certificates.pdf import CertificateFacts, render
from onemind.config.model import CertificatesConfig
from onemind.private_files import private_folder, write_private
from onemind.store.models import Agency, Category, Credential, Employment, Person

JWKS_FILE = "jwks.json"
REVOCATIONS_FILE = "revocations.json"


def file_stem(credential_id: str) -> str:
    """A file name for a credential id (`urn:uuid:…` → the uuid)."""
    return credential_id.rsplit(":", 1)[-1]


def revocations(session: Session, config: CertificatesConfig) -> dict[str, Any]:
    rows = session.execute(
        select(Credential.id, Credential.revoked_reason)
        .where(Credential.status == "revoked")
        .order_by(Credential.id)
    )
    return documents.revocation_list(config, [(cid, reason or "") for cid, reason in rows])


def export(
    session: Session,
    config: CertificatesConfig,
    directory: Path,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write every credential and the documents needed to check them offline; `progress` is
    told (credentials written, credentials in all) after each one.

    They name people, so whatever the umask, each file is readable by its owner only (0600)
    and each directory made for them is the owner's only (0700).
    """
    private_folder(directory)
    write_private(directory / JWKS_FILE, _json(jwks(session)))
    write_private(directory / REVOCATIONS_FILE, _json(revocations(session, config)))
    total = session.scalar(select(func.count()).select_from(Credential)) or 0
    count = 0
    for credential in session.scalars(select(Credential).order_by(Credential.issued_at)):
        stem = directory / file_stem(credential.id)
        write_private(stem.with_suffix(".jwt"), (credential.jwt + "\n").encode())
        write_private(stem.with_suffix(".json"), _json(jose.parse(credential.jwt).payload))
        write_private(stem.with_suffix(".pdf"), render(facts(session, config, credential)))
        count += 1
        if progress:
            progress(count, total)
    return count


def _json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def facts(session: Session, config: CertificatesConfig, credential: Credential) -> CertificateFacts:
    """What the PDF shows: the holder's name is printed, never put in the signed credential."""
    payload = jose.parse(credential.jwt).payload
    if credential.person_id is not None:
        person = session.get_one(Person, credential.person_id)
        holder = f"{person.first_name} {person.last_name}"
        agency_id = session.scalar(
            select(Employment.agency_id)
            .where(Employment.person_id == person.id)
            .order_by(Employment.hired_on.desc())
            .limit(1)
        )
    else:
        holder = payload.get("credentialSubject", {}).get("name", "")
        agency_id = credential.agency_id
    agency = session.get(Agency, agency_id) if agency_id else None
    category = session.get(Category, credential.category_id) if credential.category_id else None
    return CertificateFacts(
        holder=holder,
        title=payload.get("name", ""),
        category=category.label if category else "One Mind Pledge: all four strategies",
        completed_on=credential.valid_from,
        valid_until=credential.valid_until,
        agency=agency.name if agency else "",
        issuer=config.issuer_name,
        credential_id=credential.id,
        verify_link=config.verify_link(credential.id),
    )
