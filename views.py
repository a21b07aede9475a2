"""Rich tables for the terminal; every untrusted text is escaped before it is shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onemind.store.coverage import CoverageReport
from onemind.store.explain import PersonExplanation
from rich.markup import escape
from rich.table import Table

MARKS = {True: "[green]yes[/]", False: "[red]no[/]", None: "[yellow]n/a[/]"}
STATUS_STYLE = {"complete": "green", "on-track": "cyan", "at-risk": "yellow", "overdue": "red"}


def percent(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{part}/{whole} ({100 * part / whole:.0f} %)"


def coverage_table(reports: Iterable[CoverageReport]) -> Table:
    table = Table(title="One Mind Pledge coverage")
    for column in (
        "agency",
        "as of",
        "program",
        "sworn crisis-trained",
        "sworn trained",
        "selected non-sworn trained",
        "partnership",
        "policy",
        "20 %",
        "all trained",
        "status",
        "deadline",
    ):
        table.add_column(column)
    for r in reports:
        c = r.counts
        style = STATUS_STYLE.get(r.status, "magenta")
        crisis = percent(c.sworn_crisis, c.sworn_total)
        if c.sworn_total:
            crisis += f", need {r.crisis_needed}"
        table.add_row(
            escape(r.name),
            r.as_of.isoformat(),
            r.program,
            crisis,
            percent(c.sworn_trained, c.sworn_total),
            percent(c.nonsworn_trained, c.nonsworn_total),
            MARKS[r.partnership],
            MARKS[r.policy],
            MARKS[r.crisis_20],
            MARKS[r.all_trained],
            f"[{style}]{r.status}[/]",
            r.deadline.isoformat() if r.deadline else "—",
        )
    return table


def sync_table(outcome: Any) -> Table:
    table = Table(title="Sync")
    for column in ("source", "fetched", "new", "updated", "quarantined", "result"):
        table.add_column(column)
    for r in outcome.results:
        s = r.stats
        result = "[green]ok[/]" if r.ok else f"[red]failed: {escape(r.error or '')}[/]"
        table.add_row(
            escape(r.source), str(s.fetched), str(s.new), str(s.updated), str(s.quarantined), result
        )
    table.caption = f"{outcome.unmatched} completion(s) not yet matched to a roster person"
    return table


def explanation_table(people: Iterable[PersonExplanation]) -> Table:
    table = Table(title="Who counts, and why")
    for column in ("person", "employee id", "role", "trained", "crisis", "records"):
        table.add_column(column)
    for p in people:
        notes = "\n".join(
            f"{n.completed_on} {escape(n.course)} ({escape(n.source)} "
            f"{escape(n.record)}): {escape(n.verdict)}"
            for n in p.notes
        )
        table.add_row(
            escape(p.name),
            escape(p.employee_id),
            p.role,
            MARKS[p.trained],
            MARKS[p.crisis] if p.role == "sworn" else "—",
            notes or "no records",
        )
    return table
