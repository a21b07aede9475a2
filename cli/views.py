"""Rich tables for the terminal; every untrusted text is escaped before it is shown."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from onemind.domain.text import plain

if TYPE_CHECKING:
    from onemind.store.coverage import CoverageReport
    from onemind.store.explain import PersonExplanation
    from onemind.store.models import ReportArchive
    from onemind.sync.runner import SyncOutcome


def safe(text: str) -> str:
    """Untrusted text made safe inside rich markup."""
    return escape(plain(text))


MARKS = {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]n/a[/]"}
TICKS = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[yellow]-[/]"}
YES_NO = {True: "yes", False: "no", None: "n/a"}
STATUS_STYLE = {"complete": "green", "on-track": "cyan", "at-risk": "yellow", "overdue": "red"}


def percent(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{part}/{whole}\n{100 * part / whole:.0f} %"


def coverage_table(reports: Sequence[CoverageReport]) -> Table:
    as_of = reports[0].as_of.isoformat() if reports else ""
    table = Table(title=f"One Mind Pledge coverage as of {as_of}")
    table.add_column("agency", no_wrap=True)
    for column in ("crisis", "trained", "non-sworn"):
        table.add_column(column, no_wrap=True, justify="right")
    table.add_column("attested", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=10)
    for r in reports:
        c = r.counts
        style = STATUS_STYLE.get(r.status, "magenta")
        crisis = percent(c.sworn_crisis, c.sworn_total)
        if c.sworn_total:
            crisis += f" {TICKS[r.crisis_20]}"
        table.add_row(
            f"{safe(r.agency)}\n[dim]{r.program}[/]",
            crisis,
            percent(c.sworn_trained, c.sworn_total),
            percent(c.nonsworn_trained, c.nonsworn_total),
            f"partner {TICKS[r.partnership]}\npolicy {TICKS[r.policy]}",
            f"[{style}]{r.status}[/]\n{r.deadline.isoformat() if r.deadline else ''}",
        )
    table.caption = (
        "crisis: sworn officers with a crisis-tier credential (20 % needed); "
        "trained: sworn officers trained as the program counts; "
        "non-sworn: selected non-sworn staff trained"
    )
    return table


def coverage_lines(reports: Iterable[CoverageReport]) -> list[str]:
    """One plain line per agency, for files and pipes."""
    lines = []
    for r in reports:
        c = r.counts
        deadline = f", deadline {r.deadline.isoformat()}" if r.deadline else ""
        lines.append(
            f"{plain(r.agency)} ({r.program}) {r.status}{deadline}: "
            f"crisis {c.sworn_crisis}/{c.sworn_total} (20 % {YES_NO[r.crisis_20]}), "
            f"trained {c.sworn_trained}/{c.sworn_total}, "
            f"non-sworn {c.nonsworn_trained}/{c.nonsworn_total}; "
            f"partnership {YES_NO[r.partnership]}, policy {YES_NO[r.policy]}"
        )
    return lines


def sync_table(outcome: SyncOutcome) -> Table:
    from onemind.store.dropped import counted

    table = Table(title="Sync")
    columns = ("source", "fetched", "new", "updated", "quarantined", "repeated", "top reasons")
    for column in (*columns, "result"):
        table.add_column(column)
    for r in outcome.results:
        s = r.stats
        result = "[green]ok[/]" if r.ok else "[red]failed (below)[/]"
        if r.ok and r.warnings:
            result += "".join(f"\n[yellow]warning: {safe(w)}[/]" for w in r.warnings)
        if r.skipped:
            result = f"[yellow]skipped: {safe(r.skipped)}[/]"
        elif r.stopped:
            result = "[yellow]stopped on request[/]"
        counts = (s.fetched, s.new, s.updated, s.quarantined, s.repeated)
        reasons = "\n".join(safe(line) for line in counted(r.reasons))
        table.add_row(safe(r.source), *map(str, counts), reasons, result)
    table.caption = (
        f"{outcome.unmatched} completion(s) not yet matched to a roster person; "
        "every dropped record: onemind quarantine list, every unmatched one: onemind unmatched list"
    )
    return table


def explanation_table(people: Iterable[PersonExplanation]) -> Table:
    table = Table(title="Who counts, and why")
    for column in ("person", "employee id", "role", "trained", "crisis", "records"):
        table.add_column(column)
    for p in people:
        notes = "\n".join(
            f"{n.completed_on} {safe(n.course)} ({safe(n.source)} "
            f"{safe(n.record)}): {safe(n.verdict)}"
            for n in p.notes
        )
        table.add_row(
            safe(p.name),
            safe(p.employee_id),
            p.role,
            MARKS[p.trained],
            MARKS[p.crisis] if p.role == "sworn" else "—",
            notes or "no records",
        )
    return table


def explanation_lines(person: PersonExplanation, where: str = "") -> list[str]:
    """The person on one line, then one indented line per record: plain text for pipes."""
    crisis = f", crisis {YES_NO[person.crisis]}" if person.role == "sworn" else ""
    notes = [
        f"  {n.completed_on} {plain(n.course)} ({plain(n.source)} {plain(n.record)}): "
        f"{plain(n.verdict)}"
        for n in person.notes
    ]
    return [
        f"{plain(person.name)}{where}, {plain(person.employee_id)}: {person.role}; "
        f"trained {YES_NO[person.trained]}{crisis}",
        *(notes or ["  no records"]),
    ]


def archive_json(row: ReportArchive) -> dict[str, Any]:
    """A report as `report --list --json` prints it (its content stays in the archive)."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "agency": row.agency_id,
        "kind": row.kind,
        "reason": row.reason,
        "as_of": row.as_of.isoformat(),
        "status": row.status,
        "subject": row.subject,
        "recipients": row.recipients,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "error": row.error,
    }


def wide_console(width: int = 110) -> Console:
    """A console for tables: the terminal's width, or at least `width` when output is piped."""
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, width)
    return console
