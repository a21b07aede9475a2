"""Where an LRS pull resumes, and which of its pages can be checkpointed.

An LRS is read with `since` (and, to finish a walk, `until`), which it compares with one field
of each statement: `stored`, as xAPI says, or `timestamp`, as some LRSs do (Ralph). That field
is the cursor's `key`. Pages are checkpointed whole: the order inside a page does not matter,
only how pages follow each other. When each page's keys are all at or after the previous
page's, the pages come oldest first and everything up to the last checkpointed page is read
(`through`). When each page's keys are all at or before the previous page's, they come newest
first: the cursor then remembers the window being walked (the `since` it started from, the
newest key it saw first, how far down it has got), and a resumed pull finishes that window
(`until` = how far down) before `since` moves on. Pages in neither order are checkpointed only
once the last one is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, ClassVar

from onemind.connectors.cursors import instant, text, unreadable, versioned
from onemind.connectors.xapi_statements import parse_instant

KEYS = ("stored", "timestamp")
OLDEST_FIRST, NEWEST_FIRST = 1, -1


@dataclass(frozen=True)
class Window:
    """A newest-first walk of the statements after `since` (None: from the start) up to `top`,
    read from `top` down to `down_to`."""

    since: str | None
    top: str
    down_to: str

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "top": self.top, "down_to": self.down_to}


@dataclass(frozen=True)
class XapiCursor:
    """Where an LRS pull resumes. `key`: the statement field the LRS filters `since` on (None
    while unknown: marks are then the earlier of `stored` and `timestamp`); `through`: every
    statement up to this mark was read; `consistent_through`: the LRS's header when that read
    began; `window`: a newest-first walk under way. Version 1 (`stored`, `consistent_through`)
    reads as `through`, key unknown."""

    key: str | None = None
    through: str | None = None
    consistent_through: str | None = None
    window: Window | None = None
    VERSION: ClassVar[int] = 2

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "key": self.key,
            "through": self.through,
            "consistent_through": self.consistent_through,
            "window": self.window.to_json() if self.window else None,
        }

    @classmethod
    def from_json(cls, source: str, raw: Any) -> XapiCursor | None:
        """The cursor saved for `source`, if any (a version 1 cursor is read as version 2).

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        version = raw.get("version", 1) if isinstance(raw, Mapping) else None
        if type(version) is int and version == 1:
            body = versioned(source, raw, 1)
            return None if body is None else cls(None, *_instants(source, body, "stored"))
        body = versioned(source, raw, cls.VERSION)
        if body is None:
            return None
        key = text(source, body, "key")
        if key not in (None, *KEYS):
            raise unreadable(source, f"has key = {key!r}, not one of {', '.join(KEYS)}")
        return cls(key, *_instants(source, body, "through"), _window(source, body.get("window")))

    @property
    def exact(self) -> bool:
        """Whether the LRS is known to be conformant where resuming is concerned: it filters
        `since` on `stored` and said when the last read began which statements it had made
        visible. Everything stored up to the older of `through` and that time is then read,
        and nothing stored later can turn up below it: no overlap is needed."""
        return self.key == "stored" and self.consistent_through is not None

    def since(self, overlap: timedelta) -> datetime | None:
        """Where a pull that is not finishing a window starts: the older of `through` and the
        consistent-through time, less the overlap unless `exact`; None to read from the start."""
        if not self.through:
            return None
        marks = [parse_instant(self.through, "cursor.through")]
        if self.consistent_through:
            marks.append(parse_instant(self.consistent_through, "cursor.consistent_through"))
        return min(marks) - (timedelta(0) if self.exact else overlap)


def _instants(source: str, body: Mapping[str, Any], mark: str) -> tuple[str | None, str | None]:
    return instant(source, body, mark), instant(source, body, "consistent_through")


def _window(source: str, raw: Any) -> Window | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise unreadable(source, f"has window = {raw!r}, not a JSON object")
    top, down_to = instant(source, raw, "top"), instant(source, raw, "down_to")
    if not top or not down_to:
        raise unreadable(source, f"has window = {dict(raw)!r}, without its top and down_to")
    return Window(instant(source, raw, "since"), top, down_to)


