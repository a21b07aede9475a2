"""Hub scale on a Celery worker pool: agency reports and the first issuance of credentials.

On PostgreSQL with the synthetic national store of `bench/coverage.py` (18,000 agencies,
800,000 people, 2,000,000 completions by default):

1. render and send agency reports to a local aiosmtpd: the floor first (the same render and
   send in this process, no Celery, no claim), then through 1 and through 2 `onemind worker`
   processes on Redis: per-report time, total, and the 2-worker / 1-worker speed-up;
2. the first issuance of credentials for every person, EdDSA then RS256, on one worker (the
   fan-out task splits the people into `issue_batch` ranges), beside the floor of signing
   alone (`jose.sign_many` of the same number of payloads in this process).

Reports: `--reports N` sends N agencies' reports per run (all agencies by default);
`--rs256-people N` issues RS256 credentials for the first N people only (RSA signing is ~15x
slower than Ed25519) and extrapolates. Every figure is printed with the load average: the
speed-up means something only on an otherwise idle machine. Try it small first:

    .venv/bin/python bench/hub.py --agencies 200 --people 8000 --completions 20000 --reports 40

Building the full world takes a quarter of an hour; `--template DB` clones a store already
built (by `bench/coverage.py --keep`) instead, in a database of its own that is dropped after:

    .venv/bin/python bench/hub.py --template onemind_bench_hub_ref --database onemind_bench_x
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, or_, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hubdata import AS_OF, NOW, build_world
from hubload import PG_ADMIN, Target, finish_postgres, load_average, load_world, postgres_database

from onemind.certificates import jose
from onemind.config import parse_settings
from onemind.reports.delivery import deliver_agency
from onemind.store import coverage as store_coverage
from onemind.store.db import make_engine, session_factory, upgrade
from onemind.store.models import Agency, Category, Completion
from onemind.workers.app import make_app
from onemind.workers.tasks import CREDENTIALS, CREDENTIALS_RANGE, REPORT

PASSPHRASE = "bench passphrase"
ONEMIND = [sys.executable, "-m", "onemind"]
ROOT = Path(__file__).resolve().parent.parent


class Counter:
    """An aiosmtpd handler that only counts the messages."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


@contextmanager
def smtp() -> Iterator[tuple[Counter, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield counter, port
    finally:
        controller.stop()


def config_file(folder: Path, store: str, port: int, algorithm: str, queue: str) -> Path:
    path = folder / f"onemind-{algorithm}.toml"
    path.write_text(
        f"""
[store]
url = "{store}"

[certificates]
issuer_id = "https://academy.example"
issuer_name = "State Academy"
algorithm = "{algorithm}"
key_passphrase = "env:BENCH_KEY_PASSPHRASE"

[smtp]
host = "127.0.0.1"
port = {port}
starttls = false
sender = "One Mind <reports@academy.example>"

[workers]
broker = "redis://127.0.0.1:6379/0"
queue = "{queue}"
concurrency = 1
visibility_timeout_seconds = 7200
issue_batch = 5000
""",
        encoding="utf-8",
    )
    return path


@contextmanager
def worker_pool(config: Path, count: int, folder: Path) -> Iterator[None]:
    environ = {**os.environ, "BENCH_KEY_PASSPHRASE": PASSPHRASE}
    processes = []
    logs = []
    for index in range(count):
        log = folder / f"worker-{config.stem}-{count}-{index}.log"
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "onemind",
                    "--config",
                    str(config),
                    "worker",
                    "--pool",
                    "solo",
                ],
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                env=environ,
                cwd=ROOT,
            )
        )
    try:
        wait(lambda: all(" ready." in log.read_text() for log in logs), 300, "workers ready")
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(120)


def wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar() or 0)


# ---------------------------------------------------------------- reports


def report_floor(config: Path, engine: Engine, agencies: list[str]) -> float:
    """Seconds per report in this process (warm: the first report is not counted)."""
    settings = parse_settings(_toml(config), config, {"BENCH_KEY_PASSPHRASE": PASSPHRASE})
    sessions = session_factory(engine)
    deliver_agency(settings, sessions, agencies[0], "bench", NOW, AS_OF)
    start = perf_counter()
    for agency in agencies[1:]:
        deliver_agency(settings, sessions, agency, "bench", NOW, AS_OF)
    return (perf_counter() - start) / max(1, len(agencies) - 1)


