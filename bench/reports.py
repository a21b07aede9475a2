"""One agency's report (HTML, PDF, CSV) in a warm process, against its floors.

Builds a realistic agency through the real sync (a roster CSV of 300 people, two years of
completion records), in a temporary SQLite store and in a throwaway PostgreSQL database, and on
each renders the report once to warm up, then N times, and prints the median and 95th
percentile of each part, wall clock and CPU:

    data   gathering what the report says (coverage, history, who needs training)
    chart  the chart's geometry and its SVG
    html   the template (chart inline)
    pdf    the same content laid out for print by ReportLab
    csv    the people who still need training
    total  `render_agency`: all of it, as the hub does it for each agency

beside the floors measured in the same run: reading the agency's rows with plain SELECTs, the
PDF library writing a one-line page in the same font, and writing the three files' bytes;
then whether the target (at most 100 ms per report, median) is met. Both stores are
loaded from the same files, and their reports must say the same.

    .venv/bin/python bench/reports.py [--people 300] [--runs 30] [--backend sqlite]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import perf_counter, process_time

from hubload import BACKENDS, PG_ADMIN, store_url
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from onemind.config import Settings, parse_settings
from onemind.reports import render
from onemind.reports.agency_pdf import agency_pdf
from onemind.reports.content import AgencyReport, agency_report
from onemind.reports.pdf import REGULAR, Document, Run
from onemind.reports.rendered import Rendered, render_agency, write
from onemind.store.db import make_engine, session_factory, upgrade
from onemind.store.models import Completion, Employment, Person
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
PLEDGED = date(2025, 1, 15)
AGENCY = "bench-pd"
FIRST_NAMES = ("James", "Maria", "Robert", "Zoë", "Michael", "Ana", "David", "Keisha", "Wei")
LAST_NAMES = ("Smith", "García", "Nguyen", "Łukasiewicz", "Miller", "O'Brien", "Davis", "Lee")
COURSES = (
    ("CIT-40", "Crisis Intervention Team (CIT) 40-hour Basic Course", 40),
    ("MHFA-PS", "Mental Health First Aid for Public Safety", 8),
    ("MHFA-ADULT", "Adult Mental Health First Aid", 8),
    ("CIT-911", "CIT for 911 Telecommunicators", 16),
    ("FIREARMS", "Firearms Qualification", 4),
    ("EVOC", "Emergency Vehicle Operations", 16),
)
CONFIG = """
[store]
url = "{url}"

[[agencies]]
id = "bench-pd"
name = "Bench County Police Department"
pledged_on = {pledged}
deadline_months = 36
partnership_on = 2025-06-01

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "{folder}/roster.csv"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "{folder}/completions.csv"
"""


def write_data(folder: Path, people: int, seed: int) -> int:
    """A roster (90 % sworn) and two years of completions; returns the number of records."""
    rng = random.Random(seed)
    roster = ["agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"]
    records = ["employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on"]
    roster[0] += "separated_on"
    for number in range(1, people + 1):
        sworn = rng.random() < 0.9
        position = "Patrol Officer" if sworn else rng.choice(("Dispatcher", "Records Clerk"))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        hired = date(2010, 1, 1) + timedelta(days=rng.randrange(5000))
        roster.append(
            f"bench-pd,E{number:04d},{first},{last},p{number}@bench.example,"
            f"{str(sworn).lower()},{position},,{hired.isoformat()},"
        )
        for _ in range(rng.randint(0, 4)):
            key, title, hours = rng.choice(COURSES)
            done = AS_OF - timedelta(days=rng.randrange(730))
            records.append(f"E{number:04d},,{key},{title},State Academy,{hours},{done},")
    (folder / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    (folder / "completions.csv").write_text("\n".join(records) + "\n", encoding="utf-8")
    return len(records) - 1


def timed(function: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run, after one run to warm up."""
    function()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = perf_counter(), process_time()
        function()
        wall.append((perf_counter() - started) * 1000)
        cpu.append((process_time() - started_cpu) * 1000)
    return wall, cpu


