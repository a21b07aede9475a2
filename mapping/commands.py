"""`onemind mapping …`: academy staff classify courses; every change shows its effect first."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.mapping import changes, exchange
from onemind.mapping.catalogue import mapped_titles, review_queue
from onemind.mapping.suggest import suggest as suggest_for
from onemind.store.db import open_store
from onemind.store.explain import explain_person, find_person
from onemind.store.models import MappingRule, Source
from onemind.views import plain, safe

CATEGORY_HELP = "cit, crit, crisis-equivalent, mhfa, mhfa-equivalent, dispatch-crisis, or another"


def _author() -> str:
    return os.environ.get("ONEMIND_USER") or getpass.getuser()


@contextmanager
def _session(ctx: Any, dry_run: bool = False) -> Iterator[Session]:
    """A transaction that commits, or rolls back for a dry run."""
    sessions = open_store(ctx.settings().store.url)
    with sessions() as session:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


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
    if report.dry_run:
        click.echo("dry run: nothing was changed")


def change_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option("--json", "as_json", is_flag=True, help="Print the effect as JSON."),
        click.option("--dry-run", is_flag=True, help="Show the effect; change nothing."),
        click.option("--as-of", help="Date the effect is measured at (default today)."),
    ):
        function = option(function)
    return function


@click.group()
def mapping() -> None:
    """Which courses count as CIT, CRIT, MHFA or an approved equivalent."""


@mapping.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "show_all", is_flag=True, help="Include retired rules.")
@click.pass_obj
def list_rules(ctx: Any, as_json: bool, show_all: bool) -> None:
    """The mapping rules, in evaluation order."""
    with _session(ctx) as session:
        query = select(MappingRule, Source.name).outerjoin(
            Source, Source.id == MappingRule.source_id
        )
        if not show_all:
            query = query.where(MappingRule.active.is_(True))
        rows = session.execute(query.order_by(MappingRule.priority.desc(), MappingRule.id)).all()
    data = [
        {
            "id": r.id,
            "match": r.match,
            "pattern": r.pattern,
            "source": source,
            "category": r.category_id or "not-qualifying",
            "priority": r.priority,
            "min_hours": r.min_hours,
            "effective_from": _iso(r.effective_from),
            "effective_until": _iso(r.effective_until),
            "version": r.version,
            "active": r.active,
            "author": r.author,
            "reason": r.reason,
        }
        for r, source in rows
    ]
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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@mapping.command()
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def queue(ctx: Any, limit: int, as_json: bool) -> None:
    """Courses no rule decides, those affecting most people first, with suggestions."""
    with _session(ctx) as session:
        items = review_queue(session, limit)
    if as_json:
        click.echo(json.dumps([i.to_json() for i in items], indent=2))
        return
    table = Table(title="Review queue")
    for column in ("course", "source", "title", "people", "agencies", "suggestion"):
        table.add_column(column)
    for item in items:
        best = item.suggestions[0] if item.suggestions else None
        hint = f"{best.category} ({best.confidence:.2f})" if best else "—"
        table.add_row(
            str(item.course_id),
            safe(item.source),
            safe(item.title),
            str(item.people),
            str(item.agencies),
            hint,
        )
    Console().print(table)


@mapping.command()
@click.option("--title", required=True)
@click.option("--hours", type=float)
@click.option("--provider")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def suggest(ctx: Any, title: str, hours: float | None, provider: str | None, as_json: bool) -> None:
    """Ranked suggestions for a course title (which need not exist yet)."""
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


def _mapped_if_configured(ctx: Any) -> list[Any]:
    """Already-mapped titles when a store is configured; suggestions work without one."""
    from onemind.errors import OneMindError

    try:
        with _session(ctx) as session:
            return mapped_titles(session)
    except OneMindError:
        return []


@mapping.command()
@click.argument("course", type=int)
@click.option("--category", required=True, help=CATEGORY_HELP)
@click.option("--reason", required=True)
@change_options
@click.pass_obj
def approve(
    ctx: Any,
    course: int,
    category: str,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: str | None,
) -> None:
    """Decide that a catalogue course counts as CATEGORY (an exact rule for its source)."""
    with _session(ctx, dry_run) as session:
        report = changes.approve(
            session, course, category, reason, _author(), ctx.now(), _day(as_of) or ctx.now().date()
        )
        report.dry_run = dry_run
    _show(report, as_json)


@mapping.command()
@click.argument("course", type=int)
@click.option("--reason", required=True)
@change_options
@click.pass_obj
def reject(
    ctx: Any, course: int, reason: str, dry_run: bool, as_json: bool, as_of: str | None
) -> None:
    """Decide that a catalogue course does not qualify."""
    with _session(ctx, dry_run) as session:
        report = changes.approve(
            session, course, None, reason, _author(), ctx.now(), _day(as_of) or ctx.now().date()
        )
        report.dry_run = dry_run
    _show(report, as_json)


@mapping.command()
@click.option("--course-key", help="Exact course key (id) as the source names it.")
@click.option("--title-pattern", help="Regular expression on the course title (any case).")
@click.option("--activity-type", help="Exact xAPI activity type IRI.")
@click.option("--provider", "provider_pattern", help="Regular expression on the provider.")
@click.option("--category", help=CATEGORY_HELP)
@click.option("--not-qualifying", is_flag=True, help="Matching courses do not count.")
@click.option("--source", help="Only for this source (default: any source).")
@click.option("--min-hours", type=float)
@click.option("--priority", type=int, default=100, show_default=True)
@click.option("--from", "effective_from", help="Counts only completions on/after this date.")
@click.option("--until", "effective_until", help="…and before this date.")
@click.option("--reason", required=True)
@change_options
@click.pass_obj
def add(
    ctx: Any,
    course_key: str | None,
    title_pattern: str | None,
    activity_type: str | None,
    provider_pattern: str | None,
    category: str | None,
    not_qualifying: bool,
    source: str | None,
    min_hours: float | None,
    priority: int,
    effective_from: str | None,
    effective_until: str | None,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: str | None,
) -> None:
    """Add a rule; the completions it decides are reclassified at once."""
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
        _author(),
        source,
        min_hours,
        priority,
        _day(effective_from),
        _day(effective_until),
    )
    with _session(ctx, dry_run) as session:
        report = changes.add_rule(session, spec, ctx.now(), _day(as_of) or ctx.now().date())
        report.dry_run = dry_run
    _show(report, as_json)


@mapping.command()
@click.argument("rule", type=int)
@click.option("--category", help=CATEGORY_HELP)
@click.option("--pattern")
@click.option("--priority", type=int)
@click.option("--min-hours", type=float)
@click.option("--from", "effective_from")
@click.option("--until", "effective_until")
@click.option("--reason", required=True)
@change_options
@click.pass_obj
def edit(
    ctx: Any,
    rule: int,
    category: str | None,
    pattern: str | None,
    priority: int | None,
    min_hours: float | None,
    effective_from: str | None,
    effective_until: str | None,
    reason: str,
    dry_run: bool,
    as_json: bool,
    as_of: str | None,
) -> None:
    """Change a rule (a new version); what it decided before and after is reclassified."""
    updates: dict[str, Any] = {
        "category": category,
        "pattern": pattern,
        "priority": priority,
        "min_hours": min_hours,
        "effective_from": _day(effective_from),
        "effective_until": _day(effective_until),
    }
    updates = {k: v for k, v in updates.items() if v is not None}
    with _session(ctx, dry_run) as session:
        report = changes.edit_rule(
            session, rule, updates, reason, _author(), ctx.now(), _day(as_of) or ctx.now().date()
        )
        report.dry_run = dry_run
    _show(report, as_json)


@mapping.command()
@click.argument("rule", type=int)
@click.option("--reason", required=True)
@change_options
@click.pass_obj
def retire(
    ctx: Any, rule: int, reason: str, dry_run: bool, as_json: bool, as_of: str | None
) -> None:
    """Retire a rule; the completions it decided are decided again without it."""
    with _session(ctx, dry_run) as session:
        report = changes.retire_rule(
            session, rule, reason, _author(), ctx.now(), _day(as_of) or ctx.now().date()
        )
        report.dry_run = dry_run
    _show(report, as_json)


@mapping.command(name="export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "yaml"]), default="yaml", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File (else stdout).")
@click.pass_obj
def export_command(ctx: Any, fmt: str, out: Path | None) -> None:
    """Write the active rules for another academy to import."""
    with _session(ctx) as session:
        text = exchange.dump(exchange.export_rules(session), fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"rules written to {out}")


@mapping.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True)
@click.option("--as-of")
@click.pass_obj
def import_command(ctx: Any, file: Path, dry_run: bool, as_of: str | None) -> None:
    """Add the rules of a CSV or YAML file; disagreements are reported, never overwritten."""
    rules = exchange.load(file)
    with _session(ctx, dry_run) as session:
        report = exchange.import_rules(
            session, rules, file.name, _author(), ctx.now(), _day(as_of) or ctx.now().date()
        )
    prefix = "dry run: would add" if dry_run else "added"
    click.echo(
        f"{prefix} {len(report.added)} rule(s); {report.unchanged} already present; "
        f"{len(report.conflicts)} conflict(s); {len(report.invalid)} invalid"
    )
    for line in report.conflicts + report.invalid:
        click.echo(f"  {plain(line)}")


@mapping.command()
@click.argument("person")
@click.option("--as-of")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def explain(ctx: Any, person: str, as_of: str | None, as_json: bool) -> None:
    """Why PERSON (id, email or employee id) does or does not count, agency by agency."""
    day = _day(as_of) or ctx.now().date()
    with _session(ctx) as session:
        found = find_person(session, person)
        parts = explain_person(session, found, day)
    if as_json:
        click.echo(json.dumps([p.to_json() for p in parts], indent=2))
        return
    for part in parts:
        who = part.person
        click.echo(
            f"{plain(who.name)} at {part.agency} ({part.program}), {who.employee_id}: "
            f"{who.role}; trained {'yes' if who.trained else 'no'}"
            + (f", crisis {'yes' if who.crisis else 'no'}" if who.role == "sworn" else "")
        )
        for note in who.notes:
            click.echo(
                f"  {note.completed_on} {plain(note.course)} ({note.source} "
                f"{plain(note.record)}): {note.verdict}"
            )
