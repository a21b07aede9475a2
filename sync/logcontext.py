"""Structured context (source, run id) on every log line written during a source's sync."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

_CONTEXT: contextvars.ContextVar[str] = contextvars.ContextVar("onemind_sync_context", default="")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"


@contextmanager
def sync_context(source: str, run_id: int) -> Iterator[None]:
    token = _CONTEXT.set(f"[source={source} run={run_id}] ")
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Adds `%(context)s` to records so handlers can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = _CONTEXT.get()
        return True


def configure(level: int) -> None:
    """Log to stderr with the sync context on every line."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
