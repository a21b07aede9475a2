"""Pull speed of the xAPI source next to the floor of plain paging, on two LRSs.

- A fast conformant LRS (tests/conformant_lrs.py in a process of its own: pre-encoded
  statements, `since` on `stored`, `more` links, X-Experience-API-Consistent-Through).
- Ralph (the test-suite's venv), which filters `since` on `timestamp` and serves slowly.

On each, N statements (every one a completion, so the sync must store all N) are paged by
(a) the floor: plain `requests` + `json`, the very requests the connector makes
    (`limit`, `ascending=true`, then each `more` link), timed inside this process;
(b) ours: a whole `onemind sync` of that source into a fresh store (SQLite, then a PostgreSQL
    database of its own), in its own process (start-up, pull, store, recompute); the run must
    report all N statements new, and the store must hold N completions;
(c) the connector alone: `XapiConnector.pull()` read to the end in this process, no store:
    (b)'s pull-and-store phase (from its log lines) less (c) is what the store costs.
(a), (b) and (c) take turns going first over `--runs` runs; the medians are compared.
Then a rerun with nothing new: its requests (counted from urllib3's debug lines) and its time
beside `python -c pass`. Targets (#14): fast LRS (b)/(a) <= 1.5; quiet rerun on the fast LRS
one request, <= 0.5 s beyond process start.

Run: python bench/xapi_pull.py [--statements 50000] [--ralph-statements 5000] [--runs 3]
    [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hubload import BACKENDS, PG_ADMIN, store_url  # noqa: E402
from startup import compile_package  # noqa: E402
from xapi_lrs import Lrs, fast_lrs, ralph_lrs  # noqa: E402

from onemind.config import parse_settings  # noqa: E402
from onemind.connectors.xapi import XapiConnector  # noqa: E402
from onemind.domain.records import Checkpoint  # noqa: E402
from onemind.store.db import make_engine  # noqa: E402

REQUEST_LINE = '"GET /xAPI/statements'


def floor(lrs: Lrs) -> tuple[float, float, int, int]:
    """(a): the connector's own requests, each page parsed and nothing else done: its wall
    and CPU seconds, statements and pages."""
    session = requests.Session()
    session.auth = (lrs.username, lrs.password)
    session.headers.update({"X-Experience-API-Version": "1.0.3", "Accept": "application/json"})
    url: str | None = urljoin(lrs.endpoint, "statements")
    params: dict[str, Any] | None = {"limit": lrs.limit, "ascending": "true"}
    seen = pages = 0
    began, cpu = time.perf_counter(), time.process_time()
    while url:
        response = session.get(url, params=params, timeout=(10, 300))
        response.raise_for_status()
        body = json.loads(response.content)
        seen, pages, params = seen + len(body["statements"]), pages + 1, None
        url = urljoin(lrs.endpoint, body["more"]) if body.get("more") else None
    return time.perf_counter() - began, time.process_time() - cpu, seen, pages


def served_alone(lrs: Lrs) -> float:
    """How long the LRS takes to serve the same pages when they are not parsed: only the
    `more` link is read, from the end of each body (both LRSs write it last)."""
    session = requests.Session()
    session.auth = (lrs.username, lrs.password)
    session.headers.update({"X-Experience-API-Version": "1.0.3", "Accept": "application/json"})
    url: str | None = urljoin(lrs.endpoint, "statements")
    params: dict[str, Any] | None = {"limit": lrs.limit, "ascending": "true"}
    began = time.perf_counter()
    while url:
        body = session.get(url, params=params, timeout=(10, 300)).content
        tail, params = body[body.rfind(b'"more"') :], None
        more = json.loads(b"{" + tail).get("more") if tail.startswith(b'"more"') else None
        url = urljoin(lrs.endpoint, more) if more else None
    return time.perf_counter() - began


def config_file(lrs: Lrs, store: Store) -> Path:
    path = store.config
    path.write_text(
        f'[store]\nurl = "{store.url}"\n\n'
        '[[agencies]]\nid = "a-pd"\nname = "A"\n\n'
        f'[[sources]]\nname = "lrs"\nkind = "xapi"\nendpoint = "{lrs.endpoint}"\n'
        f'username = "{lrs.username}"\npassword = "env:LRS_PASSWORD"\npage_size = {lrs.limit}\n'
    )
    return path


def onemind(
    lrs: Lrs, config: Path, *args: str
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run `onemind`: its wall and CPU seconds (on a shared machine, the CPU is what our code
    cost; the wall adds waiting for a core), and its output."""
    env = {**os.environ, "LRS_PASSWORD": lrs.password}
    command = [sys.executable, "-m", "onemind", "--config", str(config), *args]
    began, used = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - began, _children_cpu() - used
    if done.returncode != 0:
        raise SystemExit(f"onemind {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return seconds, cpu, done


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Sync:
    """A whole `onemind sync`: its wall time, split at the source's first and last log lines
    (start-up, pull and store, then linking, classification and recompute); its requests."""

    seconds: float
    cpu: float
    start_up: float
    pull_and_store: float
    after: float
    requests: int | None


def ours(lrs: Lrs, store: Store, count: int) -> Sync:
    """(b): a full sync in its own process; it must report every statement new, and the
    store must then hold a completion for each."""
    config = config_file(lrs, store)
    onemind(lrs, config, "init")
    before = lrs.served()
    began = time.time()
    seconds, cpu, done = onemind(lrs, config, "-v", "sync", "--json")
    [result] = json.loads(done.stdout)["sources"]
    assert (result["fetched"], result["new"], result["quarantined"]) == (count, count, 0), result
    engine = make_engine(store.url)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM completion").scalar()
    engine.dispose()
    assert stored == count, f"{stored} completions stored of {count}"
    after = lrs.served()
    started, finished = (_logged(done.stderr, line) for line in ("sync started", "sync succeeded"))
    return Sync(
        seconds,
        cpu,
        started - began,
        finished - started,
        began + seconds - finished,
        None if before is None or after is None else after - before,
    )


def _logged(stderr: str, message: str) -> float:
    """When the first log line holding `message` was written (seconds since the epoch)."""
    line = next(line for line in stderr.splitlines() if message in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def connector_alone(lrs: Lrs, count: int) -> float:
    """(c): the connector's pull read to the end, no store."""
    source = {
        "name": "lrs",
        "kind": "xapi",
        "endpoint": lrs.endpoint,
        "username": lrs.username,
        "password": "env:P",
        "page_size": lrs.limit,
    }
    settings = parse_settings(
        {"agencies": [], "sources": [source]}, REPO / "x.toml", environ={"P": lrs.password}
    )
    began = time.perf_counter()
    pulled = XapiConnector(settings.sources[0]).pull(None)
    records = sum(not isinstance(item, Checkpoint) for item in pulled)
    seconds = time.perf_counter() - began
    assert records == count, records
    return seconds


def quiet_rerun(lrs: Lrs, store: Store) -> tuple[Sync, int]:
    """A rerun with nothing new: its time, split, and its requests (urllib3's debug lines)."""
    began = time.time()
    seconds, cpu, done = onemind(lrs, config_file(lrs, store), "--debug", "sync", "--json")
    [result] = json.loads(done.stdout)["sources"]
    assert result["new"] == 0 and result["status"] == "succeeded", result
    started, finished = (_logged(done.stderr, line) for line in ("sync started", "sync succeeded"))
    split = Sync(
        seconds, cpu, started - began, finished - started, began + seconds - finished, None
    )
    return split, done.stderr.count(REQUEST_LINE)


def python_start() -> tuple[float, float]:
    """A bare `python -c pass`: its wall and CPU seconds."""
    began, used = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - began, _children_cpu() - used


@dataclass(frozen=True)
class Store:
    """Where a run of ours stores: its URL, and the configuration file naming it."""

    url: str
    config: Path


@contextmanager
def stores(backend: str, workdir: Path, admin_url: str) -> Iterator[Callable[[str], Store]]:
    """Makes a new, empty store of `backend` for each name asked (PostgreSQL's databases
    dropped on the way out)."""
    with ExitStack() as held:

        def fresh(name: str) -> Store:
            database = f"onemind_bench_xapi_{name.replace('-', '_')}"
            made = store_url(backend, workdir / f"{name}.db", database, admin_url)
            return Store(held.enter_context(made), workdir / f"{backend}-{name}.toml")

        yield fresh


def measure(
    lrs: Lrs,
    count: int,
    runs: int,
    fresh: Callable[[str], Store],
    backend: str,
    target: float | None,
) -> None:
    print(f"{lrs.name}, {backend}: {count} statements, page size {lrs.limit}, {runs} run(s)")
    floors: list[float] = []
    floor_cpus: list[float] = []
    syncs: list[Sync] = []
    alones: list[float] = []
    sides = ("floor", "ours", "alone")
    served_alone(lrs)  # the first listing builds the fast LRS's pages: none of the runs pays it
    for run in range(runs):
        store = fresh(f"{lrs.name.split()[0].lower()}-{run}")
        order = sides[run % 3 :] + sides[: run % 3]
        for side in order:
            if side == "floor":
                seconds, cpu, seen, pages = floor(lrs)
                assert seen == count, seen
                floors.append(seconds)
                floor_cpus.append(cpu)
            elif side == "ours":
                syncs.append(ours(lrs, store, count))
            else:
                alones.append(connector_alone(lrs, count))
        made = "" if syncs[-1].requests is None else f" ({syncs[-1].requests} requests)"
        print(
            f"  run {run + 1} ({', '.join(order)}): (a) floor {floors[-1]:.2f} s ({pages} requests)"
            f", (b) ours {syncs[-1].seconds:.2f} s{made}, (c) connector alone {alones[-1]:.2f} s"
        )
    serving = statistics.median(served_alone(lrs) for _ in range(runs))
    alone = statistics.median(alones)
    a = statistics.median(floors)
    b = statistics.median(s.seconds for s in syncs)
    start_up, pulled, after = (
        statistics.median(getattr(s, part) for s in syncs)
        for part in ("start_up", "pull_and_store", "after")
    )
    goal = f" (target <= {target})" if target else ""
    print(f"  the LRS serves {count / serving:,.0f} statements/s (pages fetched, not parsed)")
    print(f"  median (a) floor {a:.2f} s = {count / a:,.0f} statements/s")
    print(
        f"  median (b) ours  {b:.2f} s = {count / b:,.0f} statements/s; (b)/(a) = {b / a:.2f}{goal}"
    )
    print(
        f"    (b) = start-up {start_up:.2f} s + pull and store {pulled:.2f} s "
        f"+ link, classify, recompute {after:.2f} s"
    )
    a_cpu, b_cpu = statistics.median(floor_cpus), statistics.median(s.cpu for s in syncs)
    print(
        f"  CPU (the machine is shared: CPU is what the code costs, wall adds the wait for a "
        f"core): median (a) {a_cpu:.2f} s, (b) {b_cpu:.2f} s, (b)/(a) = {b_cpu / a_cpu:.2f}"
    )
    print(
        f"  median (c) connector alone {alone:.2f} s, (c)/(a) = {alone / a:.2f}; "
        f"so the store takes about {pulled - alone:.2f} s of the pull and store "
        f"({(pulled - alone) / count * 1e6:.0f} us a statement)"
    )
    rerun, requests_made = quiet_rerun(lrs, store)
    start, start_cpu = python_start()
    print(
        f"  quiet rerun: {requests_made} request(s), {rerun.seconds:.2f} s = start-up "
        f"{rerun.start_up:.2f} s + pull {rerun.pull_and_store:.2f} s + link, classify, "
        f"recompute {rerun.after:.2f} s; python -c pass {start:.2f} s, "
        f"so {rerun.seconds - start:.2f} s beyond process start "
        f"(CPU {rerun.cpu:.2f} s, python -c pass {start_cpu:.2f} s)"
    )
    print(f"  load average {os.getloadavg()[0]:.2f} at the end (2 cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=50_000)
    parser.add_argument("--ralph-statements", type=int, default=5_000, help="0: skip Ralph")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=500, help="fast LRS page size (Ralph: 100)")
    parser.add_argument("--backend", choices=("both", *BACKENDS), default="both")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    args = parser.parse_args()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    logging.getLogger("onemind").setLevel(logging.ERROR)  # (c)'s warning about http://
    compile_package()
    print(f"load average {os.getloadavg()[0]:.2f} at the start (2 cores)")
    with tempfile.TemporaryDirectory(prefix="onemind-xapi-bench-") as tmp:
        workdir = Path(tmp)
        with fast_lrs(args.statements, args.limit) as lrs:
            for backend in backends:
                with stores(backend, workdir, args.pg_admin_url) as fresh:
                    measure(lrs, args.statements, args.runs, fresh, backend, target=1.5)
        if args.ralph_statements:
            with ralph_lrs(args.ralph_statements, workdir) as lrs:
                for backend in backends:
                    with stores(backend, workdir, args.pg_admin_url) as fresh:
                        measure(lrs, args.ralph_statements, args.runs, fresh, backend, None)


if __name__ == "__main__":
    main()
