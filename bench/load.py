"""Completions-load benchmark: `onemind sync` of one CSV beside the floor, from the same run.

The floor is the least work the load needs, timed in a child process like ours:
SQLite, the file read with `csv.reader` and inserted into one indexed table in one
transaction; PostgreSQL, the file sent with COPY into one table. Ours is `onemind init` then
`onemind sync` of the file (wall time and peak RSS of the whole command), then a rerun of the
unchanged file, then the next night's export: the same rows, 1 % of them changed, half to other
hours and half as new completions appended (its counts are checked against the store). Ratios
are ours over the floor; the machine is shared, so only they count.
Then the schema's floor (`schema_floor`): the rows our load wrote, written again by the
database alone, which splits what ours takes beyond the floor into the schema's and the code's.
Wall time counts everything; CPU time, the client process alone (not a PostgreSQL server),
is steadier when other work competes for the cores.

Run it from the repository root; try it small first:

    .venv/bin/python bench/load.py --rows 20000 --pg-rows 20000

Full size (1,000,000 rows on SQLite, 2,000,000 on PostgreSQL) takes several minutes; the
CSV files are generated once into bench/out/ and reused.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from csvsync import write_csv
from hubdata import build_world
from hubload import load_average, postgres_database
from schema_floor import schema_floor
from sqlalchemy import func, select

from onemind.store.db import make_engine, session_factory, transaction
from onemind.store.models import Completion, QuarantinedRecord, Source

OUT = Path(__file__).resolve().parent / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CSV_SOURCE = "bench-csv"
AS_OF = date(2026, 11, 26)
NEXT_DAY = AS_OF + timedelta(days=1)
NIGHTLY = 0.01
"""The share of rows the next night's export changes: half changed, half new completions."""
CHANGED_HOURS = "99"
LAUNCHER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "w") as log:
    code = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
seconds = time.perf_counter() - start
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([seconds, used.ru_utime + used.ru_stime, used.ru_maxrss, code]))
"""
PG_DATABASE = "onemind_bench_bulkload_load"
PG_FLOOR_DATABASE = "onemind_bench_bulkload_floor"

SQLITE_FLOOR = """
import csv, sqlite3, sys
connection = sqlite3.connect(sys.argv[2])
connection.execute(
    "CREATE TABLE completion (id INTEGER PRIMARY KEY, employee_id TEXT, email TEXT, "
    "course_id TEXT, course_title TEXT, provider TEXT, hours TEXT, completed_on TEXT, "
    "expires_on TEXT)"
)
connection.execute(
    "CREATE INDEX ix_completion_key ON completion (employee_id, email, course_id, completed_on)"
)
with open(sys.argv[1], newline="", encoding="utf-8") as handle, connection:
    rows = csv.reader(handle)
    next(rows)
    connection.executemany(
        "INSERT INTO completion (employee_id, email, course_id, course_title, provider, hours, "
        "completed_on, expires_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
"""

POSTGRES_FLOOR = """
import psycopg, sys
with psycopg.connect(sys.argv[2]) as connection:
    connection.execute(
        "CREATE TABLE completion (id BIGSERIAL PRIMARY KEY, employee_id TEXT, email TEXT, "
        "course_id TEXT, course_title TEXT, provider TEXT, hours REAL, completed_on DATE, "
        "expires_on DATE)"
    )
    copy = (
        "COPY completion (employee_id, email, course_id, course_title, provider, hours, "
        "completed_on, expires_on) FROM STDIN (FORMAT csv, HEADER true)"
    )
    with open(sys.argv[1], "rb") as handle, connection.cursor().copy(copy) as pipe:
        while chunk := handle.read(1 << 20):
            pipe.write(chunk)
"""


Timing = tuple[float, float, float]
"""Wall seconds, CPU seconds of the process (not of a database server), peak RSS in MB."""


def run_child(command: list[str], log: Path) -> tuple[Timing, int]:
    """The timing and exit code of `command`, run by a tiny stdlib-only launcher (a child
    forked from this process would start from its peak RSS)."""
    launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(log), *command]
    result = subprocess.run(launcher, capture_output=True, text=True, check=True)
    seconds, cpu, rss_kib, code = json.loads(result.stdout)
    return (seconds, cpu, rss_kib / 1024), code


def onemind(config: Path, *args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("onemind")), "--config", str(config), *args]


def write_config(path: Path, store_url: str, csv_path: Path) -> None:
    source = f'name = "{CSV_SOURCE}"\nkind = "csv"\nrole = "completions"\npath = "{csv_path}"\n'
    path.write_text(f'[store]\nurl = "{store_url}"\n\n[[sources]]\n{source}', encoding="utf-8")


def completions_csv(rows: int, seed: int) -> Path:
    """The generated file of `rows` rows, written once per size and seed."""
    path = OUT / f"completions-{rows}-{seed}.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        world = argparse.Namespace(seed=seed, agencies=18_000, people=800_000)
        partial = path.with_suffix(".part")
        write_csv(partial, build_world(world), rows)
        partial.rename(path)
    return path


def fresh_sqlite(name: str) -> Path:
    database = OUT / name
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def stored(url: str) -> str:
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            source = select(Source.id).where(Source.name == CSV_SOURCE).scalar_subquery()
            taken = session.scalar(select(func.count()).where(Completion.source_id == source))
            held = session.scalar(select(func.count()).where(QuarantinedRecord.source_id == source))
    finally:
        engine.dispose()
    return f"{taken} completions stored, {held} quarantined"


def ours(backend: str, url: str, path: Path) -> dict[str, Any]:
    """Our sync of `path` into a new store at `url`: first run, the unchanged rerun, then the
    next night's export (`nightly_csv`), its counts checked."""
    config = OUT / f"load-{backend}.toml"
    work = OUT / f"load-{backend}.csv"
    shutil.copyfile(path, work)
    write_config(config, url, work)
    _, code = run_child(onemind(config, "init"), OUT / f"load-{backend}-init.log")
    if code:
        raise SystemExit(f"{backend}: onemind init failed, see bench/out/load-{backend}-init.log")
    runs = {}
    for label, as_of in (("first", AS_OF), ("rerun", AS_OF), ("nightly", NEXT_DAY)):
        if label == "nightly":
            runs["stored"] = stored(url)
            changed, added = nightly_csv(path, work)
        log = OUT / f"load-{backend}-{label}.log"
        runs[label], code = run_child(
            onemind(config, "sync", CSV_SOURCE, "--as-of", as_of.isoformat()), log
        )
        if code:
            raise SystemExit(f"{backend}: onemind sync exited {code}, see {log}")
    runs["nightly_check"] = nightly_check(url, runs["stored"], changed, added)
    return runs | {"schema": schema_floor(url)}


def nightly_csv(path: Path, out: Path) -> tuple[int, int]:
    """The export of the night after `path`, written to `out`: its rows, NIGHTLY of them
    changed (half given CHANGED_HOURS, half repeated as a completion of NEXT_DAY, appended);
    how many rows were changed and how many added."""
    step = round(2 / NIGHTLY)
    added: dict[tuple[str, str], list[str]] = {}
    changed = 0
    with (
        path.open(newline="", encoding="utf-8") as source,
        out.open("w", newline="", encoding="utf-8") as target,
    ):
        rows = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(rows))
        for number, row in enumerate(rows):
            if number % step == 0:
                row[5] = CHANGED_HOURS
                changed += 1
            elif number % step == step // 2:
                added.setdefault((row[0] or row[1], row[2]), [*row[:6], NEXT_DAY.isoformat(), ""])
            writer.writerow(row)
        writer.writerows(added.values())
    return changed, len(added)


