"""Open Badges 3.0 documents: credentials (W3C VC 2.0 data model) and the revocation list."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time
from typing import Any

from onemind.config.model import CertificatesConfig

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
REVOCATION_LIST = "1EdTechRevocationList"


def hashed_identity(value: str, identity_type: str, pepper: bytes | None = None) -> dict[str, Any]:
    """An IdentityObject that names a person without their data: salted SHA-256.

    The salt travels in the credential, so anyone holding a list of candidate values can test
    each one. With a `pepper`, the hashed value is the issuer's keyed pseudonym of `value`
    (HMAC-SHA256) instead, which only the issuer can compute from a guess.
    """
    plain = value.strip().lower()
    if pepper is not None:
        plain = hmac.new(pepper, plain.encode(), hashlib.sha256).hexdigest()
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((plain + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": identity_type,
        "hashed": True,
        "salt": salt,
    }


def issuer_profile(config: CertificatesConfig) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": config.issuer_id,
        "type": ["Profile"],
        "name": config.issuer_name,
    }
    if config.issuer_url:
        profile["url"] = config.issuer_url
    if config.issuer_email:
        profile["email"] = config.issuer_email
    return profile


def achievement(config: CertificatesConfig, key: str, name: str, narrative: str) -> dict[str, Any]:
    return {
        "id": f"{config.base()}/achievements/{key}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": name,
        "description": name,
        "criteria": {"narrative": narrative},
    }


def credential(
    config: CertificatesConfig,
    credential_id: str,
    name: str,
    subject: dict[str, Any],
    award: dict[str, Any],
    evidence: list[dict[str, Any]],
    valid_from: date,
    valid_until: date | None,
    issued_at: datetime,
) -> dict[str, Any]:
    """The credential, also the JWT payload: registered claims beside the VC properties."""
    document: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name,
        "issuer": issuer_profile(config),
        "validFrom": _instant(valid_from),
        "credentialSubject": {**subject, "type": ["AchievementSubject"], "achievement": award},
        "evidence": evidence,
        "credentialStatus": {
            "id": f"{config.revocation_list()}#{credential_id}",
            "type": REVOCATION_LIST,
        },
        "iss": config.issuer_id,
        "jti": credential_id,
        "iat": int(issued_at.timestamp()),
        "nbf": int(_midnight(valid_from).timestamp()),
    }
    if valid_until is not None:
        document["validUntil"] = _instant(valid_until)
        document["exp"] = int(_midnight(valid_until).timestamp())
    return document


def revocation_list(config: CertificatesConfig, revoked: list[tuple[str, str]]) -> dict[str, Any]:
    """The issuer's 1EdTech revocation list: every revoked credential id with its reason."""
    return {
        "id": config.revocation_list(),
        "issuer": config.issuer_id,
        "revokedCredentials": [{"id": cid, "revocationReason": reason} for cid, reason in revoked],
    }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _instant(day: date) -> str:
    return _midnight(day).isoformat().replace("+00:00", "Z")
