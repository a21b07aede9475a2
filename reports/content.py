"""What an agency's report says: the coverage engine's figures, their history and who still
needs which training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Select, bindparam, select
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.domain.categories import CRISIS
from onemind.domain.programs import PROGRAMS, RATE_WINDOW_DAYS, Counts, Program
from onemind.reports.credits import Credits, read_credits
from onemind.reports.trend import Trend, gather
from onemind.store import coverage
from onemind.store.coverage import CoverageReport
from onemind.store.explain import people_in
from onemind.store.history import SourceHealth, source_health
from onemind.store.models import Agency, Attestation

REQUIREMENTS = (
    ("partnership", "Partnership with community mental-health organizations"),
    ("policy", "Model policy developed and implemented"),
    ("crisis_20", "At least 20 % of sworn officers trained in CIT, CRIT or equivalent"),
    ("all_trained", "All sworn officers and selected non-sworn staff trained in mental health"),
)


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    met: bool | None
    detail: str


@dataclass(frozen=True)
class Need:
    """Someone in the population who still needs training, and which."""

    name: str
    employee_id: str
    role: str
    training: bool
    crisis: bool
    needs: tuple[str, ...]


@dataclass(frozen=True)
class Standing:
    """One person of the population: who they are and what they hold at the report's date."""

    name: str
    employee_id: str
    role: str
    trained: bool
    crisis: bool


@dataclass(frozen=True)
class AgencyReport:
    """Everything one agency's report shows, as of one date."""

    coverage: CoverageReport
    program: Program
    requirements: list[Requirement]
    trained_recently: int
    crisis_recently: int
    trend: Trend
    needs: list[Need]
    sources: list[SourceHealth]
    flag_after: int
    generated_at: datetime

    @property
    def flagged_sources(self) -> list[SourceHealth]:
        return [s for s in self.sources if s.flagged(self.flag_after)]

    @property
    def outlook(self) -> str:
        """The deadline and the projected completion, in one sentence."""
        return outlook(self.coverage)


def agency_report(
    session: Session, settings: Settings, agency_id: str, as_of: date, now: datetime
) -> AgencyReport:
    """Gather the report of one agency from the store (the figures are the coverage engine's)."""
    report = coverage.compute(session, as_of, [agency_id])[0]
    program = PROGRAMS[report.program]
    credits = read_credits(session, program, agency_id, as_of)
    history, earlier = gather(session, report, credits)
    trained_recently, crisis_recently = progress(earlier, report.counts)
    people = standing(session, credits, agency_id, as_of)
    names = [s.name for s in settings.sources if s.agency in (None, agency_id)]
    return AgencyReport(
        coverage=report,
        program=program,
        requirements=requirements(session, report),
        trained_recently=trained_recently,
        crisis_recently=crisis_recently,
        trend=history,
        needs=needs(people, report, program),
        sources=source_health(session, settings.schedule_zone, names),
        flag_after=settings.reports.flag_failing_after,
        generated_at=now,
    )


def progress(before: Counts, now: Counts) -> tuple[int, int]:
    """(more people trained, more officers crisis-trained) since `before`: both counts are of
    today's population, the people whose rate of the last 90 days the projection follows;
    net of credentials that lapsed meanwhile, never below zero."""
    trained = now.sworn_trained + now.nonsworn_trained
    earlier = before.sworn_trained + before.nonsworn_trained
    return max(0, trained - earlier), max(0, now.sworn_crisis - before.sworn_crisis)


def requirements(session: Session, report: CoverageReport) -> list[Requirement]:
    """The four pledge requirements with the numbers or evidence behind each."""
    c = report.counts
    evidence = _attestations(session, report.agency, report.as_of)
    details = {
        "partnership": evidence.get("partnership", "no attestation recorded"),
        "policy": evidence.get("policy", "no attestation recorded"),
        "crisis_20": (
            f"{c.sworn_crisis} of {c.sworn_total} sworn officers "
            f"({percent(c.sworn_crisis, c.sworn_total)}); {report.crisis_needed} needed"
            + (f", {crisis_missing(report)} more" if crisis_missing(report) else "")
        ),
        "all_trained": (
            f"{c.sworn_trained} of {c.sworn_total} sworn officers, "
            f"{c.nonsworn_trained} of {c.nonsworn_total} selected non-sworn staff"
        ),
    }
    met = {
        "partnership": report.partnership,
        "policy": report.policy,
        "crisis_20": report.crisis_20,
        "all_trained": report.all_trained,
    }
    return [Requirement(key, label, met[key], details[key]) for key, label in REQUIREMENTS]


