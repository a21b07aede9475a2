"""Signing keys, issued credentials and their pushes."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemind.store.models.base import Base, Id
from onemind.store.types import UTCDateTime, utcnow


class SigningKey(Base):
    """An issuer key; the private half is stored encrypted (PKCS#8 with a passphrase)."""

    __tablename__ = "signing_key"
    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Credential(Base):
    """A signed Open Badges 3.0 credential for a person (per tier) or an agency (recognition)."""

    __tablename__ = "credential"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"), index=True)
    tier: Mapped[str | None] = mapped_column(String(20))
    category_id: Mapped[str | None] = mapped_column(ForeignKey("category.id"))
    completion_id: Mapped[int | None] = mapped_column(ForeignKey("completion.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("mapping_rule.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kid: Mapped[str] = mapped_column(ForeignKey("signing_key.kid"))
    jwt: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class CredentialPush(Base):
    """Delivery of one credential action (issue or revoke) to one source that accepts it."""

    __tablename__ = "credential_push"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credential.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    action: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    remote_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("credential_id", "source_id", "action"),)
