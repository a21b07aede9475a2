"""Roster benchmark: a hub's roster (800,000 people in 18,000 agencies) loaded by the real sync.

Writes a roster CSV from bench/coverage.py's synthetic world, then on each backend:

- the floor: the same file read with `csv.reader` and its rows inserted into one indexed table
  in one transaction (`executemany` on SQLite, `COPY` on PostgreSQL), the least work a load
  of the file needs;
- the sync of the roster source (`SyncRunner.sync_source`): a first load, a rerun of the
  unchanged file, a rerun reading the unchanged file whole (`--full`), and a rerun of the file
  with 1 % of its rows changed (promotions, leavers, new addresses, new hires);
- after each, the one recomputation every sync ends with (`SyncRunner.finish`), timed apart;
- at the end, the schema's floor (`schema_floor`): the rows the store holds then, written again
  by the database alone.

Each sync runs in a process of its own; the peak resident memory of its load (before the
recomputation) is printed beside it: what the load holds, not what steps before it left behind.

Each figure is printed with its ratio to the floor of the same run, with the machine's load
average before and after; the store's counts after the first load and after the changed rerun
are checked against those the files call for (employments, people, identifiers), so a fast but
wrong load fails the run; and the stores the two backends end with are compared row for row (by
agency, employee id and email, not by ids). A table at the end sets floor and ours side by side.

    .venv/bin/python bench/roster.py --people 20000 --agencies 500 --skip-postgres
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hubdata import World, build_world
from hubload import OUT, PG_ADMIN, load_average, postgres_database
from rosterdata import changed_rows, expected_after, expected_first, roster_rows, write_roster
from schema_floor import schema_floor

from onemind.config.model import Settings
from onemind.store.bootstrap import apply_settings
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.models import Employment, Person, PersonIdentifier
from onemind.sync.runner import SourceResult, SyncRunner

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
AS_OF = NOW.date()
SOURCE = "hub-roster"
CHANGED = "rerun, 1 % of rows changed"
PG_DATABASE = "onemind_roster_bench"


# ---------------------------------------------------------------- the floor

FLOOR_TABLE = """CREATE TABLE floor_person (
    id INTEGER PRIMARY KEY, agency VARCHAR(64), employee_id VARCHAR(100),
    first_name VARCHAR(200), last_name VARCHAR(200), email VARCHAR(320), sworn BOOLEAN,
    position VARCHAR(200), selected BOOLEAN, hired_on DATE, separated_on DATE)"""
FLOOR_INDEXES = (
    "CREATE UNIQUE INDEX floor_person_key ON floor_person (agency, employee_id)",
    "CREATE INDEX floor_person_email ON floor_person (email)",
)


def floor(engine: Engine, path: Path) -> float:
    """Read the file with csv.reader and insert its rows into one indexed table, one transaction."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS floor_person")
        connection.exec_driver_sql(FLOOR_TABLE)
        for index in FLOOR_INDEXES:
            connection.exec_driver_sql(index)
    start = perf_counter()
    with engine.begin() as connection, path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [
            (
                n,
                a,
                e,
                f,
                la,
                m or None,
                s == "true",
                p,
                None if c == "" else c == "true",
                h,
                x or None,
            )
            for n, (a, e, f, la, m, s, p, c, h, x) in enumerate(reader, start=1)
        ]
        if engine.dialect.name == "postgresql":
            driver: Any = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy("COPY floor_person FROM STDIN") as pipe:
                for row in rows:
                    pipe.write_row(row)
        else:
            marks = ", ".join("?" * 11)
            connection.exec_driver_sql(f"INSERT INTO floor_person VALUES ({marks})", rows)
    seconds = perf_counter() - start
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE floor_person")
    return seconds


# ---------------------------------------------------------------- the counts in the store


def stored_counts(engine: Engine) -> tuple[int, int, int]:
    """Employments, people and person identifiers in the store."""
    with session_factory(engine)() as session:
        employments, people, identifiers = (
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Employment, Person, PersonIdentifier)
        )
    return employments, people, identifiers


