"""`onemind serve` with `[workers]`: scheduled jobs are put on the broker's queue, not run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onemind.workers.tasks import HUB, REPORT, SYNC

if TYPE_CHECKING:
    from celery import Celery


class CeleryDispatch:
    """Enqueues what the scheduler fires; the period travels with a report, so a redelivered
    or retried task claims the same (agency, period) row."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def sync(self, source: str) -> None:
        self.app.send_task(SYNC, args=[source])

    def report(self, agency: str, period: str) -> None:
        self.app.send_task(REPORT, args=[agency, period])

    def hub(self, period: str) -> None:
        self.app.send_task(HUB, args=[period])
