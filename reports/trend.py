"""Coverage over time, computed from the records: a first report already has its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onemind.domain.categories import add_months
from onemind.domain.programs import RATE_WINDOW_DAYS, Counts
from onemind.reports.credits import Credits
from onemind.store.coverage import CoverageReport
from onemind.store.models import Agency, Completion, Employment

HISTORY_POINTS = 36
MIN_HISTORY_MONTHS = 6


@dataclass(frozen=True)
class TrendPoint:
    """Shares (0-100) of the population trained at one date; None where nobody is counted."""

    as_of: date
    crisis: float | None
    sworn: float | None
    nonsworn: float | None

    @classmethod
    def of(cls, day: date, counts: Counts) -> TrendPoint:
        return cls(
            day,
            _share(counts.sworn_crisis, counts.sworn_total),
            _share(counts.sworn_trained, counts.sworn_total),
            _share(counts.nonsworn_trained, counts.nonsworn_total),
        )


@dataclass(frozen=True)
class Trend:
    """Today's population at each date of its history, the last point being the report's date;
    `window` is the same people `RATE_WINDOW_DAYS` earlier, the rate the projection follows."""

    points: list[TrendPoint]
    window: TrendPoint
    deadline: date | None
    projected: date | None

    @property
    def as_of(self) -> date:
        return self.points[-1].as_of


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100 * part / whole


def history_dates(start: date, as_of: date) -> list[date]:
    """Monthly dates from `start` up to (not including) `as_of`, spaced wider when there would
    be more than `HISTORY_POINTS - 1` of them."""
    months = (as_of.year - start.year) * 12 + as_of.month - start.month
    step = max(1, -(-months // (HISTORY_POINTS - 1)))
    days = (add_months(start, k * step) for k in range(months // step + 1))
    return [day for day in days if day < as_of]


def first_day(session: Session, agency_id: str, as_of: date) -> date:
    """Where the history starts: the pledge date, else the first training record of anyone
    employed there; at least `MIN_HISTORY_MONTHS` before the report's date."""
    start = session.scalar(select(Agency.pledged_on).where(Agency.id == agency_id))
    if start is None:
        start = session.scalar(
            select(func.min(Completion.completed_on))
            .join(Employment, Employment.person_id == Completion.person_id)
            .where(Employment.agency_id == agency_id, Completion.voided.is_(False))
        )
    latest = add_months(as_of, -MIN_HISTORY_MONTHS)
    return latest if start is None else min(start, latest)


def gather(session: Session, report: CoverageReport, credits: Credits) -> tuple[Trend, Counts]:
    """The trend and the counts `RATE_WINDOW_DAYS` ago, from the credits of today's people."""
    as_of, agency = report.as_of, report.agency
    window_day = as_of - timedelta(days=RATE_WINDOW_DAYS)
    earlier = history_dates(first_day(session, agency, as_of), as_of)
    counts = [credits.counts(day) for day in (as_of, window_day, *earlier)]
    points = [TrendPoint.of(day, n) for day, n in zip(earlier, counts[2:], strict=True)]
    trend = Trend(
        points=[*points, TrendPoint.of(as_of, counts[0])],
        window=TrendPoint.of(window_day, counts[1]),
        deadline=report.deadline,
        projected=report.projected_completion,
    )
    return trend, counts[1]