def reports_on_workers(
    config: Path, engine: Engine, agencies: list[str], workers: int, folder: Path
) -> float:
    """Total seconds from enqueueing to the last report's claim settled, on warm workers."""
    settings = parse_settings(_toml(config), config, {"BENCH_KEY_PASSPHRASE": PASSPHRASE})
    assert settings.workers is not None
    app = make_app(settings.workers)
    with worker_pool(config, workers, folder):
        warm = f"warm-{workers}-{uuid.uuid4().hex[:6]}"
        for agency in agencies[:workers]:
            app.send_task(REPORT, args=[agency, warm])
        wait(lambda: _sent(engine, warm) == workers, 600, "warm-up reports")
        period = f"bench-{workers}-{uuid.uuid4().hex[:6]}"
        start = perf_counter()
        for agency in agencies:
            app.send_task(REPORT, args=[agency, period])
        wait(lambda: _sent(engine, period) == len(agencies), 24 * 3600, "every report")
        return perf_counter() - start


def _sent(engine: Engine, period: str) -> int:
    return count(
        engine, f"SELECT count(*) FROM report_claim WHERE period = '{period}' AND state = 'sent'"
    )


def bench_reports(store: str, engine: Engine, folder: Path, agencies: list[str], port: int) -> None:
    config = config_file(folder, store, port, "EdDSA", f"bench-{uuid.uuid4().hex[:6]}")
    floor = report_floor(config, engine, spread(agencies, 31))
    print(
        f"floor: one report rendered and sent in this process, no Celery: {floor * 1000:.0f} ms "
        f"({load_average()})"
    )
    one = reports_on_workers(config, engine, agencies, 1, folder)
    print(
        f"1 worker:  {len(agencies)} reports in {one:.1f} s = {one / len(agencies) * 1000:.0f} ms "
        f"per report ({one / len(agencies) / floor:.2f}x the floor; {load_average()})"
    )
    two = reports_on_workers(config, engine, agencies, 2, folder)
    print(
        f"2 workers: {len(agencies)} reports in {two:.1f} s = {two / len(agencies) * 1000:.0f} ms "
        f"per report; speed-up 2/1: {one / two:.2f} ({load_average()})"
    )


# ---------------------------------------------------------------- credentials


def expected_credentials(engine: Engine, last_person: int | None) -> tuple[int, int]:
    """(person, tier) pairs with a valid credit at AS_OF (one credential each), and the last
    person with one."""
    query = store_coverage.credited(AS_OF, Completion.person_id, Category.tier).where(
        or_(Completion.valid_until.is_(None), Completion.valid_until > AS_OF)
    )
    if last_person is not None:
        query = query.where(Completion.person_id <= last_person)
    pairs = query.distinct().subquery()
    with session_factory(engine)() as session:
        found = session.execute(select(func.count(), func.max(pairs.c.person_id))).one()
    return int(found[0]), int(found[1])


def issue_on_worker(
    store: str, engine: Engine, folder: Path, port: int, algorithm: str, last: int | None
) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE credential, credential_push, audit_log"))
    expected, last_holder = expected_credentials(engine, last)
    config = config_file(folder, store, port, algorithm, f"bench-{uuid.uuid4().hex[:6]}")
    settings = parse_settings(_toml(config), config, {"BENCH_KEY_PASSPHRASE": PASSPHRASE})
    assert settings.workers is not None
    app = make_app(settings.workers)
    with worker_pool(config, 1, folder):
        start = perf_counter()
        if last is None:
            app.send_task(CREDENTIALS, args=[AS_OF.isoformat()])
        else:
            size = settings.workers.issue_batch
            for first in range(1, last + 1, size):
                app.send_task(
                    CREDENTIALS_RANGE, args=[first, min(first + size - 1, last), AS_OF.isoformat()]
                )
        # One worker takes the ranges in id order: the last holder's credential comes last.
        # Polled by its index: counting every credential a tenth of a second would scan the
        # growing table and take the CPU the worker is being timed on.
        wait(
            lambda: (
                count(engine, f"SELECT count(*) FROM credential WHERE person_id = {last_holder}")
                > 0
            ),
            24 * 3600,
            f"{algorithm} credentials up to person {last_holder}",
        )
        seconds = perf_counter() - start
        found = count(engine, "SELECT count(*) FROM credential")
        assert found == expected, f"{found} {algorithm} credentials issued, {expected} expected"
    people = last or count(engine, "SELECT count(*) FROM person")
    per = seconds / expected
    floor = signing_floor(algorithm, min(expected, 5000))
    print(
        f"{algorithm}: {expected} credentials for {people} people on 1 worker in {seconds:.1f} s "
        f"({per * 1e6:.0f} us each; signing alone {floor * 1e6:.0f} us each, "
        f"{per / floor:.1f}x; {load_average()})"
    )
    if last is not None:
        total, _ = expected_credentials(engine, None)
        print(f"  extrapolated to all {total} credentials: {total * per / 60:.1f} min")


