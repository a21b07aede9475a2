"""Oversize uploads are refused before they are read: over real HTTP (uvicorn), a declared
Content-Length over the limit is answered at once, and a chunked body with no declared length
that never ends is answered 413 as soon as it passes the limit."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from web_world import build, csrf, serve, sign_in

from onemind.web import limits
from onemind.web.access import COOKIE

BOUNDARY = "onemindboundary"
CHUNK = 256 * 1024
NEVER_MORE_THAN = 3 * limits.MAX_BODY  # the client gives up here: the server read it all


@pytest.fixture
def app(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> FastAPI:
    return build(tmp_path, sessions, now)


def form_start(token: str) -> bytes:
    """The attestation form's fields, then the start of a PDF file part that goes on and on."""
    fields = {"csrf": token, "kind": "policy", "attested_on": "2026-10-01", "note": "big"}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )
    return "".join(parts).encode()


def post(
    base: str, client_cookie: str, length: str | None, body: Iterator[bytes]
) -> tuple[str, int]:
    """POST an attestation over a socket, sending `body` until the server answers; the answer
    and how many body bytes went out before it came."""
    address = urlsplit(base)
    framing = f"Content-Length: {length}" if length else "Transfer-Encoding: chunked"
    head = (
        "POST /agencies/b-pd/attestations HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        f"Cookie: {COOKIE}={client_cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"{framing}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(head.encode())
        sent = 0
        for piece in body:
            if select.select([sock], [], [], 0)[0] or sent > NEVER_MORE_THAN:
                break
            sock.sendall(piece)
            sent += len(piece)
        assert select.select([sock], [], [], 30)[0], "no answer"
        answer = b""
        while b"</html>" not in answer and b"}" not in answer:
            got = sock.recv(65536)
            if not got:
                break
            answer += got
    return answer.decode("utf-8", errors="replace"), sent


def endless(first: bytes) -> Iterator[bytes]:
    """The form's start, then zeros for ever, as pieces of the chunked encoding."""
    piece = first
    while True:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        piece = b"0" * CHUNK


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversize_upload_is_refused_before_it_is_read(app: FastAPI, declared: bool) -> None:
    client = sign_in(app, "bcoord")
    token = csrf(client)
    cookie = client.cookies[COOKIE]
    first = form_start(token)
    with serve(app) as base:
        if declared:  # 100 MB announced, a few hundred bytes sent: the answer cannot wait
            answer, sent = post(base, cookie, str(10 * limits.MAX_BODY), iter([first]))
        else:
            answer, sent = post(base, cookie, None, endless(first))
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert "an uploaded file may be at most 10 MB" in answer
    if declared:
        assert sent == len(first)
    else:
        assert limits.MAX_BODY < sent < NEVER_MORE_THAN  # counted as it came, stopped past it
    assert not (Path(app.state.evidence)).exists() or not any(Path(app.state.evidence).iterdir())
    page = client.get("/agencies/b-pd").text
    policy = page[page.index('data-requirement="policy"') :][:200]
    assert "✗" in policy
