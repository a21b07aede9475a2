"""Scale benchmark: coverage recompute on SQLite and PostgreSQL, and a large CSV sync.

Builds a synthetic national store (agencies, people, employments, classified completions) with
bulk Core inserts, times `coverage.compute` + `save_snapshots` for every agency in one
transaction on each backend, then times `onemind sync` of a completions CSV (a child process,
wall time and peak RSS), twice: the second run reads an unchanged file.

Run it from the repository root; try it small first:

    .venv/bin/python bench/coverage.py --agencies 200 --people 8000 --completions 20000 \
        --csv-rows 10000 --skip-postgres

Full size (the defaults) takes several minutes; output goes to bench/out/.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from onemind.config.model import Settings
from onemind.domain.categories import add_months, valid_until
from onemind.domain.rules import CourseFacts, Rule, candidates, decide
from onemind.store import coverage
from onemind.store.bootstrap import apply_settings
from onemind.store.classify import load_rules
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.linking import unlinked_count
from onemind.store.models import (
    Agency,
    Attestation,
    Category,
    Classification,
    Completion,
    Employment,
    Person,
    PersonIdentifier,
    QuarantinedRecord,
    RawRecord,
    Source,
)
from onemind.store.roster import position_key

OUT = Path(__file__).resolve().parent / "out"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
AS_OF = date(2026, 11, 26)
FIRST_DAY = date(2019, 1, 1)
SEED_SOURCE = 1
CSV_SOURCE = "bench-csv"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "onemind_bench"
BACKENDS = ("sqlite", "postgresql")

FIRST_NAMES = ("James", "Maria", "Robert", "Linda", "Michael", "Ana", "David", "Keisha", "Wei")
FIRST_NAMES += ("Jose", "Sarah", "Daniel", "Aisha", "Thomas", "Emily", "Carlos", "Nicole", "Omar")
LAST_NAMES = ("Smith", "Johnson", "Garcia", "Brown", "Nguyen", "Miller", "Davis", "Rodriguez")
LAST_NAMES += ("Martinez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Lee", "Walker")
SWORN_POSITIONS = ("Patrol Officer", "Sergeant", "Lieutenant", "Detective", "Deputy Sheriff")
DISPATCH_POSITIONS = ("Dispatcher", "Telecommunicator II", "911 Call-Taker")
OTHER_POSITIONS = ("Records Clerk", "Evidence Technician", "Crime Analyst", "Administrative Aide")
PROVIDERS = ("State Academy", "NAMI", "Regional Training Center", "Online LMS")


@dataclass(frozen=True, slots=True)
class Course:
    key: str
    title: str
    hours: float
    weight: int


CATALOGUE = (
    Course("CIT-40", "Crisis Intervention Team (CIT) 40-hour Basic Course", 40, 16),
    Course("CIT-MEM", "CIT Memphis Model Training", 40, 6),
    Course("CRIT-BJA", "Crisis Response and Intervention Training (CRIT)", 40, 5),
    Course("MHFA-PS", "Mental Health First Aid for Public Safety", 8, 20),
    Course("MHFA-ADULT", "Adult Mental Health First Aid", 8, 8),
    Course("CIT-911", "CIT for 911 Telecommunicators", 16, 3),
    Course("CIT-REF", "CIT Refresher In-Service Update", 4, 8),
    Course("MH-AWARE", "Mental Health Awareness Roll Call", 1, 6),
    Course("CIT-8", "Crisis Intervention Training overview", 8, 4),
    Course("DEESC-8", "De-escalation Tactics", 8, 10),
    Course("FIREARMS", "Firearms Qualification", 4, 10),
    Course("EVOC", "Emergency Vehicle Operations", 16, 4),
)
COURSE_WEIGHTS = [c.weight for c in CATALOGUE]


# ---------------------------------------------------------------- the synthetic world


@dataclass
class World:
    """Who works where; everything else is derived from ids and seeded generators."""

    seed: int
    agencies: list[str]
    person_agency: list[int]
    laterals: dict[int, int]
    candidates: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    validity: dict[str, int | None] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return len(self.person_agency)


def employee_id(pid: int) -> str:
    return f"E{pid:07d}"


def lateral_employee_id(pid: int) -> str:
    return f"L{pid:07d}"


def names(pid: int) -> tuple[str, str]:
    return FIRST_NAMES[pid % len(FIRST_NAMES)], LAST_NAMES[(pid * 7919) % len(LAST_NAMES)]


def email(pid: int) -> str:
    first, last = names(pid)
    return f"{first}.{last}.{pid}@mail.example".lower()


def random_day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def build_world(args: argparse.Namespace) -> World:
    rng = random.Random(args.seed)
    agencies = [f"agency-{i:05d}" for i in range(args.agencies)]
    weights = [rng.lognormvariate(0, 1.2) for _ in agencies]
    total = sum(weights)
    for i, share in enumerate((0.04, 0.015, 0.012, 0.01, 0.008)[: len(agencies) // 100]):
        weights[i] = total * share
    person_agency = rng.choices(range(len(agencies)), weights=weights, k=args.people)
    lateral_count = args.people // 200 if len(agencies) > 1 else 0
    chosen = rng.sample(range(1, args.people + 1), lateral_count)
    laterals = {pid: _other_agency(rng, person_agency[pid - 1], len(agencies)) for pid in chosen}
    return World(args.seed, agencies, person_agency, laterals)


def _other_agency(rng: random.Random, current: int, count: int) -> int:
    other = rng.randrange(count - 1)
    return other if other < current else other + 1


# ---------------------------------------------------------------- rows


def agency_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 1)
    for number, agency_id in enumerate(world.agencies):
        pledged = random_day(rng, FIRST_DAY, date(2025, 12, 31)) if rng.random() < 0.75 else None
        yield {
            "id": agency_id,
            "name": f"Town {number} Police Department",
            "program": "one-mind-2016" if rng.random() < 0.2 else "one-mind",
            "pledged_on": pledged,
            "deadline_months": rng.choice((12, 24, 36)),
            "report_to": [],
        }


def attestation_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 2)
    for agency_id in world.agencies:
        for kind, share in (("partnership", 0.5), ("policy", 0.35)):
            if rng.random() < share:
                yield {
                    "agency_id": agency_id,
                    "kind": kind,
                    "attested_on": random_day(rng, FIRST_DAY, AS_OF),
                    "evidence": "https://example.org/evidence",
                    "recorded_by": "bench",
                    "recorded_at": NOW,
                }


def person_rows(world: World) -> Iterator[dict[str, Any]]:
    for pid in range(1, world.people + 1):
        first, last = names(pid)
        yield {
            "id": pid,
            "first_name": first,
            "last_name": last,
            "email": email(pid),
            "created_at": NOW,
        }


def identifier_rows(world: World) -> Iterator[dict[str, Any]]:
    for pid in range(1, world.people + 1):
        yield {"person_id": pid, "kind": "email", "value": email(pid), "source_id": None}


def employment_rows(world: World) -> Iterator[dict[str, Any]]:
    rng = random.Random(world.seed + 3)
    extra = world.people
    for pid, agency in enumerate(world.person_agency, start=1):
        row = _employment(rng, pid, world.agencies[agency], employee_id(pid))
        second = world.laterals.get(pid)
        if second is None:
            yield row
            continue
        left = random_day(rng, date(2019, 6, 1), date(2026, 6, 30))
        row["separated_on"] = left
        yield row
        extra += 1
        lateral = _employment(rng, extra, world.agencies[second], lateral_employee_id(pid))
        lateral.update(person_id=pid, hired_on=left + timedelta(days=rng.randint(1, 60)))
        lateral["separated_on"] = None
        yield lateral


def _employment(rng: random.Random, row_id: int, agency: str, emp_id: str) -> dict[str, Any]:
    sworn = rng.random() < 0.85
    position, selected = _position(rng, sworn)
    hired = random_day(rng, date(1992, 1, 1), date(2026, 10, 31))
    separated = None
    if rng.random() < 0.07:
        separated = random_day(rng, hired, max(hired, date(2026, 11, 20)))
    return {
        "id": row_id,
        "person_id": row_id,
        "agency_id": agency,
        "employee_id": emp_id,
        "sworn": sworn,
        "position": position,
        "position_key": position_key(position),
        "selected": selected,
        "hired_on": hired,
        "separated_on": separated,
        "raw_record_id": None,
    }


def _position(rng: random.Random, sworn: bool) -> tuple[str, bool | None]:
    """A position and the roster's `selected` flag (None: blank, decided by the position)."""
    if sworn:
        return rng.choice(SWORN_POSITIONS), None
    if rng.random() < 0.45:
        return rng.choice(DISPATCH_POSITIONS), None
    return rng.choice(OTHER_POSITIONS), True if rng.random() < 0.15 else None


