"""`onemind mapping …`: academy staff classify courses; every change shows its effect first."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from onemind.cli.context import Context, author
from onemind.cli.mapping_changes import CHANGE_COMMANDS
from onemind.cli.options import as_of_option, examples
from onemind.domain.text import plain
from onemind.errors import OneMindError

if TYPE_CHECKING:
    from onemind.mapping.suggest import MappedTitle


@click.group(
    epilog=examples(
        "onemind mapping queue",
        'onemind mapping approve --key academy:CIT-40 --category cit --reason "40-hour CIT"',
        "onemind mapping explain jane.doe@springfield.gov",
    )
)
def mapping() -> None:
    """Which courses count as CIT, CRIT, MHFA or an approved equivalent."""


for _command in CHANGE_COMMANDS:
    mapping.add_command(_command)


@mapping.command(
    name="list", epilog=examples("onemind mapping list", "onemind mapping list --all --json")
)
@click.option("--json", "as_json", is_flag=True, help="Print the rules as a JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Include retired rules.")
@click.pass_obj
def list_rules(ctx: Context, as_json: bool, show_all: bool) -> None:
    """The mapping rules, in evaluation order."""
    from rich.console import Console
    from rich.table import Table

    from onemind.cli.views import safe
    from onemind.mapping import exchange

    with ctx.transaction() as session:
        data = exchange.list_rules(session, show_all)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    table = Table(title="Mapping rules")
    for column in ("id", "match", "pattern", "category", "priority", "min h", "v", "author"):
        table.add_column(column)
    for rule in data:
        table.add_row(
            str(rule["id"]),
            rule["match"],
            safe(rule["pattern"]),
            rule["category"],
            str(rule["priority"]),
            str(rule["min_hours"] or ""),
            str(rule["version"]),
            safe(rule["author"]),
        )
    Console().print(table)


KEYS_SHOWN = 3


@mapping.command(
    epilog=examples("onemind mapping queue --limit 20", "onemind mapping queue --json")
)
@click.option(
    "--limit", type=int, default=50, show_default=True, help="Show at most this many titles."
)
@click.option("--json", "as_json", is_flag=True, help="Print the queue as a JSON array.")
@click.pass_obj
def queue(ctx: Context, limit: int, as_json: bool) -> None:
    """Courses no rule decides, one row per title (case, spacing and punctuation aside), those
    affecting most people first, with their SOURCE:KEY and a suggestion. Decide a row with
    `onemind mapping approve --title TITLE` (or `--key SOURCE:KEY`)."""
    from rich.console import Console
    from rich.table import Table

    from onemind.cli.views import safe
    from onemind.mapping.catalogue import review_groups

    with ctx.transaction() as session:
        groups = review_groups(session, limit)
    if as_json:
        click.echo(json.dumps([g.to_json() for g in groups], indent=2))
        return
    table = Table(title="Review queue")
    for column in ("title", "courses", "keys", "completions", "people", "agencies", "suggestion"):
        table.add_column(column)
    for group in groups:
        best = group.suggestions[0] if group.suggestions else None
        hint = f"{best.category} ({best.confidence:.2f})" if best else "—"
        keys = ", ".join(group.keys[:KEYS_SHOWN])
        if len(group.keys) > KEYS_SHOWN:
            keys += f" +{len(group.keys) - KEYS_SHOWN} more"
        table.add_row(
            safe(group.title),
            str(len(group.courses)),
            safe(keys),
            str(group.completions),
            str(group.people),
            str(group.agencies),
            hint,
        )
    Console().print(table)


@mapping.command(
    epilog=examples('onemind mapping suggest --title "Crisis Intervention Team 40h" --hours 40')
)
@click.option("--title", required=True, help="The course title as the source names it.")
@click.option("--hours", type=float, help="The course's length in hours, if known.")
@click.option("--provider", help="Who gives the course, if known.")
@click.option("--json", "as_json", is_flag=True, help="Print the suggestions as a JSON array.")
@click.pass_obj
def suggest(
    ctx: Context, title: str, hours: float | None, provider: str | None, as_json: bool
) -> None:
    """Ranked suggestions for a course title (which need not exist yet)."""
    from onemind.mapping.suggest import suggest as suggest_for

    mapped = _mapped_if_configured(ctx)
    ranked = suggest_for(title, hours, provider, mapped)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in ranked], indent=2))
        return
    if not ranked:
        click.echo("no suggestion: nothing about this title points at a category")
    for s in ranked:
        mark = "high confidence" if s.high_confidence else "needs a look"
        click.echo(f"{s.category} {s.confidence:.2f} ({mark}): {plain('; '.join(s.reasons))}")


def _mapped_if_configured(ctx: Context) -> list[MappedTitle]:
    """Already-mapped titles when a store is configured; suggestions work without one."""
    from onemind.mapping.catalogue import mapped_titles

    try:
        with ctx.transaction() as session:
            return mapped_titles(session)
    except OneMindError:
        return []


@mapping.command(
    name="export", epilog=examples("onemind mapping export --format csv --out rules.csv")
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "yaml"]),
    default="yaml",
    show_default=True,
    help="File format.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (else stdout).")
@click.pass_obj
def export_command(ctx: Context, fmt: str, out: Path | None) -> None:
    """Write the active rules for another academy to import."""
    from onemind.mapping import exchange

    with ctx.transaction() as session:
        text = exchange.dump(exchange.export_rules(session), fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"rules written to {out}")


@mapping.command(
    name="import",
    epilog=examples(
        "onemind mapping import rules.yaml --dry-run", "onemind mapping import rules.csv"
    ),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@as_of_option("Date the effect is measured at (default today).")
@click.pass_obj
def import_command(ctx: Context, file: Path, dry_run: bool, as_of: date | None) -> None:
    """Add the rules of a CSV or YAML file; disagreements are reported, never overwritten, and
    a rule that cannot be stored stops the import, named by its row or rule and line."""
    from onemind.mapping import exchange

    rules = exchange.load(file)
    with ctx.transaction(dry_run) as session:
        report = exchange.import_rules(
            session, rules, file.name, author(), ctx.now(), ctx.today(as_of)
        )
    prefix = "dry run: would add" if dry_run else "added"
    click.echo(
        f"{prefix} {len(report.added)} rule(s); {report.unchanged} already present; "
        f"{len(report.conflicts)} conflict(s), kept as stored"
    )
    for line in report.conflicts:
        click.echo(f"  {plain(line)}")


@mapping.command(
    epilog=examples(
        "onemind mapping explain jane.doe@springfield.gov",
        "onemind mapping explain E1042 --as-of 2026-11-26 --json",
    )
)
@click.argument("person")
@as_of_option("Date to explain for (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_obj
def explain(ctx: Context, person: str, as_of: date | None, as_json: bool) -> None:
    """Why PERSON (id, email or employee id) does or does not count, agency by agency."""
    from onemind.cli.views import explanation_lines
    from onemind.store.explain import explain_person, find_person

    day = ctx.today(as_of)
    with ctx.transaction() as session:
        found = find_person(session, person)
        parts = explain_person(session, found, day)
    if as_json:
        click.echo(json.dumps([p.to_json() for p in parts], indent=2))
        return
    for part in parts:
        for line in explanation_lines(part.person, f" at {part.agency} ({part.program})"):
            click.echo(line)
