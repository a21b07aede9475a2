"""A completions CSV of the synthetic hub synced into each store through the CLI: wall time and
peak RSS of `onemind sync`, first run and a rerun of the unchanged file."""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from time import perf_counter
from typing import Any

from hubdata import (
    AS_OF,
    CATALOGUE,
    COURSE_WEIGHTS,
    FIRST_DAY,
    PROVIDERS,
    World,
    build_world,
    email,
    employee_id,
    random_day,
)
from hubload import OUT, Target
from sqlalchemy import Engine, func, select

from onemind.domain.categories import add_months
from onemind.store.db import session_factory, transaction
from onemind.store.linking import unlinked_count
from onemind.store.models import Completion, QuarantinedRecord, Source

CSV_SOURCE = "bench-csv"


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
