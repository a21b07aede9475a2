"""What the store can keep of a record, decided before anything is written, alike on every backend.

PostgreSQL refuses a NUL character in any text and a string longer than its column; SQLite
keeps both. A record that would fail on one backend is quarantined on both, with the field
that stopped it, so one bad record never fails the batch (and the source) it came in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from operator import attrgetter
from typing import Any

from onemind.domain.records import CompletionRecord, Record, Rejected, RosterEntry, VoidRecord
from onemind.store.models import Completion, Employment, Person, RawRecord, Voiding

NUL = "\x00"
EARLIEST_COMPLETION = date(1950, 1, 1)
FUTURE_MARGIN = timedelta(days=1)
"""A completion may be dated this far past the run's day (time zones ahead of UTC)."""
MAX_DEPTH = 64
"""Deeper payloads are refused: no source sends them, and walking them could exhaust the stack."""
KEPT_TEXT = 1000
"""Longest text of a quarantined payload kept as is; longer text is cut."""


def screen(record: Record, today: date) -> Record:
    """The record, or a Rejected naming the field the store cannot keep and why."""
    if isinstance(record, Rejected):
        return record
    reason = _unstorable_text(record)
    if reason is None and isinstance(record, CompletionRecord):
        reason = completion_dates_problem(record.completed_on, record.expires_on, today)
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


def _unstorable_text(record: CompletionRecord | RosterEntry | VoidRecord) -> str | None:
    values = _texts(type(record))(record)
    if NUL in "".join(filter(None, values)) or _payload_problem(record.payload):
        return _nul_or_depth_reason(record)
    for (name, limit), value in zip(_limits(type(record)), values, strict=True):
        if value is not None and len(value) > limit:
            return f"{name}: {len(value)} characters, more than the {limit} the store keeps"
    return None


def _payload_problem(payload: dict[str, Any]) -> bool:
    """Whether the payload holds a NUL or is nested too deeply (a flat row of text is quick)."""
    try:
        return NUL in "".join(payload) or NUL in "".join(payload.values())
    except TypeError:
        pass
    pending: list[tuple[Any, int]] = [(payload, 0)]
    while pending:
        value, depth = pending.pop()
        if type(value) is str:
            if NUL in value:
                return True
        elif isinstance(value, dict | list) and depth >= MAX_DEPTH:
            return True
        elif isinstance(value, dict):
            if NUL in "".join(map(str, value)):
                return True
            pending.extend((inner, depth + 1) for inner in value.values())
        elif isinstance(value, list):
            pending.extend((inner, depth + 1) for inner in value)
    return False


def _nul_or_depth_reason(record: CompletionRecord | RosterEntry | VoidRecord) -> str:
    """Names the first field holding a NUL, or the payload nested too deeply."""
    nul = "contains a NUL character, which the store cannot keep"
    for path, value, depth in _walk(record.payload):
        if depth >= MAX_DEPTH and isinstance(value, dict | list):
            return f"{path}: nested more than {MAX_DEPTH} levels deep"
        if NUL in path or (type(value) is str and NUL in value):
            return f"{path}: {nul}"
    values = _texts(type(record))(record)
    columns = _columns(type(record))
    field = next(name for (name, _), v in zip(columns, values, strict=True) if v and NUL in v)
    return f"{field}: {nul}"


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


@cache
def _columns(kind: type) -> tuple[tuple[str, Any], ...]:
    """The record's text fields and the column each is stored in."""
    shared = {"external_id": RawRecord.external_id}
    if kind is CompletionRecord:
        own = {
            name: getattr(Completion, name)
            for name in ("employee_id", "email", "mbox_sha1sum", "account", "course_key")
        }
        own |= {
            "agency": Completion.agency_hint,
            "course_title": Completion.course_title,
            "provider": Completion.provider,
            "activity_type": Completion.activity_type,
        }
    elif kind is RosterEntry:
        own = {
            "agency": Employment.agency_id,
            "employee_id": Employment.employee_id,
            "first_name": Person.first_name,
            "last_name": Person.last_name,
            "email": Person.email,
            "position": Employment.position,
        }
    else:
        own = {"target_external_id": Voiding.target_external_id}
    return tuple((shared | own).items())


@cache
def _limits(kind: type) -> tuple[tuple[str, int], ...]:
    """Each text field's longest storable value (a position's key is two characters longer)."""
    margin = {"position": 2}
    return tuple(
        (name, column.type.length - margin.get(name, 0)) for name, column in _columns(kind)
    )


@cache
def _texts(kind: type) -> Any:
    """A getter of the record's text fields, in the order of `_limits`."""
    return attrgetter(*(name for name, _ in _columns(kind)))


def kept(value: Any, depth: int = 0) -> Any:
    """A quarantined value as the store can keep it: NULs shown as U+FFFD, long text cut,
    nesting past MAX_DEPTH dropped."""
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
