"""What a reconciliation of credentials changed: light to import, for callers that report it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CertificateChanges:
    issued: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
