"""Web benchmark: server time of the hub dashboard's first page and of an agency page, p95, on
the national store (18,000 agencies, 800,000 people, 2,000,000 completions) on PostgreSQL.

The store is built by bench/coverage.py's world builder, every agency's coverage is computed and
snapshotted as a nightly run leaves it, and 90 earlier nightly snapshots are added as history.
Requests go to the app in this process (no network); the floor is `GET /api/v1/me` (sign-in
check and one row), timed in the same run, so a busy machine slows both alike. Try it small:

    .venv/bin/python bench/web.py --agencies 200 --people 8000 --completions 20000

The PostgreSQL database is `onemind_bench_web_<pid>` (or `--database`), dropped at the end.
Building the full world takes a quarter of an hour; `--template onemind_bench_hub_ref` instead
copies a store already built at that size (CREATE DATABASE … TEMPLATE), migrates the copy to
this checkout's head and adds the nightly run and the history to the copy. `--keep` leaves the
database, and `--reuse NAME` times such a kept one again without preparing it:

    .venv/bin/python bench/web.py --template onemind_bench_hub_ref
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import coverage as scale  # bench/coverage.py: the world builder
from fastapi.testclient import TestClient

from onemind.config.model import Settings
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.models import User
from onemind.web.accounts import add_user
from onemind.web.app import create_app

PASSWORD = "bench password"
HISTORY_DAYS = 90
TARGET_MS = 150


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=18_000)
    parser.add_argument("--people", type=int, default=800_000)
    parser.add_argument("--completions", type=int, default=2_000_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per executemany")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-admin-url", default=scale.PG_ADMIN)
    parser.add_argument("--template", help="copy this built store instead of building one")
    parser.add_argument(
        "--database", default=f"onemind_bench_web_{os.getpid()}", help="the database to make"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--reuse", metavar="NAME", help="time a database a --keep run left")
    return parser.parse_args(argv)


def build(url: str, args: argparse.Namespace) -> scale.Target:
    """The world built from scratch, or the template's copy migrated to head."""
    target = scale.Target("postgresql", make_engine(url))
    if args.template:
        started = perf_counter()
        upgrade(target.engine)
        print(f"  copy of {args.template} migrated to head in {perf_counter() - started:.1f} s")
    else:
        scale.populate([target], scale.build_world(args), args)
    return target


def nightly(target: scale.Target) -> None:
    """What the nightly runs leave: every agency recomputed and snapshotted today, and
    `HISTORY_DAYS` earlier snapshots of each."""
    seconds, reports = scale.timed(target.engine, scale.ours)
    print(f"  nightly recompute of {len(reports)} agencies: {seconds:.1f} s")
    with target.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO coverage_snapshot (agency_id, as_of, program, computed_at, "
                "sworn_total, sworn_crisis, sworn_trained, nonsworn_selected_total, "
                "nonsworn_trained, partnership, policy, crisis_20, all_trained, status) "
                "SELECT agency_id, as_of - d, program, computed_at, sworn_total, sworn_crisis, "
                "sworn_trained, nonsworn_selected_total, nonsworn_trained, partnership, policy, "
                "crisis_20, all_trained, status FROM coverage_snapshot, "
                "generate_series(1, :days) AS d ON CONFLICT DO NOTHING"
            ),
            {"days": HISTORY_DAYS},
        )
    scale.settle_postgres(target)


def typical_agency(target: scale.Target) -> tuple[str, int]:
    """The agency with the median head count, and that count."""
    with target.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT agency_id, count(*) FROM employment GROUP BY agency_id ORDER BY 2, 1")
        ).all()
    agency, people = rows[len(rows) // 2]
    return agency, people


def timed(get: Callable[[], int], count: int) -> list[float]:
    """Milliseconds of each request, after two untimed warm-ups."""
    for _ in range(2):
        assert get() == 200
    found = []
    for _ in range(count):
        started = perf_counter()
        status = get()
        found.append((perf_counter() - started) * 1000)
        assert status == 200, status
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def bench(target: scale.Target, args: argparse.Namespace) -> None:
    sessions = session_factory(target.engine)
    with transaction(sessions) as session:
        if session.scalar(select(User.id).where(User.username == "bench")) is None:
            add_user(session, "bench", PASSWORD, "admin", [], "bench", scale.NOW)
    app = create_app(sessions, Settings(), lambda: scale.NOW, Path("/nonexistent"))
    client = TestClient(app)
    page = client.get("/login").text
    token = page.split('"X-CSRF-Token": "')[1].split('"')[0]
    form = {"username": "bench", "password": PASSWORD, "csrf": token}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    agency, people = typical_agency(target)
    pages = {
        "floor: GET /api/v1/me": "/api/v1/me",
        "hub dashboard, first page": "/",
        "hub dashboard, sorted by crisis %": "/?sort=crisis&desc=true",
        "hub dashboard API, first page": "/api/v1/agencies",
        f"agency page ({agency}, {people} people)": f"/agencies/{agency}",
    }
    print(f"{args.requests} requests each, in-process server time in ms:")
    results = {}
    for label, path in pages.items():
        times = timed(lambda path=path: client.get(path).status_code, args.requests)
        results[label] = times
        print(
            f"  {label:<48} p50 {statistics.median(times):7.1f}  p95 {p95(times):7.1f}"
            f"  max {max(times):7.1f}"
        )
    floor = p95(results["floor: GET /api/v1/me"])
    for label in ("hub dashboard, first page", f"agency page ({agency}, {people} people)"):
        figure = p95(results[label])
        verdict = "ok" if figure <= TARGET_MS else "OVER"
        ratio = figure / floor
        print(f"{label}: p95 {figure:.1f} ms = {ratio:.1f} x floor; {TARGET_MS} ms: {verdict}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    if args.reuse:
        url = make_url(args.pg_admin_url).set(database=args.reuse)
        target = scale.Target("postgresql", make_engine(url.render_as_string(False)))
        upgrade(target.engine)
        run(target, args)
        return
    name = args.database
    with scale.postgres_database(args.pg_admin_url, name, args.keep, args.template) as url:
        target = build(url, args)
        nightly(target)
        run(target, args)
        if args.keep:
            print(f"kept database {name}: time it again with --reuse {name}")


def run(target: scale.Target, args: argparse.Namespace) -> None:
    try:
        bench(target, args)
    finally:
        target.engine.dispose()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
