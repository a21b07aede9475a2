"""Scale benchmark: the coverage recompute of a hub against its floor, on SQLite and PostgreSQL.

Builds the synthetic hub of `hubdata` (18,000 agencies, 800,000 people, 2,000,000 classified
completions by default) with bulk Core inserts, then on each backend, alternating:

    floor      one hand-written aggregate query giving every agency's head counts at the
               as-of date and 90 days before (what the figures need, nothing more)
    recompute  `pipeline.recompute.recompute` for every agency: counts, rules, status
               changes and snapshots, in one transaction (commit included), with nothing
               cached (every person's standing worked out and the cache written)
    nightly    then, night after night, the date a day on and 1 % of the agencies changed
               (`--changed`): the recompute as the nightly sync runs it, from the cache,
               against the floor at that date, its figures checked against a full count;
               before each, on PostgreSQL, the vacuuming autovacuum would have done in the
               day between (`hubload.a_day_passes`)

and the data one agency's report gathers (`reports.content.agency_report`, no rendering) for
the largest agency and a median one. The floor's figures are checked against ours, and the
backends against each other. Then, unless --skip-csv, a completions CSV synced through the CLI.

Run it from the repository root; try it small first:

    .venv/bin/python bench/coverage.py --agencies 200 --people 8000 --completions 20000 \
        --csv-rows 10000 --skip-postgres

Full size (the defaults) takes many minutes to build: `--keep` leaves both stores, and a later
`--reuse` (same sizes and seed) times them again without building. `--explain` prints the
recompute's query plans. The world generator and loader live in `hubdata` and `hubload`
(`build_world`, `load_world` and `postgres_database` are importable from here too).
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from coverage_floor import Figures, floor
from csvsync import bench_csv
from hubdata import AS_OF, NOW, build_world
from hubload import (
    OUT,
    PG_ADMIN,
    Target,
    a_day_passes,
    fresh_sqlite,
    load_world,
    populate,
    postgres_database,
    settle_postgres,
)
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from onemind.config.model import Settings
from onemind.domain.programs import RATE_WINDOW_DAYS
from onemind.pipeline.recompute import recompute
from onemind.reports.content import agency_report
from onemind.store import coverage
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.models import Agency, Completion, CoverageBasis, Employment

BACKENDS = ("sqlite", "postgresql")
PG_DATABASE = "onemind_bench_coverage"
WINDOW = AS_OF - timedelta(days=RATE_WINDOW_DAYS)

# ---------------------------------------------------------------- ours


def ours(session: Session, day: date = AS_OF) -> list[coverage.CoverageReport]:
    """The recomputation every writer runs, for every agency (no certificates configured)."""
    return recompute(session, Settings(), NOW, day).reports


def cold(session: Session) -> list[coverage.CoverageReport]:
    """The recomputation with nothing cached: every agency counted, the cache written."""
    session.execute(delete(CoverageBasis))
    return ours(session)


def engine_figures(session: Session, day: date = AS_OF) -> Figures:
    """The engine's counts at both dates, the way `compute` asks for them."""
    now, before = coverage.head_counts_at(session, day, [coverage.window_start(day)])
    return {agency: (counts, before[agency]) for agency, counts in now.items()}


def timed(engine: Engine, job: Callable[[Session], Any]) -> tuple[float, Any]:
    """Seconds for `job` in one transaction, commit included."""
    start = perf_counter()
    with transaction(session_factory(engine)) as session:
        result = job(session)
    return perf_counter() - start, result


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


def bench_recompute(target: Target, repeat: int) -> list[dict[str, Any]]:
    """Floor and recompute alternately, `repeat` times each; the best of each and the ratio."""
    floors, mine = [], []
    reports: list[coverage.CoverageReport] = []
    expected: Figures = {}
    for attempt in range(repeat):
        order = [("floor", floor), ("recompute", cold)]
        for label, job in order if attempt % 2 == 0 else reversed(order):
            seconds, result = timed(target.engine, job)
            (floors if label == "floor" else mine).append(seconds)
            if label == "floor":
                expected = result
            else:
                reports = result
    best_floor, best = min(floors), min(mine)
    print(
        f"{target.name} coverage recompute, nothing cached, {len(reports)} agencies: "
        f"floor {best_floor:.2f} s, recompute {best:.2f} s, ratio {best / best_floor:.2f} "
        f"(runs: floor {_seconds(floors)}; recompute {_seconds(mine)})"
    )
    _check(target, expected, reports)
    print(f"  {target.name} figures: {summary(reports)}")
    return [r.to_json() for r in reports]


