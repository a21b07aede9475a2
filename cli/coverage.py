"""`onemind coverage`: each agency's coverage as of a date, or who counts and why."""

from __future__ import annotations

import json
from datetime import date

import click
from rich.console import Console
from sqlalchemy import select

from onemind.cli.context import Context
from onemind.cli.options import as_of_option
from onemind.cli.views import coverage_table, explanation_table
from onemind.config.names import unknown_names
from onemind.errors import ConfigurationError
from onemind.store import coverage
from onemind.store.db import transaction
from onemind.store.models import Agency


@click.command(name="coverage")
@click.option("--agency", "agency", metavar="ID", help="Only this agency.")
@as_of_option("Date to compute for (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON array of SPEC §5.")
@click.option("--explain", is_flag=True, help="Per person: which record and rule made them count.")
@click.pass_obj
def coverage_command(
    ctx: Context, agency: str | None, as_of: date | None, as_json: bool, explain: bool
) -> None:
    """Each agency's coverage of the pledge as of a date."""
    day = ctx.today(as_of)
    with transaction(ctx.sessions()) as session:
        if agency is not None and session.get(Agency, agency) is None:
            known = session.scalars(select(Agency.id)).all()
            raise ConfigurationError(
                unknown_names("agency", [agency], known, "in the store")
                + " (is it in [[agencies]], and has 'onemind init' run?)"
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