def line(label: str, samples: tuple[list[float], list[float]]) -> str:
    wall, cpu = samples
    return (
        f"{label:<34} {statistics.median(wall):8.1f} {_p95(wall):8.1f}"
        f" {statistics.median(cpu):8.1f} {_p95(cpu):8.1f}"
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def build(folder: Path, url: str) -> tuple[Settings, Engine]:
    """The agency of the files in `folder`, in a new store at `url`, loaded by the real sync."""
    text = CONFIG.format(url=url, folder=folder, pledged=PLEDGED.isoformat())
    settings = parse_settings(tomllib.loads(text), folder / "onemind.toml", {})
    engine = make_engine(settings.store.url.get())
    upgrade(engine)
    assert SyncRunner(settings, session_factory(engine), lambda: NOW).run(as_of=AS_OF).ok
    return settings, engine


TARGET_MS = 100


def measure(session: Session, settings: Settings, out: Path, runs: int) -> bytes:
    """Print each part's figures; return the report's people CSV, to compare backends."""

    def gather() -> AgencyReport:
        return agency_report(session, settings, AGENCY, AS_OF, NOW)

    def whole() -> Rendered:
        return render_agency(session, settings, AGENCY, AS_OF, NOW)

    report = gather()
    chart = render.agency_chart(report)
    rendered = whole()
    rows: list[tuple[str, Callable[[], object]]] = [
        ("data (agency_report)", gather),
        ("chart (geometry + SVG)", lambda: render.chart_svg(render.agency_chart(report))),
        ("html (template, chart inline)", lambda: render.agency_html(report, chart)),
        ("pdf (ReportLab, same content)", lambda: agency_pdf(report, chart)),
        ("csv (people)", lambda: render.people_csv(report)),
        ("TOTAL render_agency (HTML+PDF+CSV)", whole),
        ("floor: SELECT the agency's rows", lambda: read_rows(session)),
        ("floor: one-line PDF, same font", one_line_pdf),
        ("floor: write the same bytes", lambda: write(rendered, out)),
    ]
    print(
        f"{len(report.needs)} still need training, {len(report.trend.points)} trend points, "
        f"PDF {len(rendered.files[f'{AGENCY}.pdf']) // 1024} KiB; {runs} runs"
    )
    print(f"{'ms':<34} {'median':>8} {'p95':>8} {'cpu med':>8} {'cpu p95':>8}")
    results = {}
    for label, function in rows:
        results[label] = timed(function, runs)
        print(line(label, results[label]))
    wall, cpu = results["TOTAL render_agency (HTML+PDF+CSV)"]
    floors = [label for label in results if label.startswith(("floor", "html"))]
    floor_cpu = sum(statistics.median(results[label][1]) for label in floors)
    print(
        f"the floors together (template, rows, one-line PDF, writing): {floor_cpu:.1f} ms CPU; "
        f"a report takes {statistics.median(cpu) / floor_cpu:.1f}x that"
    )
    print(verdict(statistics.median(wall), statistics.median(cpu)))
    return rendered.files[f"{AGENCY}-people.csv"]


def read_rows(session: Session) -> int:
    """The least the data part must do: read the agency's people and their completions."""
    people = session.execute(
        select(Person.id, Person.first_name, Person.last_name, Employment.sworn)
        .join(Employment, Employment.person_id == Person.id)
        .where(Employment.agency_id == AGENCY)
    ).all()
    done = session.execute(
        select(Completion.person_id, Completion.completed_on)
        .join(Employment, Employment.person_id == Completion.person_id)
        .where(Employment.agency_id == AGENCY)
    ).all()
    return len(people) + len(done)


def one_line_pdf() -> bytes:
    document = Document("floor", "floor", "floor")
    document.paragraph([Run("One Mind Pledge coverage", REGULAR)])
    return document.bytes()


def verdict(wall: float, cpu: float) -> str:
    """Whether the median report meets the target, by the wall clock and by CPU time (on a
    shared machine the wall clock includes waiting for a core)."""
    said = "met" if wall <= TARGET_MS else "NOT met"
    cpu_said = "met" if cpu <= TARGET_MS else "NOT met"
    return (
        f"target: at most {TARGET_MS} ms per report: {said} by the wall clock "
        f"(median {wall:.1f} ms), {cpu_said} in CPU time (median {cpu:.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=("both", *BACKENDS), default="both")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        records = write_data(folder, args.people, args.seed)
        said = {}
        for backend in backends:
            with store_url(backend, folder / "onemind.db", PG_DATABASE, args.pg_admin_url) as url:
                settings, engine = build(folder, url)
                print(f"{backend}: {args.people} people, {records} completion records; ", end="")
                with session_factory(engine)() as session:
                    said[backend] = measure(session, settings, folder / "out", args.runs)
                engine.dispose()
            print()
        if len(set(said.values())) > 1:
            raise SystemExit("the backends' reports differ")


PG_DATABASE = "onemind_bench_reports"


if __name__ == "__main__":
    main()
