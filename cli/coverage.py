"""`onemind coverage`: each agency's coverage as of a date, or who counts and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import click

from onemind.cli.context import Context
from onemind.cli.options import as_of_option, examples
from onemind.errors import ConfigurationError

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.orm import Session

    from onemind.store.coverage import CoverageReport
    from onemind.store.explain import PersonExplanation

WHO: dict[str, Callable[[PersonExplanation], bool]] = {
    "all": lambda person: True,
    "counted": lambda person: person.trained,
    "not-counted": lambda person: not person.trained,
}


@click.command(
    name="coverage",
    epilog=examples(
        "onemind coverage --as-of 2026-11-26",
        "onemind coverage --agency springfield-pd --explain --who not-counted",
        "onemind coverage --agency springfield-pd --explain --format text > people.txt",
    ),
)
@click.option("--agency", "agency", metavar="ID", help="Only this agency.")
@as_of_option("Date to compute for (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON array of SPEC §5.")
@click.option("--explain", is_flag=True, help="Per person: which record and rule made them count.")
@click.option(
    "--who",
    type=click.Choice(list(WHO)),
    default="all",
    show_default=True,
    help="With --explain: everyone, those counted as trained, or those who still need training.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "text"]),
    help="A table, or plain lines for files and pipes (default: a table on a terminal only).",
)
@click.pass_obj
def coverage_command(
    ctx: Context,
    agency: str | None,
    as_of: date | None,
    as_json: bool,
    explain: bool,
    who: str,
    fmt: str | None,
) -> None:
    """Each agency's coverage of the pledge as of a date."""
    from onemind.store import coverage
    from onemind.store.db import transaction
    from onemind.store.explain import explain_agency

    if who != "all" and not explain:
        raise click.UsageError("--who needs --explain")
    if explain and agency is None:
        raise click.UsageError("--explain needs --agency")
    day = ctx.today(as_of)
    with transaction(ctx.sessions()) as session:
        _require_agency(session, agency)
        if explain and agency is not None:
            people = [p for p in explain_agency(session, agency, day) if WHO[who](p)]
        else:
            reports = coverage.compute(session, day, None if agency is None else [agency])
    if explain:
        _print_people(people, as_json, fmt)
    else:
        _print_reports(reports, as_json, fmt)


def _require_agency(session: Session, agency: str | None) -> None:
    from sqlalchemy import select

    from onemind.config.names import unknown_names
    from onemind.store.models import Agency

    if agency is not None and session.get(Agency, agency) is None:
        known = session.scalars(select(Agency.id)).all()
        raise ConfigurationError(
            unknown_names("agency", [agency], known, "in the store")
            + " (is it in [[agencies]], and has 'onemind init' run?)"
        )


def _print_reports(reports: list[CoverageReport], as_json: bool, fmt: str | None) -> None:
    from onemind.cli.views import coverage_lines, coverage_table

    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        _show(fmt, lambda: coverage_table(reports), lambda: coverage_lines(reports))


def _print_people(people: list[PersonExplanation], as_json: bool, fmt: str | None) -> None:
    from onemind.cli.views import explanation_lines, explanation_table

    if as_json:
        click.echo(json.dumps([p.to_json() for p in people], indent=2))
    else:
        _show(
            fmt,
            lambda: explanation_table(people),
            lambda: [line for p in people for line in explanation_lines(p)],
        )


def _show(fmt: str | None, table: Callable[[], Table], lines: Callable[[], list[str]]) -> None:
    """A rich table on a terminal (or with --format table), else one plain line per item."""
    from onemind.cli.views import wide_console

    console = wide_console()
    if fmt == "table" or (fmt is None and console.is_terminal):
        console.print(table())
        return
    for line in lines():
        click.echo(line)
