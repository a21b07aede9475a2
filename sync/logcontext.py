"""Structured context (job, source, run id) on every log line, as text or one JSON object a line."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from onemind.private_files import create_private

Fields = tuple[tuple[str, str | int], ...]

_CONTEXT: contextvars.ContextVar[Fields] = contextvars.ContextVar("onemind_log_context", default=())
FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"
QUIET = ("alembic", "apscheduler")
"""Libraries whose INFO lines repeat ours: they speak from WARNING up."""


@contextmanager
def log_context(**fields: str | int) -> Iterator[None]:
    """Every line logged inside carries these fields (added to those already in force)."""
    token = _CONTEXT.set((*_CONTEXT.get(), *fields.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def sync_context(source: str, run_id: int) -> AbstractContextManager[None]:
    """The context of one source's sync: its name and run id."""
    return log_context(source=source, run_id=run_id)


class ContextFilter(logging.Filter):
    """Adds the fields to records: `%(context)s` for text, `fields` for JSON."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _CONTEXT.get()
        record.fields = dict(fields)
        record.context = "[" + " ".join(f"{k}={v}" for k, v in fields) + "] " if fields else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, then the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: int, log_format: str = "text", log_file: Path | None = None) -> None:
    """Log to stderr, or to `log_file` (created owner-only), as text or JSON lines."""
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler()
    else:
        create_private(log_file)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
