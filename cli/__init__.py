"""The `onemind` command line: one clear line on error, non-zero exit codes."""

from __future__ import annotations

import atexit
import gc
import logging
import sys
from datetime import UTC, datetime

import click

from onemind.cli.certificates import certificates
from onemind.cli.check import check
from onemind.cli.context import EXIT_FAILED, EXIT_USAGE, Context
from onemind.cli.coverage import coverage_command
from onemind.cli.demo import demo
from onemind.cli.dropped import quarantine, unmatched
from onemind.cli.mapping import mapping
from onemind.cli.options import examples
from onemind.cli.reports import report
from onemind.cli.secrets import secrets
from onemind.cli.sync import init, runs, serve, sync
from onemind.cli.users import users
from onemind.cli.web import web
from onemind.cli.worker import worker
from onemind.errors import ConfigurationError, OneMindError
from onemind.sync.logcontext import configure as configure_logging


@click.group(
    epilog=examples(
        "onemind init                 create the database from onemind.toml",
        "onemind sync                 pull every source and recompute coverage",
        "onemind coverage             each agency's coverage as of today",
        "onemind coverage --help      a command's options and examples",
    )
)
@click.version_option(package_name="onemind-sync", prog_name="onemind")
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
    click_ctx.call_on_close(click_ctx.obj.close)


for _command in (
    init,
    sync,
    coverage_command,
    demo,
    mapping,
    certificates,
    serve,
    runs,
    report,
    secrets,
    check,
    quarantine,
    unmatched,
    worker,
    users,
    web,
):
    cli.add_command(_command)


# The interpreter's last garbage collections at exit walk every object a command loaded
# (SQLAlchemy, pydantic, the rows it read): about a third of a second of a quiet sync's
# time. A command closes what it opens (its store connections: `Context.close`), so the
# walk is skipped.
atexit.register(gc.freeze)


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