@dataclass(frozen=True, slots=True)
class Fact:
    """One stored completion: its id doubles as its raw record's id."""

    id: int
    person_id: int | None
    who: str
    course: Course
    completed_on: date
    expires_on: date | None
    voided: bool


def facts(world: World, count: int) -> Iterator[Fact]:
    rng = random.Random(world.seed + 4)
    for cid in range(1, count + 1):
        pid = rng.randint(1, world.people)
        course = rng.choices(CATALOGUE, weights=COURSE_WEIGHTS)[0]
        done = random_day(rng, FIRST_DAY, AS_OF)
        expires = (
            add_months(done, 36) if course.key.startswith("MHFA") and rng.random() < 0.1 else None
        )
        linked = rng.random() >= 0.005
        who = employee_id(pid) if linked else f"U{cid:08d}"
        voided = rng.random() < 0.002
        yield Fact(cid, pid if linked else None, who, course, done, expires, voided)


def raw_row(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "source_id": SEED_SOURCE,
        "external_id": f"seed:{fact.id}",
        "kind": "completion",
        "location": f"seed.csv:{fact.id}",
        "payload": {"n": fact.id},
        "payload_hash": "0" * 64,
        "first_seen": NOW,
        "last_seen": NOW,
        "first_run_id": None,
        "last_run_id": None,
    }