def check_counts(label: str, stored: tuple[int, int, int], wanted: tuple[int, int, int]) -> str:
    """'ok', or exit naming what differs: a fast load that stores the wrong thing fails."""
    if stored != wanted:
        raise SystemExit(
            f"{label}: the store holds {stored} (employments, people, identifiers), "
            f"the files call for {wanted}"
        )
    return "ok"


# ---------------------------------------------------------------- the sync


def settings(world: World, path: Path, url: str) -> Settings:
    return Settings.model_validate(
        {
            "store": {"url": url},
            "agencies": [{"id": a, "name": a} for a in world.agencies],
            "sources": [{"name": SOURCE, "kind": "csv", "role": "roster", "path": str(path)}],
        }
    )


def timed_sync(config: Settings, full: bool) -> tuple[float, float, SourceResult, int]:
    """Seconds of the source's load and of the recomputation after it, and the peak resident
    memory in MB of the load, in a fresh process (the recomputation's is not counted)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_sync_in_a_process, config, full).result()


def _sync_in_a_process(config: Settings, full: bool) -> tuple[float, float, SourceResult, int]:
    engine = make_engine(config.store.url)
    runner = SyncRunner(config, session_factory(engine), _now)
    start = perf_counter()
    result = runner.sync_source(runner.settings.source(SOURCE), full)
    loaded = perf_counter()
    memory = peak_memory()
    if result.error:
        raise SystemExit(f"roster sync failed: {result.error}")
    runner.finish([result], AS_OF)
    seconds = loaded - start, perf_counter() - loaded
    engine.dispose()
    return *seconds, result, memory


def peak_memory() -> int:
    """The process's peak resident memory in MB: VmHWM, which, unlike `getrusage`'s maximum,
    does not carry over the parent's through the fork and exec that start the process."""
    with suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _now() -> datetime:
    return NOW


def store_digest(engine: Engine) -> tuple[int, int, str]:
    """Employments, people and identifiers, by natural keys: equal digests, equal stores."""
    sessions = session_factory(engine)
    digest = hashlib.sha256()
    with sessions() as session:
        first_job = {
            pid: key
            for pid, key in session.execute(
                select(
                    Employment.person_id, Employment.agency_id + ":" + Employment.employee_id
                ).order_by(Employment.agency_id.desc(), Employment.employee_id.desc())
            )
        }
        employments = session.execute(
            select(
                Employment.agency_id,
                Employment.employee_id,
                Employment.person_id,
                Employment.sworn,
                Employment.position,
                Employment.position_key,
                Employment.selected,
                Employment.hired_on,
                Employment.separated_on,
            ).order_by(Employment.agency_id, Employment.employee_id)
        ).all()
        for agency, emp, pid, *rest in employments:
            digest.update(repr((agency, emp, first_job[pid], *rest)).encode())
        people = session.execute(
            select(Person.id, Person.first_name, Person.last_name, Person.email)
        )
        for row in sorted((first_job.get(pid, ""), *rest) for pid, *rest in people):
            digest.update(repr(row).encode())
        identifiers = session.execute(
            select(PersonIdentifier.kind, PersonIdentifier.value, PersonIdentifier.person_id)
        )
        for row in sorted((k, v, first_job.get(p, "")) for k, v, p in identifiers):
            digest.update(repr(row).encode())
    return len(employments), len(first_job), digest.hexdigest()[:16]


