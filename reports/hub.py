"""The hub summary for academy staff: every agency in one table, sources' health, review queue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.mapping.catalogue import QueueItem, review_queue
from onemind.store import coverage
from onemind.store.coverage import CoverageReport
from onemind.store.history import SourceHealth, source_health

QUEUE_SHOWN = 10


@dataclass(frozen=True)
class HubSummary:
    as_of: date
    reports: list[CoverageReport]
    sources: list[SourceHealth]
    queue_size: int
    queue: list[QueueItem]
    flag_after: int
    generated_at: datetime

    @property
    def statuses(self) -> list[tuple[str, int]]:
        """How many agencies have each status, most common first."""
        return Counter(r.status for r in self.reports).most_common()

    @property
    def flagged_sources(self) -> list[SourceHealth]:
        return [s for s in self.sources if s.flagged(self.flag_after)]


def hub_summary(session: Session, settings: Settings, as_of: date, now: datetime) -> HubSummary:
    """Gather the summary from the coverage engine, the run history and the review queue."""
    queue = review_queue(session)
    return HubSummary(
        as_of=as_of,
        reports=coverage.compute(session, as_of),
        sources=source_health(session, settings.schedule_zone),
        queue_size=len(queue),
        queue=queue[:QUEUE_SHOWN],
        flag_after=settings.reports.flag_failing_after,
        generated_at=now,
    )
