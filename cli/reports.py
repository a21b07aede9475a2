"""`onemind report`: agencies' coverage reports on demand, sent by e-mail or written to files."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from onemind.cli.context import EXIT_FAILED, Context
from onemind.cli.options import as_of_option, examples

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


@click.command(
    epilog=examples(
        "onemind report --agency springfield-pd --out reports/",
        "onemind report --hub --send",
        "onemind report --list --json",
    )
)
@click.option("--agency", metavar="ID", help="Only this agency (default: every agency).")
@click.option("--hub", is_flag=True, help="The summary of all agencies for academy staff.")
@as_of_option("Date to report on (default today).")
@click.option("--send", is_flag=True, help="E-mail it (report_to / [reports] hub_to) and archive.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the HTML, PDF and CSV here (default: the current folder, unless --send).",
)
@click.option("--list", "list_sent", is_flag=True, help="List the reports sent, newest first.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print them as a JSON array.")
@click.pass_obj
def report(
    ctx: Context,
    agency: str | None,
    hub: bool,
    as_of: date | None,
    send: bool,
    out: Path | None,
    list_sent: bool,
    as_json: bool,
) -> None:
    """Coverage reports: status, figures, deadline, trend and who still needs which training."""
    from onemind.cli.progress import progress_bar
    from onemind.reports.batch import write_reports

    settings = ctx.settings()
    sessions = ctx.sessions()
    if as_json and not list_sent:
        raise click.UsageError("--json goes with --list")
    if list_sent:
        _list(sessions, agency, as_json)
        return
    day = ctx.today(as_of)
    if hub and agency:
        raise click.UsageError("--hub and --agency exclude each other")
    failed = _send(ctx, sessions, agency, hub, day) if send else 0
    if out is not None or not send:
        with progress_bar("writing reports") as progress:
            paths = write_reports(
                settings, sessions, out or Path("."), day, ctx.now(), agency, hub, progress
            )
        for path in paths:
            click.echo(f"wrote {path}")
    if failed:
        sys.exit(EXIT_FAILED)


def _send(
    ctx: Context, sessions: sessionmaker[Session], agency: str | None, hub: bool, day: date
) -> int:
    """Send and archive; returns how many deliveries failed."""
    from onemind.cli.progress import progress_bar
    from onemind.reports.batch import send_reports

    with progress_bar("sending reports") as progress:
        deliveries = send_reports(ctx.settings(), sessions, agency, hub, day, ctx.now(), progress)
    for d in deliveries:
        if d.sent:
            click.echo(f"sent report #{d.archive_id} to {', '.join(d.recipients)}")
        else:
            click.echo(f"error: report #{d.archive_id} not sent: {d.error}", err=True)
    return sum(not d.sent for d in deliveries)


def _list(sessions: sessionmaker[Session], agency: str | None, as_json: bool) -> None:
    from rich.table import Table

    from onemind.cli.views import archive_json, safe, wide_console
    from onemind.reports.delivery import archived

    with sessions() as session:
        rows = archived(session, agency)
    if as_json:
        click.echo(json.dumps([archive_json(r) for r in rows], indent=2))
        return
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
