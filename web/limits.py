"""A ceiling on request bodies, enforced before they are read: a declared Content-Length over it
is refused at once, and a body sent without one (chunked) is counted as it streams in and
refused the moment it passes the ceiling, so an oversize upload is never spooled whole."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onemind.web import evidence

FORM_ALLOWANCE = 64 * 1024  # the other form fields and the multipart framing around a file
MAX_BODY = evidence.MAX_BYTES + FORM_ALLOWANCE
TOO_LARGE = (
    f"The request is too large: an uploaded file may be at most {evidence.MAX_BYTES >> 20} MB."
)

Refuse = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """Raised from the body stream when it passes the ceiling; the app's handler for
    HTTPException answers 413 with the message, as a page or as JSON."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyLimit:
    """ASGI middleware: bodies of at most `limit` bytes reach the app; `refuse` answers a
    request whose declared length is already over it (the app is not called)."""

    def __init__(self, app: ASGIApp, limit: int, refuse: Refuse) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self.refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length, if any (the server refuses a malformed one; the body is
    counted either way)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None
