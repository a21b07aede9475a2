"""Offline verification from the issuer's JWKS and revocation list: what holds, what failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from onemind.certificates import jose

OPEN_BADGE = "OpenBadgeCredential"


@dataclass
class Verdict:
    """The result of checking one credential; `ok` only when every check passed."""

    credential_id: str | None = None
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify(
    token: str,
    jwks: dict[str, Any],
    revocations: dict[str, Any] | None,
    now: datetime | None = None,
) -> Verdict:
    """Signature first; only then shape, validity dates and revocation, each reported.

    A token whose signature does not hold gets that one failure: its claims are unsigned text,
    so nothing is said about them.
    """
    verdict = Verdict()
    try:
        signed = jose.verify(token, jwks)
    except jose.JoseError as exc:
        verdict.failures.append(str(exc))
        return verdict
    payload = signed.payload
    verdict.credential_id = payload.get("id") or payload.get("jti")
    verdict.checks.append(
        f"signature valid ({signed.header.get('alg')}, key {signed.header.get('kid')})"
    )
    _shape(payload, verdict)
    _dates(payload, now or datetime.now(UTC), verdict)
    _revocation(verdict.credential_id, revocations, verdict)
    return verdict


def _shape(payload: dict[str, Any], verdict: Verdict) -> None:
    types = payload.get("type") or []
    if OPEN_BADGE not in types or "VerifiableCredential" not in types:
        verdict.failures.append("not an OpenBadgeCredential")
    elif payload.get("iss") != (payload.get("issuer") or {}).get("id"):
        verdict.failures.append("the issuer claim and the credential's issuer differ")
    else:
        verdict.checks.append("an OpenBadgeCredential from " + str(payload.get("iss")))


def _dates(payload: dict[str, Any], now: datetime, verdict: Verdict) -> None:
    stamp = now.timestamp()
    if isinstance(payload.get("nbf"), int | float) and stamp < payload["nbf"]:
        verdict.failures.append(f"not valid yet (valid from {payload.get('validFrom')})")
    elif isinstance(payload.get("exp"), int | float) and stamp >= payload["exp"]:
        verdict.failures.append(f"expired (valid until {payload.get('validUntil')})")
    else:
        verdict.checks.append("within its validity dates")


def _revocation(
    credential_id: str | None, revocations: dict[str, Any] | None, verdict: Verdict
) -> None:
    if revocations is None:
        verdict.checks.append("revocation not checked (no revocation list given)")
        return
    for entry in revocations.get("revokedCredentials", []):
        if entry.get("id") == credential_id:
            verdict.failures.append(f"revoked: {entry.get('revocationReason', 'no reason given')}")
            return
    verdict.checks.append("not on the revocation list")