def bench_backend(name: str, url: str, world: World, files: dict[str, Path]) -> dict[str, Any]:
    print(f"\n{name}: {load_average()}")
    engine = make_engine(url)
    upgrade(engine)
    floor_seconds = floor(engine, files["first"])
    print(f"  floor (csv.reader + one indexed table): {floor_seconds:.1f} s")
    config = settings(world, files["current"], url)
    sessions = session_factory(engine)
    start = perf_counter()
    with transaction(sessions) as session:
        apply_settings(session, config, NOW)
    print(f"  agencies configured (not counted below): {perf_counter() - start:.1f} s")
    figures: dict[str, Any] = {}
    wanted = {
        "first load": expected_first(files["first"]),
        CHANGED: expected_after(files["first"], files["changed"]),
    }
    steps = (
        ("first load", "first", False),
        ("rerun, unchanged file", "first", False),
        ("rerun, unchanged file read whole", "first", True),
        (CHANGED, "changed", False),
    )
    for label, which, full in steps:
        files["current"].write_bytes(files[which].read_bytes())
        load, recompute, result, memory = timed_sync(config, full)
        figures[label], figures[f"{label} memory"] = load, memory
        stats = result.stats
        print(
            f"  {label:34s} load {load:6.1f} s  ({load / floor_seconds:5.1f}x floor)"
            f"   recompute {recompute:5.1f} s   new {stats.new} updated {stats.updated}"
            f" quarantined {stats.quarantined}   load's peak memory {memory} MB"
        )
        if label in wanted:
            stored = stored_counts(engine)
            figures[f"{label} counts"] = check_counts(label, stored, wanted[label])
            print(f"    counts {stored} (employments, people, identifiers): as the files call for")
    employments, people, digest = store_digest(engine)
    print(f"  store: {employments} employments, {people} people with one, digest {digest}")
    engine.dispose()
    schema = schema_floor(url, "roster")
    first = figures["first load"]
    print(
        f"  schema floor: {schema:.1f} s, the store's rows written again by the database alone"
        f" (schema_floor.py; 1 % more rows than the first load's): {schema / floor_seconds:.1f}x"
        f" the floor; the first load {first / schema:.1f}x it"
    )
    print(f"  {load_average()}")
    return {"floor": floor_seconds, **figures, "digest": digest}


def summary(results: dict[str, dict[str, Any]], rows: int) -> None:
    """Floor and ours side by side, per backend."""
    print(
        f"\n{'backend':10s} {'floor':>8s} {'first load':>18s} {'1 % changed':>18s}"
        f" {'its load memory':>16s}  counts"
    )
    for name, r in results.items():
        floor_s = r["floor"]
        cells = [f"{r[k]:6.1f} s ({r[k] / floor_s:4.1f}x)" for k in ("first load", CHANGED)]
        counts = "ok" if r["first load counts"] == r[f"{CHANGED} counts"] == "ok" else "WRONG"
        memory = f"{r[f'{CHANGED} memory']} MB"
        line = f"{floor_s:6.1f} s {cells[0]:>18s} {cells[1]:>18s} {memory:>16s}"
        print(f"{name:10s} {line}  {counts}")
    print(f"({rows} rows; target: first load at most 3x the floor, 1 % changed rerun of")
    print(" 800,000 people under 15 s)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=18_000)
    parser.add_argument("--people", type=int, default=800_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of rows changed")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT, help="where the files go")
    parser.add_argument("--pg-database", default=PG_DATABASE)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    world = build_world(args)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = list(roster_rows(world))
    files = {k: args.out / f"roster-{k}.csv" for k in ("first", "changed", "current")}
    write_roster(files["first"], rows)
    write_roster(files["changed"], changed_rows(rows, args.changed, args.seed))
    print(
        f"roster: {len(rows)} rows, {world.people} people ({len(world.laterals)} lateral hires) "
        f"in {len(world.agencies)} agencies; {args.changed:.0%} of rows changed for the rerun"
    )
    database = args.out / "roster.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    results = {}
    with ExitStack() as stack:
        urls = {} if args.skip_sqlite else {"sqlite": f"sqlite:///{database}"}
        if not args.skip_postgres:
            urls["postgresql"] = stack.enter_context(
                postgres_database(args.pg_admin_url, args.pg_database)
            )
        for name, url in urls.items():
            results[name] = bench_backend(name, url, world, files)
    summary(results, len(rows))
    if len(results) > 1:
        digests = {r["digest"] for r in results.values()}
        print(f"\nbackends give the same store: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