def completion_row(fact: Fact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "raw_record_id": fact.id,
        "source_id": SEED_SOURCE,
        "person_id": fact.person_id,
        "agency_hint": None,
        "employee_id": fact.who,
        "email": None,
        "mbox_sha1sum": None,
        "account": None,
        "course_key": fact.course.key,
        "course_title": fact.course.title,
        "activity_type": None,
        "provider": PROVIDERS[fact.id % len(PROVIDERS)],
        "hours": fact.course.hours,
        "completed_on": fact.completed_on,
        "expires_on": fact.expires_on,
        "voided": fact.voided,
    }


def classification_row(world: World, fact: Fact) -> dict[str, Any]:
    rule = decide(world.candidates[fact.course.key], fact.completed_on)
    category = rule.category if rule else None
    months = world.validity.get(category) if category else None
    until = valid_until(fact.completed_on, fact.expires_on, months) if category else None
    return {
        "completion_id": fact.id,
        "category_id": category,
        "rule_id": rule.id if rule else None,
        "rule_version": rule.version if rule else None,
        "valid_until": until,
        "classified_at": NOW,
    }


# ---------------------------------------------------------------- loading


@dataclass
class Target:
    name: str
    engine: Engine
    load_seconds: float = 0.0


def chunked(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def connections(targets: Sequence[Target]) -> Iterator[list[tuple[Target, Connection]]]:
    """One transaction per target, committed together at the end of the block."""
    with ExitStack() as stack:
        yield [(t, stack.enter_context(t.engine.begin())) for t in targets]


def insert_all(
    open_: list[tuple[Target, Connection]], table: Table, rows: list[dict[str, Any]]
) -> None:
    for target, connection in open_:
        start = perf_counter()
        connection.execute(table.insert(), rows)
        target.load_seconds += perf_counter() - start


def load_table(
    targets: Sequence[Target], table: Table, rows: Iterable[dict[str, Any]], size: int
) -> int:
    count = 0
    with connections(targets) as open_:
        for batch in chunked(rows, size):
            insert_all(open_, table, batch)
            count += len(batch)
    return count


def load_completions(targets: Sequence[Target], world: World, count: int, size: int) -> None:
    """Raw record, completion and classification rows, chunk by chunk in FK order."""
    with connections(targets) as open_:
        for batch in chunked(facts(world, count), size):
            insert_all(open_, RawRecord.__table__, [raw_row(f) for f in batch])
            insert_all(open_, Completion.__table__, [completion_row(f) for f in batch])
            rows = [classification_row(world, f) for f in batch]
            insert_all(open_, Classification.__table__, rows)


def prepare_schema(target: Target) -> None:
    """Migrations, built-in categories and rules, and the source the seeded rows came from."""
    upgrade(target.engine)
    with transaction(session_factory(target.engine)) as session:
        apply_settings(session, Settings(), NOW)
        session.execute(
            Source.__table__.insert(), [{"id": SEED_SOURCE, "name": "bench-seed", "kind": "csv"}]
        )


def decide_courses(target: Target, world: World) -> None:
    """Find each catalogue course's candidate rules once, exactly as `classify_pending` does."""
    with transaction(session_factory(target.engine)) as session:
        rules = load_rules(session)
        world.validity = dict(session.execute(select(Category.id, Category.validity_months)).all())
    for course in CATALOGUE:
        described = CourseFacts(SEED_SOURCE, course.key, course.title, course.hours)
        found = candidates(rules, described)
        known = world.candidates.setdefault(course.key, found)
        if [r.id for r in known] != [r.id for r in found]:
            raise RuntimeError(f"{target.name}: rules differ from the first backend's")


def load_world(targets: Sequence[Target], world: World, args: argparse.Namespace) -> None:
    size = args.chunk
    for target in targets:
        prepare_schema(target)
        decide_courses(target, world)
    deciding = {k: decide(v, AS_OF) for k, v in world.candidates.items()}
    print("course decisions:", {k: r.category if r else None for k, r in deciding.items()})
    steps: list[tuple[Table, Iterable[dict[str, Any]]]] = [
        (Agency.__table__, agency_rows(world)),
        (Attestation.__table__, attestation_rows(world)),
        (Person.__table__, person_rows(world)),
        (PersonIdentifier.__table__, identifier_rows(world)),
        (Employment.__table__, employment_rows(world)),
    ]
    for table, rows in steps:
        start = perf_counter()
        count = load_table(targets, table, rows, size)
        print(f"  loaded {count:>9} {table.name} rows in {perf_counter() - start:.1f} s")
    start = perf_counter()
    load_completions(targets, world, args.completions, size)
    print(
        f"  loaded {args.completions:>9} completions (+raw, +classification) "
        f"in {perf_counter() - start:.1f} s"
    )


def finish_postgres(target: Target) -> None:
    """Move the id sequences past the explicit ids, then ANALYZE."""
    with target.engine.begin() as connection:
        for table in ("source", "person", "employment", "raw_record", "completion"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        start = perf_counter()
        connection.execute(text("ANALYZE"))
        print(f"  postgresql ANALYZE: {perf_counter() - start:.1f} s")


# ---------------------------------------------------------------- coverage timing


def time_coverage(target: Target) -> tuple[float, list[coverage.CoverageReport]]:
    """All agencies, computed and snapshotted in one transaction (commit included)."""
    start = perf_counter()
    with transaction(session_factory(target.engine)) as session:
        reports = coverage.compute(session, AS_OF)
        coverage.save_snapshots(session, reports, NOW)
    return perf_counter() - start, reports


def summary(reports: Sequence[coverage.CoverageReport]) -> str:
    statuses = Counter(r.status for r in reports)
    sworn = sum(r.counts.sworn_total for r in reports)
    crisis = sum(r.counts.sworn_crisis for r in reports)
    trained = sum(r.counts.sworn_trained for r in reports)
    nonsworn = sum(r.counts.nonsworn_total for r in reports)
    return (
        f"sworn {sworn}, crisis {crisis}, trained {trained}, selected non-sworn {nonsworn}, "
        f"statuses {dict(sorted(statuses.items()))}"
    )


def bench_coverage(target: Target, repeat: int) -> list[dict[str, Any]]:
    reports: list[coverage.CoverageReport] = []
    for attempt in range(1, repeat + 1):
        seconds, reports = time_coverage(target)
        label = "" if attempt == 1 else f" (run {attempt})"
        print(f"{target.name} coverage recompute{label}: {seconds:.1f} s ({len(reports)} agencies)")
    print(f"  {target.name} figures: {summary(reports)}")
    return [r.to_json() for r in reports]


# ---------------------------------------------------------------- postgres lifecycle


@contextmanager
def postgres_database(admin_url: str, name: str, keep: bool = False) -> Iterator[str]:
    """A throwaway database, dropped on the way out (unless `keep`) whatever happens."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(drop)
        admin.dispose()


# ---------------------------------------------------------------- CSV sync through the CLI


def write_csv(path: Path, world: World, rows: int) -> None:
    rng = random.Random(world.seed + 5)
    seen: set[tuple[str, str, date]] = set()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "employee_id",
                "email",
                "course_id",
                "course_title",
                "provider",
                "hours",
                "completed_on",
                "expires_on",
            )
        )
        while len(seen) < rows:
            row = _csv_row(rng, world)
            key = (row[0] or row[1], row[2], row[6])
            if key not in seen:
                seen.add(key)
                writer.writerow(row)


def _csv_row(rng: random.Random, world: World) -> tuple[Any, ...]:
    pid = rng.randint(1, world.people)
    course = rng.choices(CATALOGUE, weights=COURSE_WEIGHTS)[0]
    done = random_day(rng, FIRST_DAY, AS_OF)
    expires = add_months(done, 36) if course.key.startswith("MHFA") and rng.random() < 0.1 else ""
    pick = rng.random()
    emp, mail = employee_id(pid), email(pid)
    if pick < 0.70:
        mail = ""
    elif pick < 0.95:
        emp = ""
    elif pick < 0.99:
        mail = mail.upper()
    else:
        emp, mail = f"X{pid:07d}", ""
    provider = rng.choice(PROVIDERS)
    return (emp, mail, course.key, course.title, provider, course.hours, done, expires)


def write_config(path: Path, store_url: str, csv_path: Path) -> None:
    path.write_text(
        "[store]\n"
        f'url = "{store_url}"\n\n'
        "[[sources]]\n"
        f'name = "{CSV_SOURCE}"\n'
        'kind = "csv"\n'
        'role = "completions"\n'
        f'path = "{csv_path}"\n',
        encoding="utf-8",
    )


LAUNCHER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "w") as log:
    code = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
seconds = time.perf_counter() - start
print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code]))
"""


def run_child(command: list[str], log: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, exit code of `command`.

    Measured by a tiny stdlib-only launcher: on Linux a child's ru_maxrss starts from its
    parent's peak at fork/exec time, so forking from this (large) process would inflate it.
    """
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(log), *command]
    result = subprocess.run(launcher, capture_output=True, text=True, check=True)
    seconds, rss_kib, code = json.loads(result.stdout)
    return seconds, rss_kib / 1024, code


def onemind(config: Path, *args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("onemind")), "--config", str(config), *args]


def sync_command(config: Path, profile: Path | None) -> list[str]:
    args = ["sync", CSV_SOURCE, "--as-of", AS_OF.isoformat()]
    if profile is None:
        return onemind(config, *args)
    profiler = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "onemind"]
    return [*profiler, "--config", str(config), *args]


def time_sync(config: Path, label: str, profile: Path | None) -> None:
    log = OUT / f"sync-{config.stem}-{label.split()[0]}.log"
    seconds, rss, code = run_child(sync_command(config, profile), log)
    note = "" if code == 0 else f" EXIT {code}, see {log}"
    print(f"{config.stem} csv sync {label}: {seconds:.1f} s, peak RSS {rss:.0f} MB{note}")


def sync_counts(engine: Engine) -> str:
    with transaction(session_factory(engine)) as session:
        source = select(Source.id).where(Source.name == CSV_SOURCE).scalar_subquery()
        taken = session.scalar(select(func.count()).where(Completion.source_id == source))
        held = session.scalar(select(func.count()).where(QuarantinedRecord.source_id == source))
        return f"{taken} completions stored, {held} quarantined, {unlinked_count(session)} unlinked"


def bench_csv(targets: Sequence[Target], urls: Sequence[str], args: argparse.Namespace) -> None:
    """The same CSV synced into each backend's store (the SQLite one with a profile if asked)."""
    csv_path = OUT / "completions.csv"
    start = perf_counter()
    write_csv(csv_path, build_world(args), args.csv_rows)
    print(f"  wrote {args.csv_rows} CSV rows in {perf_counter() - start:.1f} s")
    for target, url in zip(targets, urls, strict=True):
        config = OUT / f"{target.name}.toml"
        write_config(config, url, csv_path)
        subprocess.run(onemind(config, "init"), check=True, capture_output=True)
        profile = OUT / "sync.prof" if args.profile and target.name == "sqlite" else None
        time_sync(config, f"first run ({args.csv_rows} rows)", profile)
        print(f"  after sync: {sync_counts(target.engine)}")
        time_sync(config, "second run (unchanged file)", None)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=18_000)
    parser.add_argument("--people", type=int, default=800_000)
    parser.add_argument("--completions", type=int, default=2_000_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per executemany")
    parser.add_argument("--repeat", type=int, default=2, help="coverage recomputes per backend")
    parser.add_argument("--profile", action="store_true", help="cProfile the first sync")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip loading: time coverage and the sync on the existing bench/out/bench.db "
        "(SQLite only; pass the same sizes and seed it was built with)",
    )
    parser.add_argument("--keep-postgres", action="store_true", help="leave onemind_bench")
    return parser.parse_args(argv)


def fresh_sqlite() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def compare(results: dict[str, list[dict[str, Any]]]) -> None:
    if len(results) < 2:
        return
    first, *others = results.values()
    same = all(other == first for other in others)
    print(f"backends agree on every agency's figures: {'yes' if same else 'NO'}")


def run(args: argparse.Namespace, pg_url: str | None) -> None:
    database = OUT / "bench.db" if args.reuse else fresh_sqlite()
    urls = [f"sqlite:///{database}"] + ([] if pg_url is None else [pg_url])
    targets = [Target(name, make_engine(url)) for name, url in zip(BACKENDS, urls, strict=False)]
    world = build_world(args)
    if not args.reuse:
        populate(targets, world, args)
    compare({t.name: bench_coverage(t, args.repeat) for t in targets})
    if not args.skip_csv:
        bench_csv(targets, urls, args)
    for target in targets:
        target.engine.dispose()


def populate(targets: Sequence[Target], world: World, args: argparse.Namespace) -> None:
    print(
        f"generating and loading: {args.agencies} agencies, {args.people} people "
        f"({len(world.laterals)} lateral hires), {args.completions} completions"
    )
    load_world(targets, world, args)
    for target in targets:
        print(f"  {target.name} insert time: {target.load_seconds:.1f} s")
        if target.name == "postgresql":
            finish_postgres(target)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.skip_postgres or args.reuse:
        run(args, None)
        return
    with postgres_database(args.pg_admin_url, PG_DATABASE, args.keep_postgres) as pg_url:
        run(args, pg_url)


if __name__ == "__main__":
    main()
