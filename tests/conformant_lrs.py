"""A small LRS over real HTTP on loopback, as xAPI 1.0.3 describes one (unlike Ralph, which
tests/test_lrs_server.py pins down): `since`/`until` compare `stored`, `ascending=true` lists
oldest first (else newest first), `more` continues a listing, every answer carries
`X-Experience-API-Consistent-Through`, and an unknown `statementId` is a 404.

`newest_first=True` makes it an LRS that ignores `ascending` and always lists newest first;
`consistent_through=False` one that does not send the header.
"""

from __future__ import annotations

import json
import threading
import uuid
from base64 import b64encode
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

USERNAME, PASSWORD = "sync", "conformant-pw"
BASIC = "Basic " + b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


class ConformantLrs:
    """Statements in memory in the order stored; `stored` strictly increases (microseconds).
    Each statement is encoded once, when stored; a listing finds its range by bisection, and
    each page is built once until the next post, so pages are served at tens of thousands of
    statements a second (bench/xapi_pull.py)."""

    def __init__(self, newest_first: bool = False, consistent_through: bool = True) -> None:
        self.newest_first = newest_first
        self.sends_consistent_through = consistent_through
        self.statements: list[dict[str, Any]] = []
        self.stored: list[datetime] = []
        self.encoded: list[bytes] = []
        self.by_id: dict[str, int] = {}
        self.pages: dict[tuple[tuple[str, str], ...], bytes] = {}  # built once, until a post
        self.lock = threading.Lock()
        self.endpoint = ""
        self.requests = 0

    def post_statements(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        with self.lock:
            self.pages.clear()
            for sent in statements:
                stored = datetime.now(UTC)
                if self.stored and stored <= self.stored[-1]:
                    stored = self.stored[-1] + timedelta(microseconds=1)
                kept = {"id": str(uuid.uuid4()), **sent, "stored": _text(stored)}
                self.by_id[kept["id"]] = len(self.statements)
                self.statements.append(kept)
                self.stored.append(stored)
                self.encoded.append(json.dumps(kept).encode())
            return [s["id"] for s in self.statements[-len(statements) :]]

    def consistent_through(self) -> str:
        """Every statement is visible once stored: consistent through now, or the newest
        `stored` if that is later."""
        with self.lock:
            return _text(max([datetime.now(UTC), *self.stored[-1:]]))

    def answer(self, query: dict[str, str]) -> tuple[int, bytes]:
        """The status and JSON body of GET statements with this query."""
        with self.lock:
            self.requests += 1
            if "statementId" in query:
                found = self.by_id.get(query["statementId"])
                if found is None:
                    return 404, b'{"error": "no such statement"}'
                return 200, self.encoded[found]
            key = tuple(sorted(query.items()))
            if key not in self.pages:
                self.pages[key] = self._page(query)
            return 200, self.pages[key]

    def _page(self, query: dict[str, str]) -> bytes:
        listed = self._listed(query)
        if self.newest_first or query.get("ascending") != "true":
            listed.reverse()
        start, limit = int(query.get("from", "0")), int(query.get("limit", "0")) or 100
        page = b",".join(self.encoded[n] for n in listed[start : start + limit])
        more = ""
        if start + limit < len(listed):
            more = "/xAPI/statements?" + urlencode(query | {"from": str(start + limit)})
        return b'{"statements": [' + page + b'], "more": ' + json.dumps(more).encode() + b"}"

    def _listed(self, query: dict[str, str]) -> list[int]:
        """The positions of the statements the query selects, oldest stored first:
        `since`/`until` compare `stored`, as xAPI says."""
        since, until = query.get("since"), query.get("until")
        low = bisect_right(self.stored, _instant(since)) if since else 0
        high = bisect_right(self.stored, _instant(until)) if until else len(self.stored)
        listed = range(low, high)
        if not {"agent", "verb", "activity"} & query.keys():
            return list(listed)
        agent = json.loads(query["agent"]) if "agent" in query else {}
        return [n for n in listed if _matches(self.statements[n], agent, query)]


def _matches(statement: dict[str, Any], agent: dict[str, Any], query: dict[str, str]) -> bool:
    """Whether a statement passes the query's agent, verb and activity filters."""
    return (
        all(statement["actor"].get(k) == v for k, v in agent.items())
        and query.get("verb", statement["verb"]["id"]) == statement["verb"]["id"]
        and query.get("activity", statement["object"]["id"]) == statement["object"]["id"]
    )


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _text(value: datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _handler(lrs: ConformantLrs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client pages over one connection
        disable_nagle_algorithm = True  # else each body waits on the client's delayed ACK

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != BASIC:
                self._send(401, {"error": "unauthorised"})
                return
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._send(*lrs.answer(query))

        def _send(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if lrs.sends_consistent_through:
                self.send_header("X-Experience-API-Consistent-Through", lrs.consistent_through())
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return

    return Handler


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on a free loopback port until the block ends; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serving(lrs: ConformantLrs) -> Iterator[ConformantLrs]:
    """`lrs` answering on loopback (its `endpoint` set) until the block ends."""
    with loopback(_handler(lrs)) as base:
        lrs.endpoint = f"{base}/xAPI/"
        yield lrs
