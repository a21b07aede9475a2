"""Reports for several agencies at once: written to files, or sent and archived."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import Settings
from onemind.errors import ConfigurationError
from onemind.reports.delivery import Delivery, deliver_agency, deliver_hub
from onemind.reports.rendered import render_agency, render_hub, write
from onemind.store.models import Agency

Progress = Callable[[int, int], None]
"""Told (reports done, reports in all) after each report."""


def write_reports(
    settings: Settings,
    sessions: sessionmaker[Session],
    directory: Path,
    as_of: date,
    now: datetime,
    agency: str | None = None,
    hub: bool = False,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the reports' files (every agency's, one agency's, or the hub summary's)."""
    paths = []
    with sessions() as session:
        if hub:
            return write(render_hub(session, settings, as_of, now), directory)
        targets = agencies(session, agency)
        for done, agency_id in enumerate(targets, start=1):
            paths += write(render_agency(session, settings, agency_id, as_of, now), directory)
            if progress:
                progress(done, len(targets))
    return paths


def send_reports(
    settings: Settings,
    sessions: sessionmaker[Session],
    agency: str | None,
    hub: bool,
    day: date,
    now: datetime,
    progress: Progress | None = None,
) -> list[Delivery]:
    """Send and archive on demand: the hub summary, one agency's report, or every agency's."""
    if hub:
        return [deliver_hub(settings, sessions, "on-demand", now, day)]
    with sessions() as session:
        targets = agencies(session, agency)
    deliveries = []
    for agency_id in targets:
        deliveries.append(deliver_agency(settings, sessions, agency_id, "on-demand", now, day))
        if progress:
            progress(len(deliveries), len(targets))
    return deliveries


def agencies(session: Session, agency: str | None) -> list[str]:
    """Every active agency's id, or the one named (active or not).

    Raises:
        ConfigurationError: the named agency is not in the store.
    """
    if agency is None:
        return list(session.scalars(select(Agency.id).where(Agency.active).order_by(Agency.id)))
    if session.get(Agency, agency) is None:
        raise ConfigurationError(
            f"no agency {agency!r} in the store (is it in [[agencies]] and has 'onemind init' run?)"
        )
    return [agency]
