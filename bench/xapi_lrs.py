"""The LRSs bench/xapi_pull.py pulls from, seeded with the same statements: a fast conformant
LRS (tests/conformant_lrs.py) in a process of its own, and Ralph (the test-suite's venv)."""

from __future__ import annotations

import multiprocessing
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conformant_lrs import PASSWORD, USERNAME, ConformantLrs, serving
from lrs_server import ensure_ralph_venv, start_ralph

VERBS = (
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "https://w3id.org/xapi/adl/verbs/satisfied",
)
COURSES = (
    ("cit-40", "Crisis Intervention Team (CIT) 40-hour"),
    ("mhfa-ps", "Mental Health First Aid for Public Safety"),
    ("crit", "Crisis Response and Intervention Training"),
)


def statements(count: int, start: datetime) -> list[dict[str, Any]]:
    """`count` completions of `count // 5` people, a second apart from `start`."""
    rng = random.Random(7)
    out = []
    for n in range(count):
        key, title = rng.choice(COURSES)
        out.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "actor": {
                    "objectType": "Agent",
                    "mbox": f"mailto:p{rng.randrange(count // 5)}@a.test",
                },
                "verb": {"id": rng.choice(VERBS)},
                "object": {
                    "objectType": "Activity",
                    "id": f"https://academy.example/{key}",
                    "definition": {"name": {"en-US": title}},
                },
                "result": {"completion": True, "success": True},
                "timestamp": (start + timedelta(seconds=n)).isoformat(),
            }
        )
    return out


@dataclass(frozen=True)
class Lrs:
    """An LRS under test: where it is, who may read it, its page size, how to count requests."""

    name: str
    endpoint: str
    username: str
    password: str
    limit: int
    served: Callable[[], int | None]


def _serve_fast(count: int, pipe: Connection) -> None:
    """The fast LRS's process: seed, serve, answer how many requests it has had until told."""
    lrs = ConformantLrs()
    lrs.post_statements(statements(count, datetime.now(UTC) - timedelta(days=3)))
    with serving(lrs):
        pipe.send(lrs.endpoint)
        while pipe.recv() == "served":
            pipe.send(lrs.requests)


@contextmanager
def fast_lrs(count: int, limit: int) -> Iterator[Lrs]:
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_serve_fast, args=(count, theirs), daemon=True
    )
    process.start()
    endpoint = ours.recv()

    def served() -> int:
        ours.send("served")
        return int(ours.recv())

    try:
        yield Lrs("fast conformant LRS", endpoint, USERNAME, PASSWORD, limit, served)
    finally:
        ours.send("stop")
        process.join(timeout=30)


@contextmanager
def ralph_lrs(count: int, workdir: Path) -> Iterator[Lrs]:
    process, lrs = start_ralph(ensure_ralph_venv(), workdir / "ralph", "bench", uuid.uuid4().hex)
    try:
        began = time.perf_counter()
        data = statements(count, datetime.now(UTC) - timedelta(days=3))
        for start in range(0, count, 1000):
            lrs.post_statements(data[start : start + 1000])
        print(f"  seeded Ralph with {count} statements in {time.perf_counter() - began:.1f} s")
        yield Lrs("Ralph 5.1.0 (fs)", lrs.endpoint, lrs.username, lrs.password, 100, lambda: None)
    finally:
        process.terminate()
        process.wait(timeout=30)
