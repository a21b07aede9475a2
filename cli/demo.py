"""`onemind demo`: the whole pipeline on bundled sample data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from onemind.cli.context import Context
from onemind.cli.options import as_of_option, examples
from onemind.cli.sync import run_sync


@click.command(epilog=examples("onemind demo", "onemind demo --dir /tmp/demo --as-of 2026-11-26"))
@click.option(
    "--dir",
    "directory",
    default="onemind-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo is written.",
)
@as_of_option("Date to compute coverage for (default today).")
@click.pass_obj
def demo(ctx: Context, directory: Path, as_of: date | None) -> None:
    """Run the whole pipeline on bundled sample data (SQLite) and print the coverage."""
    from rich.console import Console

    from onemind.cli.views import coverage_table, sync_table
    from onemind.demo.setup import prepare_demo
    from onemind.private_files import write_private
    from onemind.reports.batch import write_reports
    from onemind.store.coverage import compute

    config_file = prepare_demo(directory)
    ctx = replace(ctx, config=str(config_file))
    settings = ctx.settings()
    sessions = ctx.sessions(migrate=True)
    day = ctx.today(as_of)
    outcome = run_sync(ctx, sessions, (), False, day)
    # read back from the store: a rerun with nothing new does not recompute
    with sessions() as session:
        figures = compute(session, day)
    console = Console()
    console.print(sync_table(outcome))
    console.print(coverage_table(figures))
    out = directory / "coverage.json"
    write_private(out, (json.dumps([r.to_json() for r in figures], indent=2) + "\n").encode())
    click.echo(f"coverage written to {out}; configuration: {config_file}")
    reports = directory / "reports"
    write_reports(settings, sessions, reports, day, ctx.now())
    click.echo(f"reports (HTML, PDF, CSV) written to {reports}")
    click.echo(f"try: onemind --config {config_file} coverage --agency springfield-pd --explain")
