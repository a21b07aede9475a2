"""A scheduled report goes out once per period: a unique (kind, subject, period) row is claimed
before anything is sent, across processes and machines sharing the store.

States: `claimed` (rendering), `sending` (committed just before the message is handed to the
SMTP server), then `sent`, `failed` (the server accepted nothing, or refused some recipients:
a retry claims the row again and sends to the recipients not yet `delivered`) or `unknown`
(the server's answer to the message was lost, or the sender died while handing it over: it may
have been delivered, so it is never resent by itself; staff resend it by hand).

A `claimed` or `sending` row whose holder died is free once `expires_at` has passed, or at once
when the holder ran on this host and its process is gone (as for source locks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.store.models import ReportClaim
from onemind.store.upsert import insert_for

CLAIMED, SENDING, SENT, FAILED, UNKNOWN = "claimed", "sending", "sent", "failed", "unknown"
SETTLED = (SENT, UNKNOWN)


@dataclass(frozen=True)
class Claim:
    """The outcome of asking for a period's report: go (with who already has it), or not."""

    id: int
    go: bool
    state: str
    delivered: tuple[str, ...] = ()
    busy_until: datetime | None = None

    @property
    def settled(self) -> bool:
        """Someone sent it (or may have): nothing more to do for this period."""
        return not self.go and self.state in SETTLED


def claim(
    session: Session,
    kind: str,
    subject: str,
    period: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    gone: Callable[[str], bool] = lambda holder: False,
) -> Claim:
    """Claim the period's report in the caller's transaction (commit it before sending).

    `gone(holder)` says whether another holder is known to be dead (e.g. its process is gone).
    """
    insert = insert_for(session, ReportClaim.__table__).values(
        kind=kind,
        subject=subject,
        period=period,
        state=CLAIMED,
        holder=holder,
        claimed_at=now,
        expires_at=now + ttl,
        attempts=1,
        delivered=[],
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["kind", "subject", "period"]))
    row = session.scalars(
        select(ReportClaim)
        .where(
            ReportClaim.kind == kind, ReportClaim.subject == subject, ReportClaim.period == period
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.holder == holder and row.state == CLAIMED:
        return _go(row)
    if row.state in SETTLED:
        return Claim(row.id, False, row.state)
    stale = row.expires_at <= now or gone(row.holder)
    if row.state == SENDING and stale:
        row.state = UNKNOWN
        row.error = (row.error or "") + f"sender {row.holder} died while handing the message over"
        return Claim(row.id, False, row.state)
    if row.state == FAILED or stale:
        row.state, row.holder, row.claimed_at = CLAIMED, holder, now
        row.expires_at, row.attempts = now + ttl, row.attempts + 1
        return _go(row)
    return Claim(row.id, False, row.state, busy_until=row.expires_at)


def _go(row: ReportClaim) -> Claim:
    return Claim(row.id, True, row.state, tuple(row.delivered or ()))


def sending(session: Session, claim_id: int, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Mark the claim as being handed to the server; False when it is no longer the holder's."""
    row = session.get(ReportClaim, claim_id, with_for_update=True, populate_existing=True)
    if row is None or row.holder != holder or row.state != CLAIMED:
        return False
    row.state, row.expires_at = SENDING, now + ttl
    return True


def settle(
    session: Session,
    claim_id: int,
    state: str,
    delivered: list[str],
    archive_id: int | None,
    error: str | None,
) -> None:
    """Record how the attempt ended: recipients accepted so far, the archive entry, the error."""
    row = session.get_one(ReportClaim, claim_id, with_for_update=True, populate_existing=True)
    row.state = state
    row.delivered = sorted(set(row.delivered or ()) | set(delivered))
    row.archive_id = archive_id if archive_id is not None else row.archive_id
    row.error = error
