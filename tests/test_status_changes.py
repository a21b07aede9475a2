"""Status changes compare fresh figures with each agency's latest snapshot on or before the date,
whether the agencies are named in the query (a few) or all read (many)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from builders import StoreBuilder
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.domain.programs import Counts
from onemind.store import snapshots
from onemind.store.coverage import CoverageReport
from onemind.store.models import CoverageSnapshot
from onemind.store.snapshots import latest_snapshots, read_latest, save_snapshots
from onemind.store.status import StatusChange, status_changes

D = date(2026, 11, 26)


def report(agency: str, day: date, state: str) -> CoverageReport:
    return CoverageReport(
        agency=agency,
        name=agency,
        as_of=day,
        program="one-mind",
        counts=Counts(5, 1, 5),
        partnership=False,
        policy=False,
        crisis_20=True,
        all_trained=True,
        status=state,
        deadline=None,
        projected_completion=None,
        crisis_needed=1,
    )


@pytest.mark.parametrize("named", [True, False], ids=["agencies-named", "every-agency-read"])
def test_latest_snapshot_on_or_before_the_date_is_compared(
    sessions: sessionmaker[Session], now: datetime, named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not named:
        monkeypatch.setattr(snapshots, "FEW", 0)
    with sessions.begin() as session:
        b = StoreBuilder.start(session, now)
        for agency in ("a", "b", "c", "d"):
            b.agency(agency)
        save_snapshots(session, [report("a", date(2026, 1, 1), "on-track")], now)
        save_snapshots(session, [report("a", date(2026, 6, 1), "at-risk")], now)
        save_snapshots(session, [report("a", date(2027, 1, 1), "complete")], now)  # after D
        save_snapshots(session, [report("b", date(2026, 6, 1), "overdue")], now)
        save_snapshots(session, [report("d", date(2027, 1, 1), "overdue")], now)  # after D only
    fresh = [report(a, D, "on-track") for a in ("a", "b", "c", "d")]
    with sessions() as session:
        found = status_changes(session, fresh)
    assert found == [
        StatusChange("a", "at-risk", "on-track"),
        StatusChange("b", "overdue", "on-track"),
    ]
    with sessions() as session:
        assert status_changes(session, [fresh[0]._replace(status="at-risk")]) == []


def test_a_snapshot_is_written_only_when_the_figures_differ_from_the_latest(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    later = now.replace(hour=now.hour + 1)
    with sessions.begin() as session:
        b = StoreBuilder.start(session, now)
        for agency in ("a", "b"):
            b.agency(agency)
        first = [report("a", date(2026, 6, 1), "on-track"), report("b", D, "on-track")]
        assert save_snapshots(session, first, now) == 2
    fresh = [report("a", D, "on-track"), report("b", D, "at-risk")]
    with sessions.begin() as session:
        latest = read_latest(session, fresh)
        assert latest.figures == latest_snapshots(session, fresh)
        assert save_snapshots(session, fresh, later, latest) == 1
    with sessions() as session:
        kept = session.execute(
            select(
                CoverageSnapshot.agency_id, CoverageSnapshot.as_of, CoverageSnapshot.status
            ).order_by(CoverageSnapshot.agency_id, CoverageSnapshot.as_of)
        ).all()
    assert kept == [("a", date(2026, 6, 1), "on-track"), ("b", D, "at-risk")]
    with sessions.begin() as session:  # back to what the day's first computation said
        assert save_snapshots(session, [report("b", D, "on-track")], later) == 1
        assert status_changes(session, [report("b", D, "on-track")]) == []
        assert status_changes(session, [fresh[0]._replace(counts=Counts(6, 1, 6))]) == []


@pytest.mark.parametrize("named", [True, False], ids=["agencies-named", "every-agency-read"])
def test_an_earlier_snapshot_hiding_the_newest_row_sends_the_next_comparison_to_the_history(
    sessions: sessionmaker[Session], now: datetime, named: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later date compares with the agency's `coverage_latest` row, not the history, while
    the row says what the latest snapshot says. A computation of an earlier date with other
    figures writes a snapshot that may be the latest before later dates: the row then stands
    aside until a computation has compared with the history again."""
    if not named:
        monkeypatch.setattr(snapshots, "FEW", 0)
    with sessions.begin() as session:
        StoreBuilder.start(session, now).agency("a")
        assert save_snapshots(session, [report("a", date(2026, 1, 1), "on-track")], now) == 1
        assert save_snapshots(session, [report("a", D, "on-track")], now) == 0  # the row: D
        assert save_snapshots(session, [report("a", date(2026, 6, 1), "at-risk")], now) == 1
    day = D + timedelta(days=1)
    fresh = [report("a", day, "on-track")]
    with sessions.begin() as session:
        assert status_changes(session, fresh) == [StatusChange("a", "at-risk", "on-track")]
        assert save_snapshots(session, fresh, now) == 1

    def searched(*args: Any) -> None:
        raise AssertionError("the history was searched")

    monkeypatch.setattr(snapshots, "_snapshot_figures", searched)
    later = [report("a", day + timedelta(days=1), "at-risk")]
    with sessions() as session:
        assert status_changes(session, later) == [StatusChange("a", "on-track", "at-risk")]
