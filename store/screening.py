"""What the store can keep of a record, decided before anything is written, alike on every backend.

PostgreSQL refuses a NUL character in any text, a string longer than its column, and NaN or
infinity in JSON; SQLite keeps them all. A record that would fail on one backend is quarantined
on both, with the field that stopped it, so one bad record never fails the batch (and the
source) it came in. Dates no completion can have are quarantined here too, against the run's
clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from math import isfinite
from operator import attrgetter
from typing import Any

from onemind.domain.payload_text import MAX_DEPTH
from onemind.domain.records import CompletionRecord, Record, Rejected, RosterEntry, VoidRecord
from onemind.store.models import Completion, Employment, Person, RawRecord, Voiding

NUL = "\x00"
EARLIEST_COMPLETION = date(1950, 1, 1)
FUTURE_MARGIN = timedelta(days=1)
"""A completion may be dated this far past the run's day (time zones ahead of UTC)."""
HOLDS_NUL = "contains a NUL character, which the store cannot keep"
NOT_FINITE = "is not a number the store can keep"
KEPT_TEXT = 1000
"""Longest text of a quarantined payload kept as is; longer text is cut."""


def screen(record: Record, today: date) -> Record:
    """The record, or a Rejected naming the field the store cannot keep and why."""
    if isinstance(record, Rejected):
        return record
    checked = getattr(record, "payload_text", None) is not None  # cleared as it was read
    reason = (None if checked else _payload_reason(record.payload)) or _text_reason(record)
    if reason is None and isinstance(record, CompletionRecord):
        reason = _completion_reason(record, today)
    if reason is None:
        return record
    return Rejected(record.location, reason, record.payload)


def completion_dates_problem(
    completed_on: date, expires_on: date | None, today: date
) -> str | None:
    """Why these dates cannot be a completion's, if they cannot."""
    latest = today + FUTURE_MARGIN
    if not EARLIEST_COMPLETION <= completed_on <= latest:
        return (
            f"completed_on: {completed_on} is outside {EARLIEST_COMPLETION} to {latest} "
            "(the run's day)"
        )
    if expires_on is not None and expires_on < completed_on:
        return f"expires_on: {expires_on} is before completed_on {completed_on}"
    return None


def _completion_reason(record: CompletionRecord, today: date) -> str | None:
    if record.hours is not None and not isfinite(record.hours):
        return f"hours: {record.hours} {NOT_FINITE}"
    return completion_dates_problem(record.completed_on, record.expires_on, today)


def _text_reason(record: CompletionRecord | RosterEntry | VoidRecord) -> str | None:
    shape = _shape(type(record))
    for name, value, limit in zip(shape.names, shape.values(record), shape.limits, strict=True):
        if value is None:
            continue
        if NUL in value:
            return f"{name}: {HOLDS_NUL}"
        if len(value) > limit:
            return f"{name}: {len(value)} characters, more than the {limit} the store keeps"
    return None


def _payload_reason(payload: dict[str, Any]) -> str | None:
    """Where the payload holds what JSON in the store cannot: a NUL, a NaN or infinity, or
    nesting past MAX_DEPTH. A flat row of text, the common case, is checked at once."""
    try:
        if NUL not in "".join(payload) and NUL not in "".join(payload.values()):
            return None
    except TypeError:
        pass
    for path, value, depth in _walk(payload):
        if NUL in path or (type(value) is str and NUL in value):
            return f"{path}: {HOLDS_NUL}"
        if type(value) is float and not isfinite(value):
            return f"{path}: {value} {NOT_FINITE}"
        if depth >= MAX_DEPTH and isinstance(value, dict | list):
            return f"{path}: nested more than {MAX_DEPTH} levels deep"
    return None


def _walk(payload: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """Every value under the payload, in order, with its dotted path and depth, not recursing."""
    pending: list[tuple[str, Any, int]] = [("", payload, 0)]
    while pending:
        path, value, depth = pending.pop()
        if path:
            yield path, value, depth
        if depth >= MAX_DEPTH:
            continue
        if isinstance(value, dict):
            items = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(f"[{i}]", v) for i, v in enumerate(value)]
        else:
            continue
        for key, inner in reversed(items):
            joined = f"{path}{key}" if key.startswith("[") or not path else f"{path}.{key}"
            pending.append((joined, inner, depth + 1))


@dataclass(frozen=True)
class TextFields:
    """A record type's text fields, a getter of their values, and the longest each may be."""

    names: tuple[str, ...]
    limits: tuple[int, ...]
    values: Callable[[Any], tuple[str | None, ...]]


@cache
def _shape(kind: type) -> TextFields:
    """The text fields of `kind`, held to their columns' lengths (a position's key, which is
    two characters longer than the position, to its own)."""
    columns = {"external_id": RawRecord.external_id}
    if kind is CompletionRecord:
        columns |= {n: getattr(Completion, n) for n in ("employee_id", "email", "mbox_sha1sum")}
        columns |= {n: getattr(Completion, n) for n in ("account", "course_key", "course_title")}
        columns |= {n: getattr(Completion, n) for n in ("provider", "activity_type")}
        columns["agency"] = Completion.agency_hint
    elif kind is RosterEntry:
        columns |= {n: getattr(Employment, n) for n in ("employee_id", "position")}
        columns |= {n: getattr(Person, n) for n in ("first_name", "last_name", "email")}
        columns["agency"] = Employment.agency_id
    else:
        columns["target_external_id"] = Voiding.target_external_id
    margin = {"position": 2}
    return TextFields(
        names=tuple(columns),
        limits=tuple(c.type.length - margin.get(n, 0) for n, c in columns.items()),
        values=attrgetter(*columns),
    )


def kept(value: Any, depth: int = 0) -> Any:
    """A quarantined value as the store can keep it: NULs shown as U+FFFD, long text cut,
    NaN and infinities as text, nesting past MAX_DEPTH dropped."""
    if isinstance(value, float) and not isfinite(value):
        return str(value)
    if isinstance(value, str):
        text = value.replace(NUL, "\ufffd")
        return text if len(text) <= KEPT_TEXT else text[:KEPT_TEXT] + "…"
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        return f"(nested more than {MAX_DEPTH} levels deep)"
    if isinstance(value, dict):
        return {kept(str(k)): kept(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [kept(v, depth + 1) for v in value]
    return value
