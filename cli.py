"""The `onemind` command line: one clear line on error, non-zero exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from onemind.certificates.commands import certificates
from onemind.config import Settings, config_path, load_settings
from onemind.errors import ConfigurationError, OneMindError
from onemind.mapping.commands import mapping
from onemind.reports.commands import report, write_reports
from onemind.store import coverage
from onemind.store.db import make_engine, require_current, session_factory, transaction, upgrade
from onemind.store.models import Agency
from onemind.sync.commands import runs, serve
from onemind.sync.logcontext import configure as configure_logging
from onemind.views import coverage_table, explanation_table, sync_table

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Context:
    config: str | None
    debug: bool
    now: Callable[[], datetime]

    def settings(self) -> Settings:
        return load_settings(config_path(self.config))


def _today(ctx: Context, as_of: str | None) -> date:
    if as_of is None:
        return ctx.now().date()
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter(
            f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from None


@click.group()
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="Configuration file (else $ONEMIND_CONFIG, else ./onemind.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(click_ctx: click.Context, config: str | None, debug: bool, verbose: bool) -> None:
    """Track agencies' One Mind Pledge coverage from LMS, LRS and roster data."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    configure_logging(level)
    click_ctx.obj = Context(config, debug, lambda: datetime.now(UTC))


@cli.command()
@click.pass_obj
def init(ctx: Context) -> None:
    """Create or upgrade the database and load the configured agencies and sources."""
    from onemind.store.bootstrap import apply_settings

    settings = ctx.settings()
    engine = make_engine(settings.store.url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        apply_settings(session, settings, ctx.now())
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--full", is_flag=True, help="Ignore saved cursors and read every source whole.")
@click.option("--as-of", help="Date to compute coverage for (default today).")
@click.pass_obj
def sync(ctx: Context, sources: tuple[str, ...], full: bool, as_of: str | None) -> None:
    """Pull the sources (all, or those named), then recompute coverage."""
    settings = ctx.settings()
    outcome = run_sync(ctx, settings, sources, full, _today(ctx, as_of))
    console = Console()
    console.print(sync_table(outcome))
    if not outcome.ok:
        failed = [r for r in outcome.results if not r.ok]
        for result in failed:
            click.echo(f"error: source {result.source}: {result.error}", err=True)
        sys.exit(EXIT_FAILED)


def run_sync(
    ctx: Context, settings: Settings, sources: tuple[str, ...], full: bool, as_of: date
) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from onemind.sync.runner import SyncRunner

    engine = make_engine(settings.store.url)
    require_current(engine)
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

        runner = SyncRunner(settings, session_factory(engine), ctx.now, progress)
        return runner.run(sources, full=full, as_of=as_of)


@cli.command(name="coverage")
@click.option("--agency", "agency", metavar="ID", help="Only this agency.")
@click.option("--as-of", help="Date to compute for (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON array of SPEC §5.")
@click.option("--explain", is_flag=True, help="Per person: which record and rule made them count.")
@click.pass_obj
def coverage_command(
    ctx: Context, agency: str | None, as_of: str | None, as_json: bool, explain: bool
) -> None:
    """Each agency's coverage of the pledge as of a date."""
    settings = ctx.settings()
    day = _today(ctx, as_of)
    engine = make_engine(settings.store.url)
    require_current(engine)
    with transaction(session_factory(engine)) as session:
        if agency is not None and session.get(Agency, agency) is None:
            raise ConfigurationError(
                f"no agency {agency!r} in the store (is it in [[agencies]] "
                "and has 'onemind init' run?)"
            )
        if explain:
            if agency is None:
                raise click.UsageError("--explain needs --agency")
            from onemind.store.explain import explain_agency

            people = explain_agency(session, agency, day)
            if as_json:
                click.echo(json.dumps([p.to_json() for p in people], indent=2))
            else:
                Console().print(explanation_table(people))
            return
        reports = coverage.compute(session, day, None if agency is None else [agency])
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        Console().print(coverage_table(reports))


@cli.command()
@click.option(
    "--dir",
    "directory",
    default="onemind-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo is written.",
)
@click.option("--as-of", help="Date to compute coverage for (default today).")
@click.pass_obj
def demo(ctx: Context, directory: Path, as_of: str | None) -> None:
    """Run the whole pipeline on bundled sample data (SQLite) and print the coverage."""
    from onemind.demo.setup import prepare_demo

    config_file = prepare_demo(directory)
    ctx.config = str(config_file)
    settings = ctx.settings()
    upgrade(make_engine(settings.store.url))
    day = _today(ctx, as_of)
    outcome = run_sync(ctx, settings, (), False, day)
    console = Console()
    console.print(sync_table(outcome))
    console.print(coverage_table(outcome.reports))
    out = directory / "coverage.json"
    out.write_text(json.dumps([r.to_json() for r in outcome.reports], indent=2) + "\n")
    click.echo(f"coverage written to {out}; configuration: {config_file}")
    reports = directory / "reports"
    write_reports(
        settings, session_factory(make_engine(settings.store.url)), reports, day, ctx.now()
    )
    click.echo(f"reports (HTML, PDF, CSV) written to {reports}")
    click.echo(f"try: onemind --config {config_file} coverage --agency springfield-pd --explain")


cli.add_command(mapping)
cli.add_command(certificates)
cli.add_command(serve)
cli.add_command(runs)
cli.add_command(report)


def main(argv: list[str] | None = None) -> None:
    """Entry point: map errors to one line on stderr and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="onemind", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except OneMindError as exc:
        if debug:
            raise
        first, _, rest = str(exc).partition("\n")
        click.echo(f"error: {first}" + (f"\n{rest}" if rest else ""), err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, ConfigurationError) else EXIT_FAILED)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            err=True,
        )
        sys.exit(EXIT_FAILED)
