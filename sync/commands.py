"""`onemind serve` (the unattended scheduler) and `onemind runs` (the run history)."""

from __future__ import annotations

import json
import signal
from datetime import datetime
from typing import Any

import click
from rich import box
from rich.table import Table
from sqlalchemy import select

from onemind.errors import ConfigurationError
from onemind.store.db import make_engine, open_store, require_current, safe_url
from onemind.store.models import Source
from onemind.views import safe, wide_console

ERROR_WIDTH = 200


@click.command()
@click.option("--now", "run_now", is_flag=True, help="Also sync every source once right away.")
@click.pass_obj
def serve(ctx: Any, run_now: bool) -> None:
    """Sync sources and send reports on their schedules until SIGTERM or Ctrl-C."""
    from onemind.sync.scheduler import Service

    settings = ctx.settings()
    engine = make_engine(settings.store.url)
    require_current(engine)
    service = Service(settings, engine, ctx.now)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: service.stop.set())

    def ready(jobs: list[Any]) -> None:
        click.echo(f"serving {len(jobs)} job(s) on {safe_url(engine)}; stop with Ctrl-C or SIGTERM")
        for job in jobs:
            when = job.next_run_time.strftime("%Y-%m-%d %H:%M %Z") if job.next_run_time else "-"
            click.echo(f"  {job.id}: next run {when}")

    service.serve(run_now, ready)
    click.echo("stopped")


@click.command()
@click.option("--source", metavar="NAME", help="Only this source's runs.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON array.")
@click.pass_obj
def runs(ctx: Any, source: str | None, limit: int, as_json: bool) -> None:
    """Recent sync runs, newest first: counts, outcome, error; failing sources and held locks."""
    from onemind.sync.history import recent_runs, source_health
    from onemind.sync.lock import current_locks

    settings = ctx.settings()
    sessions = open_store(settings.store.url)
    with sessions() as session:
        if (
            source is not None
            and session.scalar(select(Source).where(Source.name == source)) is None
        ):
            raise ConfigurationError(f"no source named {source!r} in the store")
        rows = recent_runs(session, limit, source)
        only = None if source is None else [source]
        health = source_health(session, settings.schedule_zone, only)
        names = dict(session.execute(select(Source.id, Source.name)).all())
        locks = [(names[lock.source_id], lock) for lock in current_locks(session)]
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
        return
    console = wide_console()
    console.print(_runs_table(rows))
    for line in _errors(rows):
        console.print(line)
    threshold = settings.reports.flag_failing_after
    for h in health:
        if h.flagged(threshold):
            console.print(
                f"[red]source {safe(h.source)} has failed {h.failing_nights} nights in a row[/]: "
                f"{safe(h.last_error or '')}"
            )
    now = ctx.now()
    for name, lock in locks:
        state = "expired" if lock.expires_at < now else f"until {_when(lock.expires_at)}"
        console.print(f"source {safe(name)} locked by {safe(lock.holder)} ({state})")


def _runs_table(rows: list[Any]) -> Table:
    """The runs, compact enough for 80 columns; errors follow the table, one line each."""
    table = Table(title="Sync runs (times UTC)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("run", "source", "started", "took", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("fetched", "new", "upd.", "void.", "quar.", "unm."):
        table.add_column(column, justify="right", no_wrap=True)
    colours = {"succeeded": "green", "failed": "red", "abandoned": "red", "skipped": "yellow"}
    for r in rows:
        took = str(r.finished_at - r.started_at).split(".")[0] if r.finished_at else "running"
        table.add_row(
            str(r.id),
            safe(r.source),
            r.started_at.strftime("%m-%d %H:%M"),
            took,
            f"[{colours.get(r.status, 'cyan')}]{r.status}[/]",
            *(str(v) for v in r.counts.values()),
        )
    table.caption = "upd. updated, void. voided, quar. quarantined, unm. unmatched"
    return table


def _errors(rows: list[Any]) -> list[str]:
    return [
        f"run {r.id} ({safe(r.source)}): {safe(r.error[:ERROR_WIDTH])}" for r in rows if r.error
    ]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
