"""`onemind init`, `sync`, `serve` (the unattended scheduler) and `runs` (the run history)."""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
from contextlib import suppress
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from onemind.cli.context import EXIT_FAILED, Context
from onemind.cli.options import as_of_option, examples
from onemind.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.orm import Session, sessionmaker

    from onemind.store.history import RunRow
    from onemind.sync.runner import SyncOutcome

ERROR_WIDTH = 200


@click.command(epilog=examples("onemind init", "onemind --config /etc/onemind.toml init"))
@click.pass_obj
def init(ctx: Context) -> None:
    """Create or upgrade the database and load the configured agencies and sources.

    Agencies whose attestations are new are recomputed, as every writer of data does.
    """
    from onemind.pipeline.recompute import recompute
    from onemind.store.bootstrap import apply_settings
    from onemind.store.db import session_factory, transaction
    from onemind.store.deferred_indexes import build

    settings = ctx.settings()
    engine = ctx.engine(migrate=True)
    sessions = session_factory(engine)
    build(sessions)  # what a killed first load left dropped
    with transaction(sessions) as session:
        attested = apply_settings(session, settings, ctx.now())
        if attested:
            recompute(session, settings, ctx.now(), ctx.today(None), attested)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@click.command(
    epilog=examples(
        "onemind sync                      every source, then coverage as of today",
        "onemind sync moodle --full        one source, read whole again",
        "onemind sync --json > sync.json   the outcome, for a script",
    )
)
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("--full", is_flag=True, help="Ignore saved cursors and read every source whole.")
@as_of_option("Date to compute coverage for (default today).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the outcome as JSON: per-source results, unmatched, status changes, certificates.",
)
@click.pass_obj
def sync(
    ctx: Context, sources: tuple[str, ...], full: bool, as_of: date | None, as_json: bool
) -> None:
    """Pull the sources (all, or those named), then recompute coverage."""
    # Start-up creates objects by the hundred thousand (the store's and the connector's
    # libraries) and frees few: the collector's passes over them are wasted. `run_sync`
    # turns it back on once they are frozen (and it is on again however the sync ends).
    gc.disable()
    try:
        outcome = run_sync(ctx, ctx.sessions(), sources, full, ctx.today(as_of))
    finally:
        gc.enable()
    if as_json:
        click.echo(json.dumps(outcome_json(outcome), indent=2))
    else:
        from rich.console import Console

        from onemind.cli.views import sync_table

        Console().print(sync_table(outcome))
    if not outcome.ok:
        failed = [r for r in outcome.results if not r.ok]
        for result in failed:
            named = repr(result.source) in (result.error or "")
            prefix = "" if named else f"source {result.source!r}: "
            click.echo(f"error: {prefix}{result.error}", err=True)
        sys.exit(EXIT_FAILED)


def outcome_json(outcome: SyncOutcome) -> dict[str, Any]:
    """What `sync --json` prints: each source's result, then what the recomputation changed."""
    return {
        "ok": outcome.ok,
        "stopped": outcome.stopped,
        "recomputed": outcome.recomputed,
        "sources": [
            {
                "source": r.source,
                "run_id": r.run_id,
                "status": r.status,
                **asdict(r.stats),
                "top_reasons": [{"reason": reason, "count": n} for reason, n in r.reasons],
                "error": r.error,
                "skipped": r.skipped,
            }
            for r in outcome.results
        ],
        "unmatched": outcome.unmatched,
        "status_changes": [asdict(c) for c in outcome.changes],
        "certificates": asdict(outcome.certificates),
    }


