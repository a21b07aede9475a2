"""What an agency's report says, gathered from the coverage engine and its explanations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.domain.categories import CRISIS
from onemind.domain.programs import PROGRAMS, RATE_WINDOW_DAYS, Program, gaps
from onemind.reports.trend import Trend, gather
from onemind.store import coverage
from onemind.store.coverage import CoverageReport
from onemind.store.explain import PersonExplanation, explain_agency
from onemind.store.history import SourceHealth, source_health
from onemind.store.models import Attestation

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
    history, earlier = gather(session, report)
    before = gaps(program, earlier)
    after = gaps(program, report.counts)
    people = explain_agency(session, agency_id, as_of)
    names = [s.name for s in settings.sources if s.agency in (None, agency_id)]
    return AgencyReport(
        coverage=report,
        program=program,
        requirements=requirements(session, report),
        trained_recently=max(0, before[0] - after[0]),
        crisis_recently=max(0, before[1] - after[1]),
        trend=history,
        needs=needs(people, report, program),
        sources=source_health(session, settings.schedule_zone, names),
        flag_after=settings.reports.flag_failing_after,
        generated_at=now,
    )


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
        .where(Attestation.agency_id == agency_id, Attestation.attested_on <= as_of)
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


def needs(people: list[PersonExplanation], report: CoverageReport, program: Program) -> list[Need]:
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