def bench_nightly(target: Target, nights: int, share: float) -> None:
    """Night after night: the date moves on a day and `share` of the agencies change (one of
    their people's completions voided or restored, one of their officers leaving), then the
    recompute, against the floor at that date; the figures checked against a full count."""
    floors, mine, recounted, agreed = [], [], [], []
    vacuumed: list[list[str]] = []
    rng = random.Random(share)  # the same nights on each backend: their stores stay alike
    with transaction(session_factory(target.engine)) as session:
        agencies = session.scalars(select(Agency.id).order_by(Agency.id)).all()
        ours(session)  # the cache as a recompute at AS_OF leaves it
    for night in range(1, nights + 1):
        day = AS_OF + timedelta(days=night)
        changed = rng.sample(agencies, max(1, int(len(agencies) * share)))
        with transaction(session_factory(target.engine)) as session:
            _a_night_of_changes(session, changed, day)
        vacuumed.append(a_day_passes(target))
        seconds, result = timed(
            target.engine, lambda s, day=day: recompute(s, Settings(), NOW, day)
        )
        mine.append(seconds)
        recounted.append(result.recounted)
        floor_seconds, expected = timed(target.engine, partial(floor, day=day))
        floors.append(floor_seconds)
        with transaction(session_factory(target.engine)) as session:
            found = engine_figures(session, day)
        now = {r.agency: r.counts for r in result.reports if r.agency in found}
        agreed.append(found == expected and now == {a: c for a, (c, _) in found.items()})
    best_floor, best = min(floors), min(mine)
    print(
        f"{target.name} nightly recompute, {share:.0%} of agencies changed, {nights} nights: "
        f"floor {best_floor:.2f} s, recompute {best:.3f} s (median "
        f"{statistics.median(mine):.3f} s), people worked out again {recounted} "
        f"(runs: floor {_seconds(floors)}; recompute {', '.join(f'{v:.3f}' for v in mine)})"
    )
    if target.name == "postgresql":
        print(f"  {target.name} vacuumed before each night, as autovacuum would: {vacuumed}")
    same = "yes" if all(agreed) else "NO"
    print(f"  {target.name} every night's figures agree with the floor and a full count: {same}")


def _a_night_of_changes(session: Session, agencies: Sequence[str], day: date) -> None:
    """For each agency: one of its people's completions voided (or restored), and one of its
    employments ended the day before."""
    for agency in agencies:
        person = session.scalar(
            select(Employment.person_id)
            .where(Employment.agency_id == agency)
            .order_by(Employment.person_id)
            .limit(1)
        )
        completion = session.scalar(
            select(Completion.id)
            .where(Completion.person_id == person)
            .order_by(Completion.id)
            .limit(1)
        )
        if completion is not None:
            session.execute(
                update(Completion)
                .where(Completion.id == completion)
                .values(voided=~Completion.voided)
            )
        job = session.scalar(
            select(Employment.id)
            .where(Employment.agency_id == agency, Employment.separated_on.is_(None))
            .order_by(Employment.id.desc())
            .limit(1)
        )
        if job is not None:
            session.execute(
                update(Employment)
                .where(Employment.id == job)
                .values(separated_on=day - timedelta(days=1))
            )


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _check(target: Target, expected: Figures, reports: Sequence[coverage.CoverageReport]) -> None:
    """The floor's figures are the engine's, at both dates, for every agency with people."""
    with transaction(session_factory(target.engine)) as session:
        found = engine_figures(session)
    now = {r.agency: r.counts for r in reports if r.agency in expected}
    same = found == expected and now == {a: c for a, (c, _) in expected.items()}
    print(f"  {target.name} floor and recompute agree on every figure: {'yes' if same else 'NO'}")


# ---------------------------------------------------------------- one agency's report data