def run_sync(
    ctx: Context,
    sessions: sessionmaker[Session],
    sources: tuple[str, ...],
    full: bool,
    as_of: date,
) -> SyncOutcome:
    """Run the sync, with a progress bar per source on stderr when it is a terminal (else
    the bar's library is not even loaded)."""
    from onemind.connectors.registry import connector_class
    from onemind.sync.runner import SyncRunner

    for source in ctx.settings().sources:  # their libraries load now, with the others
        if not sources or source.name in sources:
            with suppress(Exception):  # a connector that cannot load fails its source's sync
                connector_class(source)
    # What is loaded by now (libraries, configuration, mappings) lasts as long as the process:
    # the collector's full passes during a long pull need not walk it again and again.
    gc.freeze()
    gc.enable()
    if not sys.stderr.isatty():
        return SyncRunner(ctx.settings(), sessions, ctx.now).run(sources, full=full, as_of=as_of)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(source: str, done: int, total: int | None) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(source, total=total)
            bar.update(tasks[source], completed=done, total=total)

        runner = SyncRunner(ctx.settings(), sessions, ctx.now, progress)
        return runner.run(sources, full=full, as_of=as_of)


@click.command(
    epilog=examples(
        "onemind serve",
        "onemind serve --now --log-format json --log-file /var/log/onemind/onemind.log",
    )
)
@click.option("--now", "run_now", is_flag=True, help="Also sync every source once right away.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text, or as one JSON object a line (time, level, logger, message, "
    "job, source, run_id).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the log to this file, created owner-only (default: stderr).",
)
@click.pass_obj
def serve(ctx: Context, run_now: bool, log_format: str, log_file: Path | None) -> None:
    """Sync sources and send reports on their schedules until SIGTERM or Ctrl-C.

    Each job's start, result and duration is logged at INFO (DEBUG with --debug).
    """
    from onemind.cli.worker import dispatch_for
    from onemind.store.db import safe_url
    from onemind.sync.logcontext import configure
    from onemind.sync.scheduler import Service

    configure(logging.DEBUG if ctx.debug else logging.INFO, log_format, log_file)
    engine = ctx.engine()
    settings = ctx.settings()
    service = Service(settings, engine, ctx.now, dispatch=dispatch_for(settings))
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: service.stop.set())

    def ready(jobs: list[Any]) -> None:
        where = "enqueued for workers" if service.dispatch else "run here"
        click.echo(
            f"serving {len(jobs)} job(s) on {safe_url(engine)} ({where}); "
            "stop with Ctrl-C or SIGTERM"
        )
        for job in jobs:
            when = job.next_run_time.strftime("%Y-%m-%d %H:%M %Z") if job.next_run_time else "-"
            click.echo(f"  {job.id}: next run {when}")

    service.serve(run_now, ready)
    click.echo("stopped")


@click.command(epilog=examples("onemind runs", "onemind runs --source moodle --limit 5 --json"))
@click.option("--source", metavar="NAME", help="Only this source's runs.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Show at most this many runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON array.")
@click.pass_obj
def runs(ctx: Context, source: str | None, limit: int, as_json: bool) -> None:
    """Recent sync runs, newest first: counts, outcome, error; failing sources and held locks."""
    from sqlalchemy import select

    from onemind.cli.views import safe, wide_console
    from onemind.store.history import recent_runs, source_health
    from onemind.store.models import Source
    from onemind.sync.lock import current_locks

    settings = ctx.settings()
    with ctx.sessions()() as session:
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


def _runs_table(rows: list[RunRow]) -> Table:
    """The runs, compact enough for 80 columns; errors follow the table, one line each."""
    from rich import box
    from rich.table import Table

    from onemind.cli.views import safe

    table = Table(title="Sync runs (times UTC)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("run", "source", "started", "took", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("fetched", "new", "upd.", "void.", "quar.", "rep.", "unm."):
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
    table.caption = "upd. updated, void. voided, quar. quarantined, rep. repeated, unm. unmatched"
    return table


def _errors(rows: list[RunRow]) -> list[str]:
    from onemind.cli.views import safe

    return [
        f"run {r.id} ({safe(r.source)}): {safe(r.error[:ERROR_WIDTH])}" for r in rows if r.error
    ]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")
