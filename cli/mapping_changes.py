"""`onemind mapping approve | reject | add | edit | retire`: changes that show their effect."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from onemind.cli.context import Context, author
from onemind.cli.options import DATE, as_of_option, examples
from onemind.domain.text import plain

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from onemind.mapping import changes

CATEGORY_HELP = "cit, crit, crisis-equivalent, mhfa, mhfa-equivalent, dispatch-crisis, or another"
REASON_HELP = "Why, as the rule's history records it."
MIN_HOURS_HELP = "Only courses of at least this many hours match (or of unknown length)."


def _show(report: changes.ChangeReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    verb = "would change" if report.dry_run else "changed"
    click.echo(
        f"{report.action} rule #{report.rule_id}: {report.reclassified_courses} course(s) "
        f"reclassified; {len(report.agencies)} agencies and {len(report.people)} people "
        f"{verb}"
    )
    for agency, (before, after) in sorted(report.agencies.items()):
        click.echo(
            f"  {agency}: sworn crisis {before.sworn_crisis} → {after.sworn_crisis}, "
            f"sworn trained {before.sworn_trained} → {after.sworn_trained}, "
            f"non-sworn trained {before.nonsworn_trained} → {after.nonsworn_trained}"
        )
    for person in report.people[:50]:
        click.echo(
            f"  person {person.person_id} {plain(person.name)}: {person.before} → {person.after}"
        )
    if report.certificates_issued or report.certificates_revoked:
        click.echo(
            f"  certificates: {len(report.certificates_issued)} issued, "
            f"{len(report.certificates_revoked)} revoked"
        )
    if report.dry_run:
        click.echo("dry run: nothing was changed")


def _change(
    ctx: Context,
    dry_run: bool,
    as_json: bool,
    as_of: date | None,
    change: Callable[[Session, date], changes.ChangeReport],
) -> None:
    """Apply one rule change and recompute what it touched, in one transaction."""
    from onemind.pipeline.recompute import change_rules, deliver_pushes

    day = ctx.today(as_of)
    settings = ctx.settings()
    with ctx.transaction(dry_run) as session:
        report = change_rules(session, settings, ctx.now(), day, change)
        report.dry_run = dry_run
    if not dry_run:
        deliver_pushes(ctx.sessions(), settings, ctx.now)
    _show(report, as_json)


def change_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option("--json", "as_json", is_flag=True, help="Print the effect as JSON."),
        click.option("--dry-run", is_flag=True, help="Show the effect; change nothing."),
        as_of_option("Date the effect is measured at (default today)."),
    ):
        function = option(function)
    return function


@click.command(
    epilog=examples(
        'onemind mapping approve 12 --category cit --reason "40-hour CIT course" --dry-run'
    )
)
@click.argument("course", type=int)
@click.option("--category", required=True, help=CATEGORY_HELP)
@click.option("--reason", required=True, help=REASON_HELP)
@change_options
@click.pass_obj
def approve(
    ctx: Context,
    course: int,
    category: str,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: date | None,
) -> None:
    """Decide that a catalogue course counts as CATEGORY (an exact rule for its source)."""
    from onemind.mapping import changes

    _change(
        ctx,
        dry_run,
        as_json,
        as_of,
        lambda session, day: changes.approve(
            session, course, category, reason, author(), ctx.now(), day
        ),
    )


@click.command(epilog=examples('onemind mapping reject 13 --reason "roll-call video"'))
@click.argument("course", type=int)
@click.option("--reason", required=True, help=REASON_HELP)
@change_options
@click.pass_obj
def reject(
    ctx: Context, course: int, reason: str, dry_run: bool, as_json: bool, as_of: date | None
) -> None:
    """Decide that a catalogue course does not qualify."""
    from onemind.mapping import changes

    _change(
        ctx,
        dry_run,
        as_json,
        as_of,
        lambda session, day: changes.approve(
            session, course, None, reason, author(), ctx.now(), day
        ),
    )


@click.command(
    epilog=examples(
        "onemind mapping add --title-pattern '\\bCIT\\b' --category cit "
        '--min-hours 40 --reason "state CIT" --dry-run',
        'onemind mapping add --course-key 877 --not-qualifying --reason "refresher"',
    )
)
@click.option("--course-key", help="Exact course key (id) as the source names it.")
@click.option("--title-pattern", help="Regular expression on the course title (any case).")
@click.option("--activity-type", help="Exact xAPI activity type IRI.")
@click.option("--provider", "provider_pattern", help="Regular expression on the provider.")
@click.option("--category", help=CATEGORY_HELP)
@click.option("--not-qualifying", is_flag=True, help="Matching courses do not count.")
@click.option("--source", help="Only for this source (default: any source).")
@click.option("--min-hours", type=float, help=MIN_HOURS_HELP)
@click.option(
    "--priority",
    type=int,
    default=100,
    show_default=True,
    help="Rules are tried highest first; the first that matches decides.",
)
@click.option(
    "--from", "effective_from", type=DATE, help="Counts only completions on/after this date."
)
@click.option("--until", "effective_until", type=DATE, help="…and before this date.")
@click.option("--reason", required=True, help=REASON_HELP)
@change_options
@click.pass_obj
def add(
    ctx: Context,
    course_key: str | None,
    title_pattern: str | None,
    activity_type: str | None,
    provider_pattern: str | None,
    category: str | None,
    not_qualifying: bool,
    source: str | None,
    min_hours: float | None,
    priority: int,
    effective_from: date | None,
    effective_until: date | None,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: date | None,
) -> None:
    """Add a rule; the completions it decides are reclassified at once."""
    from onemind.mapping import changes

    given = {
        "course_key": course_key,
        "title": title_pattern,
        "activity_type": activity_type,
        "provider": provider_pattern,
    }
    chosen = [(k, v) for k, v in given.items() if v]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --course-key, --title-pattern, --activity-type, --provider"
        )
    if (category is None) == (not not_qualifying):
        raise click.UsageError("give either --category or --not-qualifying")
    spec = changes.RuleSpec(
        chosen[0][0],
        chosen[0][1],
        category,
        reason,
        author(),
        source,
        min_hours,
        priority,
        effective_from,
        effective_until,
    )
    _change(
        ctx,
        dry_run,
        as_json,
        as_of,
        lambda session, day: changes.add_rule(session, spec, ctx.now(), day),
    )


@click.command(
    epilog=examples('onemind mapping edit 5 --min-hours 16 --reason "state minimum" --dry-run')
)
@click.argument("rule", type=int)
@click.option("--category", help=CATEGORY_HELP)
@click.option("--pattern", help="New pattern (a regular expression or exact key, as before).")
@click.option("--priority", type=int, help="New priority (highest is tried first).")
@click.option("--min-hours", type=float, help=MIN_HOURS_HELP)
@click.option(
    "--from", "effective_from", type=DATE, help="Counts only completions on/after this date."
)
@click.option("--until", "effective_until", type=DATE, help="…and before this date.")
@click.option("--reason", required=True, help=REASON_HELP)
@change_options
@click.pass_obj
def edit(
    ctx: Context,
    rule: int,
    category: str | None,
    pattern: str | None,
    priority: int | None,
    min_hours: float | None,
    effective_from: date | None,
    effective_until: date | None,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: date | None,
) -> None:
    """Change a rule (a new version); what it decided before and after is reclassified."""
    from onemind.mapping import changes

    updates: dict[str, Any] = {
        "category": category,
        "pattern": pattern,
        "priority": priority,
        "min_hours": min_hours,
        "effective_from": effective_from,
        "effective_until": effective_until,
    }
    updates = {k: v for k, v in updates.items() if v is not None}
    _change(
        ctx,
        dry_run,
        as_json,
        as_of,
        lambda session, day: changes.edit_rule(
            session, rule, updates, reason, author(), ctx.now(), day
        ),
    )


@click.command(epilog=examples('onemind mapping retire 5 --reason "course withdrawn"'))
@click.argument("rule", type=int)
@click.option("--reason", required=True, help=REASON_HELP)
@change_options
@click.pass_obj
def retire(
    ctx: Context, rule: int, reason: str, dry_run: bool, as_json: bool, as_of: date | None
) -> None:
    """Retire a rule; the completions it decided are decided again without it."""
    from onemind.mapping import changes

    _change(
        ctx,
        dry_run,
        as_json,
        as_of,
        lambda session, day: changes.retire_rule(session, rule, reason, author(), ctx.now(), day),
    )


CHANGE_COMMANDS = (approve, reject, add, edit, retire)