def sample_agencies(session: Session) -> dict[str, str]:
    """The agency with the most employments, and the median one."""
    sizes = session.execute(
        select(Employment.agency_id, func.count())
        .group_by(Employment.agency_id)
        .order_by(func.count().desc(), Employment.agency_id)
    ).all()
    return {"largest": sizes[0][0], "median": sizes[len(sizes) // 2][0]}


def bench_report_data(target: Target, runs: int) -> None:
    """The data one agency's report gathers, median of `runs` after a warm-up."""
    with transaction(session_factory(target.engine)) as session:
        picked = sample_agencies(session)
    settings = Settings()
    for label, agency in picked.items():
        times = []
        for _ in range(runs + 1):
            with transaction(session_factory(target.engine)) as session:
                start = perf_counter()
                report = agency_report(session, settings, agency, AS_OF, NOW)
                times.append(perf_counter() - start)
        people = report.coverage.counts.sworn_total + report.coverage.counts.nonsworn_total
        print(
            f"  {target.name} report data, {label} agency ({agency}, {people} counted): "
            f"median {statistics.median(times[1:]) * 1000:.0f} ms over {runs} runs"
        )


# ---------------------------------------------------------------- query plans


def explain(target: Target) -> None:
    """The plans of the hub-wide count query and of one agency's."""
    with transaction(session_factory(target.engine)) as session:
        agency = sample_agencies(session)["median"]
        one = select(Agency.id).where(Agency.id == agency)
        for label, query in (
            ("every agency", coverage.count_query(AS_OF, None, WINDOW)),
            (f"one agency ({agency})", coverage.count_query(AS_OF, one, WINDOW)),
        ):
            print(f"--- {target.name} plan, {label}")
            for line in plan(session, query):
                print(f"    {line}")


def plan(session: Session, query: Any) -> Iterator[str]:
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    coverage.settle_planner(session)
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}", compiled.params
        )
        yield from (row[0] for row in rows)
        return
    values = tuple(compiled.params[name] for name in compiled.positiontup or ())
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
    depth = {0: 0}
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        yield "  " * (depth[node] - 1) + detail


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
    parser.add_argument("--pg-database", default=PG_DATABASE)
    parser.add_argument("--sqlite", type=Path, default=OUT / "bench.db", help="SQLite store")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per executemany")
    parser.add_argument("--repeat", type=int, default=3, help="floor/recompute pairs per backend")
    parser.add_argument("--nights", type=int, default=3, help="nightly recomputes timed")
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share of agencies changed each night"
    )
    parser.add_argument("--report-runs", type=int, default=5, help="timed runs per report")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--profile", action="store_true", help="cProfile the first sync")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="skip building: time the stores a --keep run left (same sizes and seed)",
    )
    return parser.parse_args(argv)


def settle(targets: Sequence[Target]) -> None:
    """Stores a --keep run left: migrate them to this checkout's head (say, a new index)."""
    for target in targets:
        start = perf_counter()
        upgrade(target.engine)
        print(f"  {target.name} migrated to head in {perf_counter() - start:.1f} s")
        if target.name == "postgresql":
            settle_postgres(target)


def compare(results: dict[str, list[dict[str, Any]]]) -> None:
    if len(results) < 2:
        return
    first, *others = results.values()
    same = all(other == first for other in others)
    print(f"backends agree on every agency's figures: {'yes' if same else 'NO'}")


def run(args: argparse.Namespace, pg_url: str | None) -> None:
    database = args.sqlite if args.reuse else fresh_sqlite(args.sqlite)
    urls = [f"sqlite:///{database}"] + ([] if pg_url is None else [pg_url])
    targets = [Target(name, make_engine(url)) for name, url in zip(BACKENDS, urls, strict=False)]
    if args.reuse:
        settle(targets)
    else:
        populate(targets, build_world(args), args)
    results = {}
    for target in targets:
        results[target.name] = bench_recompute(target, args.repeat)
        bench_nightly(target, args.nights, args.changed)
        bench_report_data(target, args.report_runs)
        if args.explain:
            explain(target)
    compare(results)
    if not args.skip_csv:
        bench_csv(targets, urls, args)
    for target in targets:
        target.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.skip_postgres:
        run(args, None)
        return
    if args.reuse:
        url = make_url(args.pg_admin_url).set(database=args.pg_database)
        database: Any = nullcontext(url.render_as_string(hide_password=False))
    else:
        database = postgres_database(args.pg_admin_url, args.pg_database, args.keep)
    with database as pg_url:
        run(args, pg_url)


__all__ = ["build_world", "load_world", "postgres_database"]

if __name__ == "__main__":
    main()
