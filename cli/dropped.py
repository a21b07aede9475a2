"""`onemind quarantine list` and `onemind unmatched list`: every record that counts for no one.

Both show personal data (names, emails, employee ids as the sources gave them) to the operator
at the terminal; every text is escaped before it is shown.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from onemind.cli.context import Context
from onemind.cli.options import examples
from onemind.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.table import Table

    from onemind.store.dropped import DroppedRecord, UnmatchedRecord

JSON_HELP = "Print the records as a JSON array."


@click.group(epilog=examples("onemind quarantine list --source vector-export"))
def quarantine() -> None:
    """Records a source gave that could not be taken in, each with its reason."""


@quarantine.command(
    name="list",
    epilog=examples(
        "onemind quarantine list",
        "onemind quarantine list --source vector-export",
        "onemind quarantine list --json",
    ),
)
@click.option("--source", metavar="NAME", help="Only this source's records.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_obj
def quarantine_list(ctx: Context, source: str | None, as_json: bool) -> None:
    """Every quarantined record: source, file and line (or statement), reason, run."""
    from sqlalchemy import select

    from onemind.config.names import unknown_names
    from onemind.store.dropped import quarantined_records
    from onemind.store.models import Source

    with ctx.sessions()() as session:
        known = session.scalars(select(Source.name)).all()
        if source is not None and source not in known:
            raise ConfigurationError(unknown_names("source", [source], known, "in the store"))
        records = quarantined_records(session, source)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    _print(_quarantine_table(records))


@click.group(epilog=examples("onemind unmatched list"))
def unmatched() -> None:
    """Completions no roster person was found for."""


@unmatched.command(
    name="list", epilog=examples("onemind unmatched list", "onemind unmatched list --json")
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_obj
def unmatched_list(ctx: Context, as_json: bool) -> None:
    """Every unmatched completion: source, file and line, who it names, course, reason."""
    from onemind.store.dropped import unmatched_records

    with ctx.sessions()() as session:
        records = unmatched_records(session)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    _print(_unmatched_table(records))


def _print(table: Table) -> None:
    from onemind.cli.views import wide_console

    wide_console().print(table)


def _quarantine_table(records: list[DroppedRecord]) -> Table:
    from rich import box
    from rich.table import Table

    from onemind.cli.views import safe

    table = Table(title=f"Quarantined records ({len(records)})", box=box.SIMPLE_HEAD)
    for column in ("source", "location", "run"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for r in records:
        run = "" if r.run_id is None else str(r.run_id)
        table.add_row(safe(r.source), safe(r.location), run, safe(r.reason))
    return table


def _unmatched_table(records: list[UnmatchedRecord]) -> Table:
    from rich import box
    from rich.table import Table

    from onemind.cli.views import safe

    table = Table(title=f"Unmatched completions ({len(records)})", box=box.SIMPLE_HEAD)
    for column in ("source", "location", "course", "completed"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason")
    for r in records:
        table.add_row(
            safe(r.source),
            safe(r.location),
            safe(r.course),
            r.completed_on.isoformat(),
            safe(r.reason),
        )
    return table
