"""`onemind report`: agencies' coverage reports on demand, sent by e-mail or written to files."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import Settings
from onemind.errors import ConfigurationError
from onemind.store.db import open_store
from onemind.store.models import Agency
from onemind.views import safe, wide_console

EXIT_FAILED = 1


@click.command()
@click.option("--agency", metavar="ID", help="Only this agency (default: every agency).")
@click.option("--hub", is_flag=True, help="The summary of all agencies for academy staff.")
@click.option("--as-of", help="Date to report on (default today).")
@click.option("--send", is_flag=True, help="E-mail it (report_to / [reports] hub_to) and archive.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the HTML, PDF and CSV here (default: the current folder, unless --send).",
)
@click.option("--list", "list_sent", is_flag=True, help="List the reports sent, newest first.")
@click.pass_obj
def report(
    ctx: Any,
    agency: str | None,
    hub: bool,
    as_of: str | None,
    send: bool,
    out: Path | None,
    list_sent: bool,
) -> None:
    """Coverage reports: status, figures, deadline, trend and who still needs which training."""
    settings = ctx.settings()
    sessions = open_store(settings.store.url)
    if list_sent:
        _list(sessions, agency)
        return
    day = _day(ctx.now(), as_of)
    if hub and agency:
        raise click.UsageError("--hub and --agency exclude each other")
    failed = _send(settings, sessions, agency, hub, day, ctx.now()) if send else 0
    if out is not None or not send:
        for path in write_reports(
            settings, sessions, out or Path("."), day, ctx.now(), agency, hub
        ):
            click.echo(f"wrote {path}")
    if failed:
        sys.exit(EXIT_FAILED)


def write_reports(
    settings: Settings,
    sessions: sessionmaker[Session],
    directory: Path,
    as_of: date,
    now: datetime,
    agency: str | None = None,
    hub: bool = False,
) -> list[Path]:
    """Write the reports' files (every agency's, one agency's, or the hub summary's)."""
    from onemind.reports.delivery import render_agency, render_hub, write

    paths = []
    with sessions() as session:
        if hub:
            return write(render_hub(session, settings, as_of, now), directory)
        for agency_id in _agencies(session, agency):
            paths += write(render_agency(session, settings, agency_id, as_of, now), directory)
    return paths


def _send(
    settings: Settings,
    sessions: sessionmaker[Session],
    agency: str | None,
    hub: bool,
    day: date,
    now: datetime,
) -> int:
    """Send and archive; returns how many deliveries failed."""
    from onemind.reports.delivery import deliver_agency, deliver_hub

    if hub:
        deliveries = [deliver_hub(settings, sessions, "on-demand", now, day)]
    else:
        with sessions() as session:
            targets = _agencies(session, agency)
        deliveries = [deliver_agency(settings, sessions, a, "on-demand", now, day) for a in targets]
    for d in deliveries:
        if d.sent:
            click.echo(f"sent report #{d.archive_id} to {', '.join(d.recipients)}")
        else:
            click.echo(f"error: report #{d.archive_id} not sent: {d.error}", err=True)
    return sum(not d.sent for d in deliveries)


def _agencies(session: Session, agency: str | None) -> list[str]:
    if agency is None:
        return list(session.scalars(select(Agency.id).order_by(Agency.id)))
    if session.get(Agency, agency) is None:
        raise ConfigurationError(
            f"no agency {agency!r} in the store (is it in [[agencies]] and has 'onemind init' run?)"
        )
    return [agency]


def _list(sessions: sessionmaker[Session], agency: str | None) -> None:
    from onemind.reports.delivery import archived

    with sessions() as session:
        rows = archived(session, agency)
    table = Table(title="Reports sent")
    for column in ("#", "created (UTC)", "report", "reason", "status", "to", "result"):
        table.add_column(column)
    for r in rows:
        result = "[green]sent[/]" if r.sent_at else f"[red]failed: {safe(r.error or '')}[/]"
        table.add_row(
            str(r.id),
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            safe(r.agency_id or "hub summary"),
            safe(r.reason),
            r.status or "",
            safe(", ".join(r.recipients)),
            result,
        )
    wide_console().print(table)


def _day(now: datetime, value: str | None) -> date:
    if value is None:
        return now.date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from None
