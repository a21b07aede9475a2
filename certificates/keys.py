"""The issuer's signing key: made once, kept encrypted in the store, published as a JWKS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.certificates import jose
from onemind.config.model import CertificatesConfig
from onemind.errors import ConfigurationError
from onemind.store.models import SigningKey

PEPPER_INFO = b"onemind-sync identity pepper v1"


@dataclass(frozen=True)
class Signer:
    kid: str
    key: jose.PrivateKey

    def sign(self, payload: dict[str, Any]) -> str:
        return jose.sign(payload, self.key, self.kid)

    def sign_many(self, payloads: Iterable[dict[str, Any]]) -> list[str]:
        return jose.sign_many(payloads, self.key, self.kid)

    @cached_property
    def pepper(self) -> bytes:
        """The issuer's secret for keyed identity hashes, derived from this signing key (HKDF),
        so it rests encrypted with the key and is recomputed from the credential's `kid`."""
        derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PEPPER_INFO)
        return derive.derive(self.key.as_der(private=True))


def signer(session: Session, config: CertificatesConfig, now: datetime) -> Signer:
    """The active key for the configured algorithm, made on first use.

    Raises:
        ConfigurationError: the passphrase does not open the stored key.
    """
    row = session.scalar(
        select(SigningKey)
        .where(SigningKey.active.is_(True), SigningKey.algorithm == config.algorithm)
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )
    passphrase = config.key_passphrase.get()
    if row is None:
        key = jose.generate(config.algorithm)
        jwk = jose.public_jwk(key)
        row = SigningKey(
            kid=jwk["kid"],
            algorithm=config.algorithm,
            public_jwk=jwk,
            private_pem=jose.encrypt_private(key, passphrase),
            created_at=now,
        )
        session.add(row)
        session.flush()
        return Signer(row.kid, key)
    try:
        return Signer(row.kid, jose.decrypt_private(row.private_pem, passphrase, row.algorithm))
    except jose.JoseError as exc:
        raise ConfigurationError(f"certificates.key_passphrase: {exc}") from exc


def jwks(session: Session) -> dict[str, Any]:
    """Every key ever used, so credentials signed before a rotation still verify."""
    rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at))
    return {"keys": [row.public_jwk for row in rows]}
