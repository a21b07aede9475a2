"""Pull speed of the xAPI source against a real Ralph LRS, next to the floor of plain paging.

Seeds N statements into Ralph (the test-suite's venv and wrapper), then times
(a) plain `requests` paging through them with `json` parsing and nothing else, and
(b) a full `onemind sync` of that source into SQLite, with the sync's peak memory.
Target: (b) <= 1.25 x (a), peak memory under 300 MB.

Run: python bench/xapi_pull.py [--statements 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from lrs_server import LrsServer, ensure_ralph_venv, start_ralph  # noqa: E402

VERBS = ("completed", "passed", "attempted", "experienced")
COURSES = (
    ("cit-40", "Crisis Intervention Team (CIT) 40-hour"),
    ("mhfa-ps", "Mental Health First Aid for Public Safety"),
    ("fq", "Firearms Qualification"),
)


def statements(count: int, people: int, start: datetime) -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for n in range(count):
        key, title = rng.choice(COURSES)
        out.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "actor": {"objectType": "Agent", "mbox": f"mailto:p{rng.randrange(people)}@a.test"},
                "verb": {"id": f"http://adlnet.gov/expapi/verbs/{rng.choice(VERBS)}"},
                "object": {
                    "objectType": "Activity",
                    "id": f"https://academy.example/{key}",
                    "definition": {"name": {"en-US": title}},
                },
                "result": {"completion": True, "success": rng.random() > 0.05},
                "timestamp": (start + timedelta(seconds=n)).isoformat(),
            }
        )
    return out


def seed(lrs: LrsServer, count: int, batch: int) -> float:
    began = time.perf_counter()
    data = statements(count, people=count // 5, start=datetime.now(UTC) - timedelta(days=3))
    for start in range(0, count, batch):
        lrs.post_statements(data[start : start + batch])
    return time.perf_counter() - began


def plain_paging(lrs: LrsServer, limit: int) -> tuple[float, int]:
    """(a): the least any client must spend: every page fetched and parsed."""
    session = requests.Session()
    session.auth = lrs.auth
    session.headers.update(lrs.headers)
    began = time.perf_counter()
    response = session.get(lrs.url(), params={"limit": limit}, timeout=(10, 300))
    seen = 0
    while True:
        body = json.loads(response.content)
        seen += len(body["statements"])
        if not body.get("more"):
            return time.perf_counter() - began, seen
        response = session.get(lrs.url(body["more"]), timeout=(10, 300))


def onemind_sync(lrs: LrsServer, workdir: Path, limit: int) -> tuple[float, float, str]:
    """(b): the real command, in its own process; returns seconds, peak RSS in MB, its output."""
    config = workdir / "onemind.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{workdir / "bench.db"}"\n\n'
        '[[agencies]]\nid = "a-pd"\nname = "A"\n\n'
        f'[[sources]]\nname = "lrs"\nkind = "xapi"\nendpoint = "{lrs.endpoint}"\n'
        f'username = "{lrs.username}"\npassword = "env:LRS_PASSWORD"\npage_size = {limit}\n'
    )
    env = {**os.environ, "LRS_PASSWORD": lrs.password}
    command = [sys.executable, "-m", "onemind", "--config", str(config)]
    subprocess.run([*command, "init"], check=True, env=env, capture_output=True)
    began = time.perf_counter()
    done = subprocess.run([*command, "sync"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"onemind sync failed:\n{done.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mb, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=100, help="page size (Ralph caps at 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onemind-xapi-bench-") as tmp:
        workdir = Path(tmp)
        process, lrs = start_ralph(
            ensure_ralph_venv(), workdir / "ralph", "bench", uuid.uuid4().hex
        )
        try:
            seconds = seed(lrs, args.statements, args.batch)
            print(f"seeded {args.statements} statements in {seconds:.1f} s")
            plain, seen = plain_paging(lrs, args.limit)
            print(f"(a) plain requests+json paging: {plain:.1f} s for {seen} statements")
            synced, peak, output = onemind_sync(lrs, workdir, args.limit)
            print(f"(b) onemind sync into SQLite: {synced:.1f} s, peak memory {peak:.0f} MB")
            print(f"(b)/(a) = {synced / plain:.2f} (target <= 1.25)")
            print(output.strip().splitlines()[-3] if output.strip() else "")
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
