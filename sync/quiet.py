"""Whether a sync's finish has anything to do: a quiet rerun skips linking, classification and
the recomputation, which over an unchanged store and date could only repeat themselves.

The figures as of a date rest on the stored records, the configured agencies, the mapping
rules and the date itself. So the finish is skipped only when every agency's coverage as of
that very date was computed after the last run that wrote anything (new, changed or voided
records, a roster included) had finished, no run that wrote something is still open (killed,
or stopped before its finish), and the configuration changed nothing. A new day is never
quiet: credentials expire and deadlines pass by the date alone, so the first sync of a day
recomputes, snapshots the day and records its status changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.store.models import (
    Agency,
    Category,
    CoverageSnapshot,
    MappingRule,
    SigningKey,
    SyncRun,
)


def configured(session: Session) -> tuple[Any, ...]:
    """What of the configuration the figures rest on, as stored; compared around
    `apply_settings` to tell whether it changed any of it."""
    agencies = select(
        Agency.id, Agency.active, Agency.program, Agency.pledged_on, Agency.deadline_months
    )
    return (
        tuple(session.execute(agencies.order_by(Agency.id)).all()),
        session.scalar(select(func.count()).select_from(Category)),
        session.scalar(select(func.count()).select_from(MappingRule)),
    )


def computed_since(session: Session, as_of: date) -> datetime | None:
    """The earliest time any active agency's coverage as of `as_of` was last computed; None
    when one has none for that date (or no agency is active)."""
    snapshot = CoverageSnapshot
    agencies, computed, earliest = session.execute(
        select(func.count(), func.count(snapshot.id), func.min(snapshot.computed_at))
        .select_from(Agency)
        .outerjoin(
            CoverageSnapshot,
            and_(CoverageSnapshot.agency_id == Agency.id, CoverageSnapshot.as_of == as_of),
        )
        .where(Agency.active)
    ).one()
    return earliest if agencies and computed == agencies else None


def wrote_since(session: Session, since: datetime) -> bool:
    """Whether a run that wrote records finished at or after `since`, or has not finished
    (a run that finished in the very tick of the computation may not have been seen by it)."""
    wrote = or_(SyncRun.new > 0, SyncRun.updated > 0, SyncRun.voided > 0)
    unsettled = or_(SyncRun.finished_at.is_(None), SyncRun.finished_at >= since)
    return bool(session.scalar(select(exists().where(wrote, unsettled))))


def nothing_to_do(session: Session, settings: Settings, as_of: date) -> bool:
    """Whether linking, classification and the recomputation as of `as_of` would change
    nothing (see the module's note); the caller knows the configuration changed nothing."""
    since = computed_since(session, as_of)
    if since is None or wrote_since(session, since):
        return False
    certificates = settings.certificates
    return certificates is None or _has_key(session, certificates.algorithm)


def _has_key(session: Session, algorithm: str) -> bool:
    """Whether credentials were ever signed with this algorithm: the first recomputation after
    credentials are configured must issue them, whether or not records arrived."""
    active = exists().where(SigningKey.active.is_(True), SigningKey.algorithm == algorithm)
    return bool(session.scalar(select(active)))