@dataclass(frozen=True)
class Span:
    """The oldest and newest key on a page (as datetimes, and as the LRS wrote them); the
    newest key below the newest, if any; whether the page rises from oldest to newest."""

    low: datetime
    high: datetime
    low_text: str
    high_text: str
    below_high_text: str | None = None
    rising: bool = False

    @classmethod
    def of(cls, statements: list[Any], key: str | None) -> Span | None:
        """The page's span; None when no statement on it has a readable `key`."""
        marks = _marks(statements, key)
        if not marks:
            return None
        low, high = min(marks), max(marks)
        below = max([m for m in marks if m[0] < high[0]], default=None)
        rising = low[0] < high[0] and all(a <= b for a, b in pairwise(marks))
        return cls(low[0], high[0], low[1], high[1], below[1] if below else None, rising)

    @classmethod
    def at(cls, mark: str) -> Span:
        instant = parse_instant(mark, "cursor")
        return cls(instant, instant, mark, mark)

    def widen(self, other: Span | None) -> Span:
        if other is None:
            return self
        low = min((self.low, self.low_text), (other.low, other.low_text))
        high = max((self.high, self.high_text), (other.high, other.high_text))
        return Span(low[0], high[0], low[1], high[1])


def _marks(statements: list[Any], key: str | None) -> list[tuple[datetime, str]]:
    """Each statement's `key` value; while the key is unknown, the earlier of `stored` and
    `timestamp`, so that a mark is safe whichever of the two the LRS filters on."""
    if key is not None:
        return [mark for mark in (_mark(s, key) for s in statements) if mark is not None]
    found = []
    for statement in statements:
        known = [v for v in (_mark(statement, field) for field in KEYS) if v is not None]
        if known:
            found.append(min(known))
    return found


def _mark(statement: Any, field: str) -> tuple[datetime, str] | None:
    value = statement.get(field) if isinstance(statement, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, field), value
    except ValueError:
        return None


class PageWalk:
    """One pull's progress: which checkpoint each page allows, given how pages follow."""

    def __init__(self, saved: XapiCursor, key: str | None, since: str | None) -> None:
        self.saved = saved
        self.key = key
        self.since = since
        self.window = saved.window
        self.consistent_through = saved.consistent_through if saved.window else None
        self.direction: int | None = NEWEST_FIRST if saved.window else None
        self.last = Span.at(saved.window.down_to) if saved.window else None
        self.read: Span | None = None
        self.before_last: Span | None = None
        self.ordered = True

    def page(self, statements: list[Any]) -> XapiCursor | None:
        """Take in the next page; the cursor that now covers every page before it, if any."""
        span = Span.of(statements, self.key)
        if span is None:
            return None
        earlier, self.last = self.last, span
        checkpoint = self._after(earlier, span) if earlier is not None else None
        self.before_last, self.read = self.read, span.widen(self.read)
        return checkpoint

    def cut_short(self) -> XapiCursor | None:
        """The cursor covering every page read when the next cannot be: only if their order is
        known (a lone first page: from its own order, oldest first as asked)."""
        if not self.ordered or self.read is None or self.last is None:
            return None
        lone = self.before_last is None and self.last.rising
        direction = self.direction or (OLDEST_FIRST if lone else None)
        if direction == NEWEST_FIRST:
            return self._window_to(self.read)
        if direction is None:
            return None
        before = self.before_last.high_text if self.before_last else None
        through = _latest(self.saved.through, before, self.last.below_high_text)
        return XapiCursor(self.key, through, self.consistent_through)

    def end(self) -> XapiCursor:
        """The cursor once the last page is read: the window (if any) is done."""
        top = self.window.top if self.window else None
        through = _latest(self.saved.through, top, self.read.high_text if self.read else None)
        return XapiCursor(self.key, through, self.consistent_through)

    def _after(self, earlier: Span, span: Span) -> XapiCursor | None:
        """The checkpoint for the pages up to `earlier`, now that `span` follows it."""
        fits = {OLDEST_FIRST: span.low >= earlier.high, NEWEST_FIRST: span.high <= earlier.low}
        if not any(fits.values()) or (self.direction is not None and not fits[self.direction]):
            self.ordered = False
        elif self.direction is None and fits[OLDEST_FIRST] != fits[NEWEST_FIRST]:
            self.direction = OLDEST_FIRST if fits[OLDEST_FIRST] else NEWEST_FIRST
        if not self.ordered or self.direction is None or self.read is None:
            return None
        if self.direction == NEWEST_FIRST:
            return self._window_to(self.read)
        if span.low == earlier.high:  # statements with that key may be on both pages
            return None
        through = _latest(self.saved.through, self.read.high_text)
        return XapiCursor(self.key, through, self.consistent_through)

    def _window_to(self, read: Span) -> XapiCursor:
        """Everything from the window's top down to the oldest key read is in."""
        window = self.window or Window(self.since, read.high_text, read.low_text)
        self.window = replace(window, down_to=read.low_text)
        return replace(
            self.saved, key=self.key, consistent_through=self.consistent_through, window=self.window
        )


def _latest(*marks: str | None) -> str | None:
    """The latest of these times (as written), None if there are none."""
    known = [m for m in marks if m]
    return max(known, key=lambda m: parse_instant(m, "cursor")) if known else None
