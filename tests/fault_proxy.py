"""A fault-injecting HTTP proxy in front of an LRS, on loopback only, for the test-suite.

It forwards each request to the LRS unchanged and, for a seeded random share of the GETs,
answers instead with a fault: 429 with Retry-After, 500, 503, a hang longer than the client's
read timeout, a page of JSON cut short, an HTML page with status 200, or a page whose `more`
links back to itself (a link loop). It is bounded: it serves at most `max_requests` requests
and lives at most `max_seconds`, answering 503 beyond either (counted as `over_budget`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import requests
from conformant_lrs import loopback

FAULTS = ("429", "500", "503", "hang", "truncated", "html", "loop")
HTML = b"<html><head><title>502 Bad Gateway</title></head><body>proxy error</body></html>"


class FaultProxy:
    """The proxy's plan and what it did: `injected[kind]`, `forwarded`, `over_budget`."""

    def __init__(
        self,
        upstream: str,
        *,
        share: float,
        seed: int,
        hang_seconds: float,
        faults: Sequence[str] = FAULTS,
        max_requests: int = 2000,
        max_seconds: float = 60.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.share = share
        self.random = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.faults = tuple(faults)
        self.max_requests = max_requests
        self.deadline = time.monotonic() + max_seconds
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self.over_budget = 0
        self.served = 0
        self.lock = threading.Lock()
        self.endpoint = ""

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def plan(self, method: str, path: str) -> str | None:
        """The fault for this request, if any (a loop only where a `more` link was followed)."""
        with self.lock:
            self.served += 1
            if self.served > self.max_requests or time.monotonic() > self.deadline:
                self.over_budget += 1
                return "budget"
            if method != "GET" or self.random.random() >= self.share:
                return None
            kinds = [
                k for k in self.faults if k != "loop" or "search_after=" in path or "from=" in path
            ]
            kind = self.random.choice(kinds)
            self.injected[kind] += 1
            return kind

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response:
        with self.lock:
            self.forwarded += 1
        return requests.request(
            method,
            self.upstream + path,
            headers=headers,
            data=body,
            timeout=30,
            allow_redirects=False,
        )


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = proxy.plan(method, self.path)
            if fault in ("budget", "500", "503", "429"):
                status = 503 if fault == "budget" else int(fault)
                extra = {"Retry-After": "1"} if fault == "429" else {}
                self._reply(status, b'{"error": "injected"}', "application/json", extra)
                return
            if fault == "hang":
                time.sleep(proxy.hang_seconds)
                self.close_connection = True
                return
            if fault == "html":
                self._reply(200, HTML, "text/html")
                return
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            upstream = proxy.forward(method, self.path, headers, body)
            content = upstream.content
            if fault == "truncated":
                content = content[: max(1, len(content) // 2)]
            elif fault == "loop":
                content = _looping(content, self.path)
            passed = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower().startswith("x-experience-api") or k.lower() == "retry-after"
            }
            self._reply(
                upstream.status_code, content, upstream.headers.get("Content-Type", ""), passed
            )

        def _reply(
            self, status: int, content: bytes, kind: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            return

    return Handler


def _looping(content: bytes, path: str) -> bytes:
    """The page with its `more` pointing back at the page itself."""
    try:
        page = json.loads(content)
    except ValueError:
        return content
    if isinstance(page, dict):
        page["more"] = urlsplit(path).path + "?" + urlsplit(path).query
    return json.dumps(page).encode()


@contextmanager
def fault_proxy(upstream_endpoint: str, **plan: Any) -> Iterator[FaultProxy]:
    """A proxy before the LRS at `upstream_endpoint` (ending in /xAPI/), its `endpoint` set."""
    parts = urlsplit(upstream_endpoint)
    proxy = FaultProxy(f"{parts.scheme}://{parts.netloc}", **plan)
    with loopback(_handler(proxy)) as base:
        proxy.endpoint = base + parts.path
        yield proxy
