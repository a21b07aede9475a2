"""One recomputation for every writer: sync, mapping rule changes, and whatever comes next.

It runs inside the writer's transaction, so that the figures, the status changes, the snapshots
and the credentials that rest on them commit together with the data that changed; the pushes it
queues are delivered after the commit by `deliver_pushes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from onemind.certificates.changes import CertificateChanges
from onemind.collector import paused
from onemind.config.model import Settings, SourceConfig
from onemind.connectors.base import Connector
from onemind.connectors.registry import build_connector
from onemind.mapping.changes import ChangeReport
from onemind.store import coverage, coverage_cache, snapshots
from onemind.store.models import Agency
from onemind.store.status import StatusChange, record_status_changes

RECOMPUTE_LOCK = int.from_bytes(b"recomput")  # the PostgreSQL advisory lock's key


@dataclass
class Recomputed:
    """What a recomputation changed."""

    reports: list[coverage.CoverageReport]
    changes: list[StatusChange] = field(default_factory=list)
    certificates: CertificateChanges = field(default_factory=CertificateChanges)
    # people whose standing was worked out afresh (every agency's recompute; None otherwise)
    recounted: int | None = None

    @property
    def pushes_queued(self) -> bool:
        return bool(self.certificates.issued or self.certificates.revoked)


def recompute(
    session: Session,
    settings: Settings,
    now: datetime,
    as_of: date,
    agencies: Sequence[str] | None = None,
    people: Iterable[int] | None = None,
) -> Recomputed:
    """Coverage of `agencies` (all when None) as of `as_of`, and everything that follows from it.

    `people` narrows the credentials looked at to those whose records changed (all when None).
    Every agency's recompute recounts only the agencies whose figures may have moved since
    the last one (`coverage_cache`).
    """
    with paused():  # a hub's 18,000 reports and the rows they come from live to the end
        return _recompute(session, settings, now, as_of, agencies, people)


def _recompute(
    session: Session,
    settings: Settings,
    now: datetime,
    as_of: date,
    agencies: Sequence[str] | None,
    people: Iterable[int] | None,
) -> Recomputed:
    _one_at_a_time(session)
    if agencies is None:
        counted = coverage_cache.head_counts(session, as_of)
        reports = coverage.reports(session, as_of, counted.now, counted.before, None)
        recounted: int | None = counted.recounted
    else:
        reports = coverage.compute(session, as_of, agencies)
        recounted = None
    latest = snapshots.read_latest(session, reports)
    changes = record_status_changes(session, reports, now, latest.figures)
    snapshots.save_snapshots(session, reports, now, latest, every=agencies is None)
    certificates = CertificateChanges()
    if settings.certificates is not None:  # the credentials stack loads only when configured
        from onemind.certificates.issuer import reconcile
        from onemind.certificates.outbox import pushing_sources

        certificates = reconcile(
            session,
            settings.certificates,
            now,
            as_of,
            people=people,
            reports=reports,
            pushing=pushing_sources(settings),
        )
    return Recomputed(reports, changes, certificates, recounted=recounted)


def deliver_pushes(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: Callable[[], datetime],
    factory: Callable[[SourceConfig], Connector] = build_connector,
) -> int:
    """After the commit: send queued credential pushes to the sources that take them."""
    if settings.certificates is None:
        return 0
    from onemind.certificates.outbox import deliver

    return deliver(sessions, settings, factory, now)


def _one_at_a_time(session: Session) -> None:
    """Serialise recomputations across processes until this transaction ends, touching no row.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the database's write lock, taken
    now by a write that matches nothing (a read would not take it, and two recomputations
    would each compare their figures with the same old snapshots).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(RECOMPUTE_LOCK)))
    else:
        session.execute(update(Agency).where(false()).values(id=Agency.id))


def change_rules(
    session: Session,
    settings: Settings,
    now: datetime,
    as_of: date,
    change: Callable[[Session, date], ChangeReport],
) -> ChangeReport:
    """Apply one mapping rule change, then recompute what it touched, in one transaction."""
    report = change(session, as_of)
    recomputed = recompute(
        session, settings, now, as_of, sorted(report.agencies), report.touched_people
    )
    report.certificates_issued = recomputed.certificates.issued
    report.certificates_revoked = recomputed.certificates.revoked
    return report