def _attestations(session: Session, agency_id: str, as_of: date) -> dict[str, str]:
    """The latest attestation of each kind on or before the date, as 'attested on …: evidence'."""
    rows = session.scalars(
        select(Attestation)
        .where(
            Attestation.agency_id == agency_id,
            Attestation.attested_on <= as_of,
            Attestation.rejected_at.is_(None),
        )
        .order_by(Attestation.attested_on)
    )
    found = {}
    for row in rows:
        text = f"attested {row.attested_on.isoformat()}"
        found[row.kind] = f"{text}: {row.evidence}" if row.evidence else text
    return found


def percent(part: int, whole: int) -> str:
    return "n/a" if whole == 0 else f"{100 * part / whole:.1f} %"


def outlook(report: CoverageReport) -> str:
    """Deadline and projected completion at the last 90 days' training rate."""
    if report.status == "no-sworn-officers":
        return "No active sworn officers on the roster: the percentages cannot be assessed."
    due = f"deadline {report.deadline.isoformat()}" if report.deadline else "no pledge date"
    projected = report.projected_completion
    if report.complete:
        return f"All four requirements are met ({due})."
    if projected is None:
        return (
            f"Training would not be completed at the current rate: no net progress in the last "
            f"{RATE_WINDOW_DAYS} days ({due})."
        )
    if projected <= report.as_of:
        return f"Training requirements are met; attestations are outstanding ({due})."
    rate = f"At the last {RATE_WINDOW_DAYS} days' training rate, training would be completed by"
    if report.deadline is None:
        return f"{rate} {projected.isoformat()} ({due})."
    side = "after" if projected > report.deadline else "before"
    return f"{rate} {projected.isoformat()}, {side} the {due}."


def standing(session: Session, credits: Credits, agency_id: str, as_of: date) -> list[Standing]:
    """Everyone in the agency's population at `as_of` (the date `credits` were read for),
    ordered by name, trained and crisis-trained by the engine's rules: the verdicts
    `onemind coverage --explain` gives record by record."""
    program = credits.program
    people: dict[int, Standing] = {}
    rows = session.execute(_people_query(program.id), {"as_of": as_of, "agency": agency_id})
    for row in rows:
        if row.id in people:
            continue  # a second employment: the sworn one came first
        held = credits.tiers(row.id, as_of)
        people[row.id] = Standing(
            f"{row.first_name} {row.last_name}",
            row.employee_id,
            role(row.sworn, row.selected, row.position),
            trained=bool(held & program.trained_tiers),
            crisis=credits.sworn[row.id] and CRISIS in held,
        )
    return list(people.values())


@lru_cache(maxsize=len(PROGRAMS))
def _people_query(program_id: str) -> Select[Any]:
    """Built once per program, the date and agency as parameters."""
    agency = select(Agency.id).where(Agency.id == bindparam("agency"))
    return people_in(
        coverage.population(PROGRAMS[program_id], bindparam("as_of", type_=Date), agency)
    )


def role(sworn: bool, selected: bool | None, position: str) -> str:
    """How the report names a person's place in the population."""
    if sworn:
        return "sworn"
    if selected:
        return "non-sworn, selected on the roster"
    return f"non-sworn, position {position!r} in scope"


def needs(people: list[Standing], report: CoverageReport, program: Program) -> list[Need]:
    """Who is not trained per the program, and sworn officers without crisis training while
    the 20 % is unmet; each with the training that would count for them."""
    crisis_open = report.crisis_20 is False
    out = []
    for person in people:
        sworn = person.role == "sworn"
        training = not person.trained
        crisis = sworn and crisis_open and not person.crisis
        if not (training or crisis):
            continue
        wanted = ([trained_need(program, sworn)] if training else []) + (
            [crisis_need(report)] if crisis else []
        )
        out.append(
            Need(person.name, person.employee_id, person.role, training, crisis, tuple(wanted))
        )
    return out


def trained_need(program: Program, sworn: bool) -> str:
    """The training that makes this person count as trained under the program."""
    options = ["MHFA"]
    if not sworn:
        options.append("CIT for telecommunicators")
    if CRISIS in program.trained_tiers:
        options += ["CIT", "CRIT"]
    listed = options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
    return f"mental-health training: {listed} (or an approved equivalent)"


def crisis_missing(report: CoverageReport) -> int:
    """How many more sworn officers must be crisis-trained for the 20 % rule."""
    return max(0, report.crisis_needed - report.counts.sworn_crisis)


def crisis_need(report: CoverageReport) -> str:
    """Said of each officer without crisis training: only some of them are needed."""
    return (
        f"crisis-intervention training (CIT/CRIT or equivalent): "
        f"{crisis_missing(report)} more officer(s) needed, any of those listed"
    )