def nightly_check(url: str, before: str, changed: int, added: int) -> str:
    """The store after the nightly export: `added` more completions than `before` said, and
    `changed` of them with CHANGED_HOURS (the generated files have none)."""
    taken = int(before.split()[0])
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(Completion))
            hours = connection.scalar(
                select(func.count()).where(Completion.hours == float(CHANGED_HOURS))
            )
    finally:
        engine.dispose()
    if (count, hours) != (taken + added, changed):
        raise SystemExit(
            f"nightly export: {count} completions, {hours} of {CHANGED_HOURS} hours; "
            f"the file calls for {taken + added} and {changed}"
        )
    return f"{changed} changed and {added} new rows, stored as the file says"


def floor(script: str, path: Path, target: str, backend: str) -> Timing:
    timing, code = run_child(
        [sys.executable, "-c", script, str(path), target], OUT / f"load-{backend}-floor.log"
    )
    if code:
        raise SystemExit(f"{backend}: the floor failed, see bench/out/load-{backend}-floor.log")
    return timing


def report(backend: str, rows: int, base: Timing, run: dict[str, Any]) -> None:
    first, again = run["first"], run["rerun"]
    print(f"{backend}, {rows:,} rows ({run['stored']})")
    print("                    wall        cpu       peak   ratio wall   ratio cpu")
    for label, (wall, cpu, rss) in (("floor", base), ("ours, first", first)):
        ratios = f"{wall / base[0]:10.2f}   {cpu / base[1]:9.2f}"
        print(f"  {label:13} {wall:7.1f} s  {cpu:7.1f} s  {rss:6.0f} MB {ratios}")
    wall, cpu, rss = again
    print(f"  {'ours, rerun':13} {wall:7.1f} s  {cpu:7.1f} s  {rss:6.0f} MB  (unchanged file)")
    wall, cpu, rss = run["nightly"]
    ratios = f"{wall / base[0]:10.2f}   {cpu / base[1]:9.2f}"
    print(f"  {'ours, nightly':13} {wall:7.1f} s  {cpu:7.1f} s  {rss:6.0f} MB {ratios}")
    print(f"    the next night's export, {NIGHTLY:.0%} of its rows: {run['nightly_check']}")
    schema = run["schema"]
    print(
        f"  {'schema floor':13} {schema:7.1f} s  (our rows written again by the database alone,"
        f" see schema_floor.py): {schema / base[0]:.2f}x the floor; ours first"
        f" {first[0] / schema:.2f}x it"
    )


def bench_sqlite(rows: int, seed: int) -> None:
    path = completions_csv(rows, seed)
    floor_run = floor(SQLITE_FLOOR, path, str(fresh_sqlite("load-floor.db")), "sqlite")
    run = ours("sqlite", f"sqlite:///{fresh_sqlite('load.db')}", path)
    report("sqlite", rows, floor_run, run)


def bench_postgres(rows: int, seed: int, admin_url: str) -> None:
    path = completions_csv(rows, seed)
    with postgres_database(admin_url, PG_FLOOR_DATABASE) as url:
        floor_run = floor(POSTGRES_FLOOR, path, url.replace("+psycopg", ""), "postgresql")
    with postgres_database(admin_url, PG_DATABASE) as url:
        run = ours("postgresql", url, path)
    report("postgresql", rows, floor_run, run)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the SQLite load")
    parser.add_argument("--pg-rows", type=int, default=2_000_000, help="rows of the PG load")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"before: {load_average()}")
    if not args.skip_sqlite:
        bench_sqlite(args.rows, args.seed)
    if not args.skip_postgres:
        bench_postgres(args.pg_rows, args.seed, args.pg_admin_url)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
