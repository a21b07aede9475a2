"""Moodle's completions as records: courses, learners, rows of a custom report, and the
cursors each route resumes from."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from onemind.config.model import MoodleSourceConfig
from onemind.connectors.cursors import instant, listed, unreadable, versioned
from onemind.domain.records import Rejected
from onemind.errors import ConfigurationError

DATE_NOT_EMPTY, DATE_RANGE = 1, 3


@dataclass(frozen=True, slots=True)
class Course:
    """A course as Moodle's course lookup describes it."""

    id: int
    shortname: str
    fullname: str
    idnumber: str
    completion_enabled: bool


@dataclass(frozen=True, slots=True)
class Learner:
    """Who completed: what Moodle says of the person, as far as the route tells."""

    username: str | None
    email: str | None
    employee_id: str | None
    userid: int | None = None
    institution: str | None = None


@dataclass(frozen=True)
class MoodleStatusCursor:
    """Per-user route: the courses (by id) read whole in the current pass."""

    done: tuple[int, ...] = ()
    VERSION: ClassVar[int] = 1
    ROUTE: ClassVar[str] = "status"

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "route": self.ROUTE, "done": list(self.done)}

    @classmethod
    def from_json(cls, source: str, raw: Any) -> MoodleStatusCursor | None:
        """The cursor this route saved for `source`; None as well for the other route's (a
        switch of route starts over).

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        body = _routed(source, raw, cls.VERSION, cls.ROUTE)
        if body is None:
            return None
        try:
            return cls(tuple(int(course) for course in listed(source, body, "done")))
        except (TypeError, ValueError):
            raise unreadable(source, f"has done = {body['done']!r}, not course ids") from None


@dataclass(frozen=True)
class MoodleReportCursor:
    """Report route: the newest completion time read (ISO 8601, in the source's zone)."""

    completed_through: str | None = None
    VERSION: ClassVar[int] = 1
    ROUTE: ClassVar[str] = "report"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "route": self.ROUTE,
            "completed_through": self.completed_through,
        }

    @classmethod
    def from_json(cls, source: str, raw: Any) -> MoodleReportCursor | None:
        """The cursor this route saved for `source`; None as well for the other route's.

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        body = _routed(source, raw, cls.VERSION, cls.ROUTE)
        return None if body is None else cls(instant(source, body, "completed_through"))


def _routed(source: str, raw: Any, version: int, route: str) -> Mapping[str, Any] | None:
    body = versioned(source, raw, version)
    return body if body is not None and body.get("route") == route else None


class ReportReader:
    """Turns rows of the completions report into (course, person, completed) or a rejection."""

    def __init__(self, config: MoodleSourceConfig, zone: ZoneInfo) -> None:
        self.config = config
        self.zone = zone
        self.index: dict[str, int] = {}

    def read_headers(self, headers: list[Any]) -> None:
        """Where each configured column is (the report's headers, as staff named them).

        Raises:
            ConfigurationError: a required column is missing from the report.
        """
        if self.index or not headers:
            return
        names = [_cell(h).lower() for h in headers]
        wanted = self.config.report_headers
        self.index = {f: names.index(h.lower()) for f, h in wanted.items() if h.lower() in names}
        missing = [wanted[f] for f in ("course_shortname", "username", "completed")]
        missing = [h for h in missing if h.lower() not in names]
        if missing:
            raise ConfigurationError(
                f"report {self.config.report_id} lacks column(s) {', '.join(missing)}; "
                f"found: {', '.join(_cell(h) for h in headers)} (set report_columns)"
            )

    def row(
        self, cells: list[Any], number: int, courses: dict[str, Course]
    ) -> tuple[Course, Learner, datetime] | Rejected | None:
        """None for rows of other courses or not completed."""
        values = {f: _cell(cells[i]) if i < len(cells) else "" for f, i in self.index.items()}
        course = courses.get(values["course_shortname"])
        if course is None or not values["completed"]:
            return None
        location = f"report {self.config.report_id} row {number}"
        if not values["username"]:
            return Rejected(location, "no username", values)
        completed = self._when(values["completed"])
        if completed is None:
            header = self.config.report_headers["completed"]
            return Rejected(location, f"{header}: {values['completed']!r} is not a date", values)
        learner = Learner(
            values["username"],
            text_or_none(values.get("email")),
            text_or_none(values.get("employee_id")),
        )
        return course, learner, completed

    def _when(self, text: str) -> datetime | None:
        for fmt in self.config.report_date_formats:
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.zone)
            except ValueError:
                continue
        return None


def course_from(raw: dict[str, Any]) -> Course:
    """A course from one entry of core_course_get_courses_by_field."""
    return Course(
        id=int(raw["id"]),
        shortname=str(raw.get("shortname", "")),
        fullname=html.unescape(str(raw.get("fullname") or raw.get("displayname") or raw["id"])),
        idnumber=str(raw.get("idnumber") or ""),
        completion_enabled=bool(raw.get("enablecompletion", True)),
    )


def text_or_none(value: Any) -> str | None:
    """The value as stripped text, None when missing or blank."""
    return str(value).strip() or None if value is not None else None


def _cell(value: Any) -> str:
    """A report cell as plain text: Moodle formats them as HTML."""
    return html.unescape(re.sub(r"<[^>]*>", "", "" if value is None else str(value))).strip()


def later(current: str | None, when: datetime) -> str:
    """The later of an ISO instant and a datetime, as ISO text (the report cursor's mark)."""
    if current is None or datetime.fromisoformat(current) < when:
        return when.isoformat()
    return current


def filter_values(name: str, newest: str | None, overlap: timedelta) -> dict[str, int]:
    """The report's time-completed filter: not empty, or from the newest seen less the overlap."""
    if not newest:
        return {f"{name}_operator": DATE_NOT_EMPTY}
    since = datetime.fromisoformat(newest) - overlap
    return {f"{name}_operator": DATE_RANGE, f"{name}_from": int(since.timestamp()), f"{name}_to": 0}