def signing_floor(algorithm: str, number: int) -> float:
    """Seconds per token of `jose.sign_many` alone, on credential-sized payloads."""
    key = jose.generate(algorithm)
    payload = {"evidence": "x" * 900, "iat": 1, "jti": "urn:uuid:" + "0" * 36}
    start = perf_counter()
    jose.sign_many([payload] * number, key, "kid")
    return (perf_counter() - start) / number


def _toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=18_000)
    parser.add_argument("--people", type=int, default=800_000)
    parser.add_argument("--completions", type=int, default=2_000_000)
    parser.add_argument("--reports", type=int, help="agency reports per run (default: all)")
    parser.add_argument("--rs256-people", type=int, default=50_000)
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--skip-credentials", action="store_true")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--database", default="onemind_bench_workers_hub")
    parser.add_argument(
        "--template",
        help="clone this built store (CREATE DATABASE … TEMPLATE) instead of building the world; "
        "the sizes are then the template's",
    )
    parser.add_argument("--keep", action="store_true", help="leave the database afterwards")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per executemany")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def build(engine: Engine, args: argparse.Namespace) -> list[str]:
    """The synthetic world loaded into the empty store; its agencies' ids in world order."""
    world = build_world(args)
    target = Target("postgresql", engine)
    start = perf_counter()
    load_world([target], world, args)
    finish_postgres(target)
    print(f"loaded in {perf_counter() - start:.0f} s")
    return list(world.agencies)


def prepare(engine: Engine, args: argparse.Namespace) -> list[str]:
    """Every agency given a recipient; the agencies' ids, of the clone or of a new world."""
    if args.template:
        upgrade(engine)
        with session_factory(engine)() as session:
            agencies = list(session.scalars(select(Agency.id).order_by(Agency.id)))
    else:
        agencies = build(engine, args)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE agency SET report_to = json_build_array('chief@' || id || '.example')")
        )
        people = connection.execute(text("SELECT count(*) FROM person")).scalar()
        completions = connection.execute(text("SELECT count(*) FROM completion")).scalar()
    print(f"store: {len(agencies)} agencies, {people} people, {completions} completions")
    return agencies


def spread(agencies: list[str], number: int | None) -> list[str]:
    """`number` agencies taken evenly across the list, from the middle of each stretch (all
    when None): small and large alike, as a hub's whole run has them."""
    if number is None or number >= len(agencies):
        return agencies
    step = len(agencies) / number
    return [agencies[int((index + 0.5) * step)] for index in range(number)]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = perf_counter()
    with (
        postgres_database(args.pg_admin_url, args.database, args.keep, args.template) as store,
        smtp() as (counter, port),
        tempfile.TemporaryDirectory() as tmp,
    ):
        engine = make_engine(store)
        agencies = prepare(engine, args)
        folder = Path(tmp)
        if not args.skip_reports:
            bench_reports(store, engine, folder, spread(agencies, args.reports), port)
            print(f"  messages received by aiosmtpd: {counter.count}")
        if not args.skip_credentials:
            issue_on_worker(store, engine, folder, port, "EdDSA", None)
            people = count(engine, "SELECT count(*) FROM person")
            rs256 = None if args.rs256_people >= people else args.rs256_people
            issue_on_worker(store, engine, folder, port, "RS256", rs256)
        engine.dispose()
    print(f"done in {timedelta(seconds=round(perf_counter() - start))}")


if __name__ == "__main__":
    main()
