"""Mapping decisions from the review queue: the effect shown first (a dry run, rolled back),
then applied through `change_rules`, so the figures and credentials follow in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import Settings
from onemind.mapping import changes, decisions
from onemind.mapping.suggest import NOT_QUALIFYING
from onemind.pipeline.recompute import change_rules
from onemind.store import coverage
from onemind.web.dashboard import NOT_COMPUTED, latest_statuses

BULK_MIN_SCORE = 0.9

Decide = Callable[[Session], list[changes.Decision]]


@dataclass(frozen=True)
class Effect:
    """What a decision did or would do: the change report and each agency's status move."""

    report: changes.ChangeReport
    statuses: dict[str, tuple[str, str]]
    names: dict[str, str]

    @property
    def sentence(self) -> str:
        r = self.report
        if not r.rule_ids:
            return "Nothing changes: " + ("; ".join(r.unchanged) or "no course fits") + "."
        said = f"{len(r.agencies)} agencies and {len(r.people)} people change"
        moves = [
            f"{self.names.get(a, a)} becomes {after}"
            for a, (before, after) in sorted(self.statuses.items())
            if before != after
        ]
        return "; ".join([said, *moves]) + "."


def category_of(choice: str) -> str | None:
    """A form's category: `not-qualifying` decides that the course does not count."""
    return None if choice == NOT_QUALIFYING else choice


def by_title(title: str, category: str | None) -> Decide:
    return lambda session: [decisions.by_title(session, title, category)]


def suggested(min_score: float = BULK_MIN_SCORE) -> Decide:
    return lambda session: decisions.suggested(session, min_score)


def effect(
    session: Session,
    settings: Settings,
    decide: Decide,
    author: str,
    reason: str,
    now: datetime,
) -> Effect:
    """Apply the decisions in `session` and say what moved."""
    as_of = now.date()
    chosen = decide(session)
    if not chosen:
        raise changes.InvalidRuleError("no decision to make: nothing in the queue fits")
    before = latest_statuses(session)

    def change(s: Session, day: date) -> changes.ChangeReport:
        return changes.decide(s, chosen, reason, author, now, day)

    report = change_rules(session, settings, now, as_of, change)
    touched = sorted(report.agencies)
    after = {r.agency: r for r in coverage.compute(session, as_of, touched)} if touched else {}
    statuses = {a: (before.get(a, NOT_COMPUTED), after[a].status) for a in touched}
    names = {a: after[a].name for a in touched}
    return Effect(report, statuses, names)


def preview(
    sessions: sessionmaker[Session],
    settings: Settings,
    decide: Decide,
    author: str,
    reason: str,
    now: datetime,
) -> Effect:
    """The effect of the decisions, in a transaction rolled back: nothing is changed."""
    with sessions() as session:
        session.begin()
        try:
            found = effect(session, settings, decide, author, reason, now)
            found.report.dry_run = True
            return found
        finally:
            session.rollback()
