"""A small LRS over real HTTP on loopback, as xAPI 1.0.3 describes one (unlike Ralph, which
tests/test_lrs_server.py pins down): `since`/`until` compare `stored`, `ascending=true` lists
oldest first (else newest first), `more` continues a listing, every answer carries
`X-Experience-API-Consistent-Through`, and an unknown `statementId` is a 404.

`newest_first=True` makes it an LRS that ignores `ascending` and always lists newest first.
"""

from __future__ import annotations

import json
import threading
import uuid
from base64 import b64encode
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

USERNAME, PASSWORD = "sync", "conformant-pw"
BASIC = "Basic " + b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


class ConformantLrs:
    """Statements in memory in the order stored; `stored` strictly increases."""

    def __init__(self, newest_first: bool = False) -> None:
        self.newest_first = newest_first
        self.statements: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.endpoint = ""

    def post_statements(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        with self.lock:
            for sent in statements:
                previous = self.statements[-1]["stored"] if self.statements else None
                now = datetime.now(UTC)
                stored = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as written
                if previous and stored <= _instant(previous):
                    stored = _instant(previous) + timedelta(milliseconds=1)
                kept = {"id": str(uuid.uuid4()), **sent, "stored": _text(stored)}
                self.statements.append(kept)
            return [s["id"] for s in self.statements[-len(statements) :]]

    def answer(self, query: dict[str, str]) -> tuple[int, Any]:
        """The status and body of GET statements with this query."""
        with self.lock:
            if "statementId" in query:
                found = [s for s in self.statements if s["id"] == query["statementId"]]
                return (200, found[0]) if found else (404, {"error": "no such statement"})
            listed = [s for s in self.statements if _matches(s, query)]
        if self.newest_first or query.get("ascending") != "true":
            listed.reverse()
        start, limit = int(query.get("from", "0")), int(query.get("limit", "0")) or 100
        page = listed[start : start + limit]
        more = ""
        if start + limit < len(listed):
            more = "/xAPI/statements?" + urlencode(query | {"from": str(start + limit)})
        return 200, {"statements": page, "more": more}


def _matches(statement: dict[str, Any], query: dict[str, str]) -> bool:
    """Whether a statement passes the query's filters (`since`/`until` on `stored`)."""
    stored = _instant(statement["stored"])
    since, until = query.get("since"), query.get("until")
    agent = json.loads(query["agent"]) if "agent" in query else None
    return (
        (not since or stored > _instant(since))
        and (not until or stored <= _instant(until))
        and (agent is None or all(statement["actor"].get(k) == v for k, v in agent.items()))
        and query.get("verb", statement["verb"]["id"]) == statement["verb"]["id"]
        and query.get("activity", statement["object"]["id"]) == statement["object"]["id"]
    )


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _text(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _handler(lrs: ConformantLrs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != BASIC:
                self._send(401, {"error": "unauthorised"})
                return
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._send(*lrs.answer(query))

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Experience-API-Consistent-Through", _text(datetime.now(UTC)))
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
