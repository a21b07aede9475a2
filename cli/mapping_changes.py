"""`onemind mapping approve | reject | add | edit | retire`: changes that show their effect."""

from __future__ import annotations

import functools
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

    Change = Callable[[Session, date], changes.ChangeReport]

CATEGORY_HELP = "cit, crit, crisis-equivalent, mhfa, mhfa-equivalent, dispatch-crisis, or another"
REASON_HELP = "Why, as the rule's history records it."
MIN_HOURS_HELP = "Only courses of at least this many hours match (or of unknown length)."


def effective_dates(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--from`/`--until`: the dates between which a rule counts completions."""
    until = click.option("--until", "effective_until", type=DATE, help="…and before this date.")
    since = click.option(
        "--from", "effective_from", type=DATE, help="Counts only completions on/after this date."
    )
    return since(until(command))


def _show(report: changes.ChangeReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    if not report.rule_ids:
        said = "; ".join(report.unchanged) or "no course fits"
        click.echo(f"{report.action}: nothing changed ({plain(said)})")
        return
    verb = "would change" if report.dry_run else "changed"
    rules = ", ".join(f"#{r}" for r in report.rule_ids)
    click.echo(
        f"{report.action} rule {rules}: {report.reclassified_courses} course(s) "
        f"reclassified; {len(report.agencies)} agencies and {len(report.people)} people "
        f"{verb}"
    )
    _show_left_out(report)
    for line in report.unchanged:
        click.echo(f"  unchanged: {plain(line)}")
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


def _show_left_out(report: changes.ChangeReport) -> None:
    """Courses the pattern matches that the rule's hours or dates keep it from deciding."""
    excluded = report.excluded
    if excluded.by_hours:
        click.echo(
            f"  {excluded.by_hours} matching course(s) left out: shorter than the minimum hours"
        )
    if excluded.by_dates:
        click.echo(
            f"  {excluded.by_dates} matching course(s) left out: "
            "no completion within the rule's dates"
        )


def _change(ctx: Context, dry_run: bool, as_json: bool, as_of: date | None, change: Change) -> None:
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


def rule_change(build: Callable[..., Change]) -> Callable[..., None]:
    """A command whose function builds a rule change: add --json, --dry-run and --as-of, and
    apply the change it builds."""

    @functools.wraps(build)
    def command(
        ctx: Context, dry_run: bool, as_json: bool, as_of: date | None, **given: Any
    ) -> None:
        _change(ctx, dry_run, as_json, as_of, build(ctx, **given))

    for option in (
        click.option("--json", "as_json", is_flag=True, help="Print the effect as JSON."),
        click.option("--dry-run", is_flag=True, help="Show the effect; change nothing."),
        as_of_option("Date the effect is measured at (default today)."),
    ):
        command = option(command)
    return command


def _decisions(
    session: Session, course: int | None, key: str | None, title: str | None, category: str | None
) -> list[changes.Decision]:
    from onemind.mapping import changes, decisions

    if course is not None:
        return [changes.course_decision(session, course, category)]
    if key is not None:
        return [decisions.by_key(session, key, category)]
    assert title is not None
    return [decisions.by_title(session, title, category)]


def _one_subject(given: dict[str, Any]) -> None:
    named = [name for name, value in given.items() if value not in (None, False)]
    if len(named) != 1:
        raise click.UsageError(f"name exactly one of: {', '.join(given)}")


def _subject_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option(
            "--title",
            help="Every course titled so (any case, spacing, punctuation), any source, "
            "now and to come.",
        ),
        click.option("--key", help="One course as SOURCE:KEY (see `onemind mapping queue`)."),
        click.argument("course", type=int, required=False),
    ):
        function = option(function)
    return function


@click.command(
    epilog=examples(
        'onemind mapping approve 12 --category cit --reason "40-hour CIT course" --dry-run',
        'onemind mapping approve --key academy:CIT-40 --category cit --reason "40-hour CIT"',
        'onemind mapping approve --title "CIT Basic 40hr" --category cit --reason "Memphis model"',
        'onemind mapping approve --all-suggested --min-score 0.9 --reason "reviewed" --dry-run',
    )
)
@_subject_options
@click.option(
    "--all-suggested",
    is_flag=True,
    help="Every queue title whose best suggestion scores at least --min-score, as suggested.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="The lowest suggestion score --all-suggested takes.",
)
@click.option("--category", help=f"{CATEGORY_HELP} (with --all-suggested: only that one).")
@click.option("--reason", required=True, help=REASON_HELP)
@click.pass_obj
@rule_change
def approve(
    ctx: Context,
    course: int | None,
    key: str | None,
    title: str | None,
    all_suggested: bool,
    min_score: float,
    category: str | None,
    reason: str,
) -> Change:
    """Decide that courses count as CATEGORY: COURSE (a catalogue id), --key, --title, or
    --all-suggested; deciding the same again changes nothing."""
    _one_subject(
        {"COURSE": course, "--key": key, "--title": title, "--all-suggested": all_suggested}
    )
    if category is None and not all_suggested:
        raise click.UsageError("give --category (or use --all-suggested)")

    def change(session: Session, day: date) -> changes.ChangeReport:
        from onemind.mapping import changes, decisions

        if all_suggested:
            chosen = [
                d
                for d in decisions.suggested(session, min_score)
                if category is None or d.category == category
            ]
        else:
            chosen = _decisions(session, course, key, title, category)
        report = changes.decide(session, chosen, reason, author(), ctx.now(), day)
        if not chosen:
            report.unchanged.append(f"no queue title's best suggestion scores {min_score} or more")
        return report

    return change


@click.command(
    epilog=examples('onemind mapping reject --key academy:RC-1 --reason "roll-call video"')
)
@_subject_options
@click.option("--reason", required=True, help=REASON_HELP)
@click.pass_obj
@rule_change
def reject(
    ctx: Context, course: int | None, key: str | None, title: str | None, reason: str
) -> Change:
    """Decide that courses do not qualify: COURSE (a catalogue id), --key or --title; deciding
    the same again changes nothing."""
    _one_subject({"COURSE": course, "--key": key, "--title": title})
    from onemind.mapping import changes

    return lambda session, day: changes.decide(
        session, _decisions(session, course, key, title, None), reason, author(), ctx.now(), day
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
@effective_dates
@click.option("--reason", required=True, help=REASON_HELP)
@click.pass_obj
@rule_change
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
) -> Change:
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
    return lambda session, day: changes.add_rule(session, spec, ctx.now(), day)


@click.command(
    epilog=examples('onemind mapping edit 5 --min-hours 16 --reason "state minimum" --dry-run')
)
@click.argument("rule", type=int)
@click.option("--category", help=CATEGORY_HELP)
@click.option("--pattern", help="New pattern (a regular expression or exact key, as before).")
@click.option("--priority", type=int, help="New priority (highest is tried first).")
@click.option("--min-hours", type=float, help=MIN_HOURS_HELP)
@effective_dates
@click.option("--reason", required=True, help=REASON_HELP)
@click.pass_obj
@rule_change
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
) -> Change:
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
    return lambda session, day: changes.edit_rule(
        session, rule, updates, reason, author(), ctx.now(), day
    )


@click.command(epilog=examples('onemind mapping retire 5 --reason "course withdrawn"'))
@click.argument("rule", type=int)
@click.option("--reason", required=True, help=REASON_HELP)
@click.pass_obj
@rule_change
def retire(ctx: Context, rule: int, reason: str) -> Change:
    """Retire a rule; the completions it decided are decided again without it."""
    from onemind.mapping import changes

    return lambda session, day: changes.retire_rule(session, rule, reason, author(), ctx.now(), day)


CHANGE_COMMANDS = (approve, reject, add, edit, retire)
