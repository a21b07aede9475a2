"""The audit log: every mapping change, attestation and certificate action, with who did it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from onemind.store.bulk import BulkInsert
from onemind.store.models import AuditEntry


def audit(
    session: Session, at: datetime, actor: str, action: str, target: str, details: dict[str, Any]
) -> None:
    """Add one entry to the log, in the transaction of the change it records."""
    session.add(AuditEntry(at=at, actor=actor, action=action, target=target, details=details))


def audit_many(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    entries: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """Many entries of one action at once, as (target, details): one bulk insert (COPY on
    PostgreSQL), in the session's transaction."""
    if entries:
        connection = session.connection()
        rows = [[target, details] for target, details in entries]
        fixed = {"at": at, "actor": actor, "action": action}
        _entries(connection.dialect).execute(connection, rows, fixed)


@cache
def _entries(dialect: Dialect) -> BulkInsert:
    return BulkInsert(
        AuditEntry.__table__, ("target", "details"), dialect, fixed=("at", "actor", "action")
    )
