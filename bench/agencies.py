"""Benchmark: an agencies file of a state hub (18,000 agencies by default) loaded, updated and
retired on SQLite and PostgreSQL, with the floors from the same run.

Times, per backend: the first sync of the file (every agency created), a sync after 1 % of the
rows changed and 1 % left (updates, inactive marks), and a full re-read of an unchanged file
(nothing to write). Floors: reading the file's rows with the csv module, and one executemany
INSERT of the same agency rows into an empty table (what any load must pay); beside them, the
connector's pull alone (rows read and checked, nothing stored).

    .venv/bin/python bench/agencies.py [--agencies 18000] [--skip-postgres]

PostgreSQL: a database `onemind_bench_hubdata_agencies`, dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from sqlalchemy import Engine, func, insert, select, text

from onemind.config import Settings, parse_settings
from onemind.connectors.registry import build_connector
from onemind.domain.records import AgencyEntry
from onemind.store.bootstrap import apply_settings
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.models import Agency
from onemind.sync.runner import SyncRunner

NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "onemind_bench_hubdata_agencies"
HEADER = "id,name,program,pledged_on,deadline_months,region,report_to,partnership_on,policy_on\n"


def agency_rows(count: int, revision: int = 0) -> str:
    """`count` agencies; revision 1 renames every 100th and drops every 100th (offset by 50)."""
    lines = [HEADER]
    for n in range(count):
        if revision and n % 100 == 50:
            continue
        name = f"Agency {n} Police Department" + (" (renamed)" if revision and n % 100 == 0 else "")
        program = "one-mind-2016" if n % 7 == 0 else "one-mind"
        partnership = f"2025-{n % 12 + 1:02d}-01" if n % 3 == 0 else ""
        lines.append(
            f"agency-{n:05d},{name},{program},2025-01-15,{12 + n % 25},Region {n % 40},"
            f"chief@agency-{n}.example,{partnership},\n"
        )
    return "".join(lines)


def settings_for(folder: Path) -> Settings:
    source = {"name": "hub-agencies", "kind": "csv", "role": "agencies", "path": "agencies.csv"}
    return parse_settings({"sources": [source]}, folder / "onemind.toml", environ={})


def timed(step: Callable[[], object]) -> float:
    start = perf_counter()
    step()
    return perf_counter() - start


def read_floor(file: Path) -> float:
    """Reading the file's rows with the csv module, nothing else."""

    def read() -> None:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            for _ in csv.reader(handle):
                pass

    return timed(read)


def parsed(settings: Settings) -> tuple[float, list[AgencyEntry]]:
    """The connector's pull alone (rows read and checked), and its entries."""
    entries: list[AgencyEntry] = []
    connector = build_connector(settings.sources[0])
    seconds = timed(
        lambda: entries.extend(i for i in connector.pull(None) if isinstance(i, AgencyEntry))
    )
    return seconds, entries


def insert_floor(engine: Engine, entries: list[AgencyEntry]) -> float:
    rows = [
        {
            "id": e.external_id,
            "name": e.name,
            "program": e.program,
            "pledged_on": e.pledged_on,
            "deadline_months": e.deadline_months,
            "region": e.region,
            "report_to": list(e.report_to),
            "active": True,
            "managed_by": "hub-agencies",
        }
        for e in entries
    ]

    def load() -> None:
        with engine.begin() as connection:
            connection.execute(insert(Agency), rows)

    seconds = timed(load)
    with engine.begin() as connection:
        connection.execute(Agency.__table__.delete())
    return seconds


def run(engine: Engine, folder: Path, count: int) -> None:
    file = folder / "agencies.csv"
    file.write_text(agency_rows(count))
    settings = settings_for(folder)
    sessions = session_factory(engine)
    runner = SyncRunner(settings, sessions, lambda: NOW)
    source = settings.sources[0]
    reading = read_floor(file)
    parsing, entries = parsed(settings)
    floor_insert = insert_floor(engine, entries)
    with transaction(sessions) as session:
        apply_settings(session, settings, NOW)  # the source's row and the built-ins
    first = timed(lambda: runner.sync_source(source))
    file.write_text(agency_rows(count, revision=1))
    second = timed(lambda: runner.sync_source(source))
    again = timed(lambda: runner.sync_source(source, full=True))
    with engine.connect() as connection:
        active = connection.scalar(select(func.count()).where(Agency.active))
        total = connection.scalar(select(func.count()).select_from(Agency))
    print(f"  floor: read {count} rows with the csv module          {reading:.2f} s")
    print(f"  floor: one executemany INSERT of {count} agencies   {floor_insert:.2f} s")
    print(f"  the connector's pull alone (read and check rows):  {parsing:.2f} s")
    print(f"  first sync (create {count}):                    {first:.2f} s")
    print(f"  changed file (1 % renamed, 1 % left):            {second:.2f} s")
    print(f"  full re-read, nothing changed:                   {again:.2f} s")
    print(f"  agencies: {total} stored, {active} active")
    floor = reading + floor_insert
    print(f"  first sync / (read + insert floors) = {first / floor:.2f}")


@contextmanager
def postgres() -> Iterator[Engine]:
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=18_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        print(f"SQLite, {args.agencies} agencies")
        engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        run(engine, folder, args.agencies)
        engine.dispose()
        if not args.skip_postgres:
            print(f"PostgreSQL, {args.agencies} agencies")
            with postgres() as engine:
                run(engine, folder, args.agencies)


if __name__ == "__main__":
    main(sys.argv[1:])
