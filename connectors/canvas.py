"""A Canvas LMS over its REST API: course completion per student, credentials as custom data.

Canvas says when a student completed a course's module requirements (the user's course
progress), not which completions are new, so every run re-reads the configured courses; the
records are keyed on course and user, so a re-read changes nothing. The cursor names the
courses finished in the current pass, so a rerun after a failure starts where it failed.
Requests go one at a time, slowing down before Canvas's rate-limit bucket runs dry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import requests

from onemind.config.model import CanvasSourceConfig
from onemind.connectors.accounts import account
from onemind.connectors.base import CheckResult, Connector, Pushes, run_checks
from onemind.connectors.canvas_push import SCOPE, CanvasPush, read_json
from onemind.connectors.cursors import listed, versioned
from onemind.connectors.http import BearerToken, HttpClient
from onemind.connectors.paging import HeaderLinkPaginator
from onemind.domain.records import (
    Checkpoint,
    CompletionRecord,
    CredentialNotice,
    PullItem,
    Skipped,
)
from onemind.errors import ConfigurationError, SourceError

log = logging.getLogger(__name__)

REMAINING = "X-Rate-Limit-Remaining"
COST = "X-Request-Cost"
NO_PROGRESS = "Canvas gave no progress for this student"


class RateLimitPacer:
    """Pauses before a request when the remaining quota is below a floor, long enough for the
    bucket to refill above it: Canvas throttles once the quota is spent (403 or 429)."""

    def __init__(self, floor: float, refill_per_second: float, cap: float = 60.0) -> None:
        self.floor = floor
        self.refill = refill_per_second
        self.cap = cap
        self.remaining: float | None = None
        self.cost = 0.0

    def wait(self) -> float:
        if self.remaining is None or self.remaining >= self.floor:
            return 0.0
        pause = min(self.cap, (self.floor - self.remaining + self.cost) / self.refill)
        self.remaining += pause * self.refill
        return pause

    def observe(self, response: requests.Response) -> None:
        self.remaining = _number(response.headers.get(REMAINING), self.remaining)
        self.cost = _number(response.headers.get(COST), self.cost) or 0.0


@dataclass(frozen=True)
class CanvasCursor:
    """The configured courses (as written in the settings) read whole in the current pass."""

    done: tuple[str, ...] = ()
    VERSION: ClassVar[int] = 1

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "done": list(self.done)}

    @classmethod
    def from_json(cls, source: str, raw: Any) -> CanvasCursor | None:
        """The cursor saved for `source`, if any.

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        body = versioned(source, raw, cls.VERSION)
        return None if body is None else cls(tuple(str(r) for r in listed(source, body, "done")))


class CanvasConnector(Connector, Pushes):
    """Reads when each student completed each configured course; stores credentials back."""

    def __init__(
        self,
        config: CanvasSourceConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.zone = config.timezone
        http = session or requests.Session()
        http.headers.update({"Accept": "application/json"})
        pacer = RateLimitPacer(config.rate_limit_floor, config.rate_refill_per_second)
        self.http = HttpClient.for_source(
            config,
            http,
            sleep,
            pacer,
            endpoint=config.base_url,
            auth=BearerToken(config.token.get()),
        )
        self.api = config.base_url + "/api/v1"
        self.pushes = CanvasPush(config, self.http, self.api)
        self._bulk: bool | None = None  # does the instance answer bulk_user_progress?

    def check(self) -> CheckResult:
        return run_checks(
            ("token", self._token_accepted),
            ("courses and permissions", self._courses_and_permissions),
        )

    def _token_accepted(self) -> str:
        self.http.request("GET", f"{self.api}/users/self")
        return "the token is accepted"

    def _courses_and_permissions(self) -> str:
        courses = [self.course(ref) for ref in self.config.course_ids]
        missing = self._missing_permissions(courses[0]) + self._assignment_problems()
        if missing:
            raise ConfigurationError(f"source {self.name!r}: " + "; ".join(missing))
        return f"{len(courses)} course(s) found; no permission found missing"

    def _missing_permissions(self, course: dict[str, Any]) -> list[str]:
        """What the token's user may not do, judged on the course's first student: Canvas
        leaves out the fields it may not see, and refuses custom data it may not manage."""
        url = f"{self.api}/courses/{course['id']}/users"
        people = self._json(self.http.request("GET", url, params=self._students(1)), url)
        if not isinstance(people, list) or not people:
            return []
        person, missing = people[0], []
        if "sis_user_id" not in person:
            missing.append("the token cannot see SIS ids: give it SIS Data - read")
        if "email" not in person:
            missing.append(
                "the token cannot see email addresses: give it Users - view primary email address"
            )
        data = f"{self.api}/users/{person['id']}/custom_data/{SCOPE}"
        ns = {"ns": self.config.namespace}
        if self.http.request("GET", data, accept=(400, 401, 404), params=ns).status_code == 401:
            missing.append(
                "the token cannot write custom data: give it Users - manage user details"
            )
        return missing

    def _assignment_problems(self) -> list[str]:
        """What is wrong with the configured certification assignment, if one is set."""
        if self.config.certification_assignment is None:
            return []
        course, assignment = self.config.certification_assignment
        url = f"{self.api}/courses/{course}/assignments/{assignment}"
        response = self.http.request("GET", url, accept=(404,))
        if response.status_code == 404:
            return [f"course {course} has no assignment {assignment} (or the token cannot see it)"]
        grading = self._json(response, url).get("grading_type")
        if grading != "pass_fail":
            return [f"assignment {assignment} is graded {grading}: make it Complete/Incomplete"]
        return []

    def course(self, ref: int | str) -> dict[str, Any]:
        """One configured course (by Canvas id or `sis_course_id:…`).

        Raises:
            ConfigurationError: Canvas has no such course, or not for this token.
        """
        response = self.http.request("GET", f"{self.api}/courses/{ref}", accept=(404,))
        if response.status_code == 404:
            raise ConfigurationError(
                f"source {self.name!r}: Canvas has no course {ref} (or the token cannot see it)"
            )
        return self._object(self._json(response, f"course {ref}"), f"GET courses/{ref}")

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Course after course; the cursor records the courses done in this pass."""
        done = list((CanvasCursor.from_json(self.name, cursor) or CanvasCursor()).done)
        self._bulk = None
        for ref in self.config.course_ids:
            if str(ref) in done:
                continue
            yield from self._completions(self.course(ref))
            done.append(str(ref))
            yield Checkpoint(CanvasCursor(tuple(done)).to_json())
        yield Checkpoint(CanvasCursor().to_json())

    def _completions(self, course: dict[str, Any]) -> Iterator[CompletionRecord | Skipped]:
        """Each student's completion: progress for the whole course at once where the instance
        answers bulk_user_progress, one request per student otherwise (and for students the
        bulk answer leaves out)."""
        students = list(self._pages(f"{self.api}/courses/{course['id']}/users", self._students()))
        bulk = self._bulk_progress(course) if students else {}
        if isinstance(bulk, Skipped):
            yield bulk
            return
        for user in students:
            progress = bulk.get(user["id"]) if bulk is not None else None
            if progress is None:
                progress = self._progress(course, user)
            if "error" in progress or "errors" in progress:
                yield _no_progress(course, user, _message(progress))
            elif progress.get("completed_at"):
                yield self._record(course, user, progress)

    def _students(self, size: int | None = None) -> dict[str, Any]:
        return {
            "enrollment_type[]": "student",
            "enrollment_state[]": ["active", "completed"],
            "include[]": "email",
            "per_page": size or self.config.per_page,
        }

    def _bulk_progress(self, course: dict[str, Any]) -> dict[int, dict[str, Any]] | Skipped | None:
        """Progress by user id for the course; None where the instance has no bulk route (404,
        remembered), a Skipped course when Canvas reports no progress for it (400)."""
        if self._bulk is False:
            return None
        url = f"{self.api}/courses/{course['id']}/bulk_user_progress"
        params = {"per_page": self.config.per_page}
        first = self.http.request("GET", url, accept=(400, 404), params=params)
        if first.status_code == 404:
            log.info("bulk_user_progress not on this instance: one request per student")
            self._bulk = False
            return None
        self._bulk = True
        if first.status_code == 400:
            return _no_progress(course, None, _message(self._json(first, url)))
        entries = self._pages(url, params, first=first)
        return {int(e["id"]): dict(e.get("progress") or {}) for e in entries}

    def _progress(self, course: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """One student's progress ({} when they left the course during the sync); a 400 (an
        enrolment deactivated meanwhile, or no requirements) answers Canvas's error body."""
        url = f"{self.api}/courses/{course['id']}/users/{user['id']}/progress"
        response = self.http.request("GET", url, accept=(400, 404))
        if response.status_code == 404:
            log.info("user %s left course %s during the sync", user.get("id"), course["id"])
            return {}
        body = self._json(response, f"progress of user {user.get('id')}")
        if response.status_code == 400 and not isinstance(body, dict):
            return {"error": str(body)}
        return body if isinstance(body, dict) else {}

    def _record(
        self, course: dict[str, Any], user: dict[str, Any], progress: dict[str, Any]
    ) -> CompletionRecord:
        completed = datetime.fromisoformat(str(progress["completed_at"]).replace("Z", "+00:00"))
        login = str(user.get("login_id") or "")
        return CompletionRecord(
            external_id=f"canvas:{course['id']}:{user['id']}",
            location=f"course {course['id']} user {user['id']}",
            course_key=f"canvas:{course['id']}",
            course_title=str(course.get("name") or course.get("course_code") or course["id"]),
            completed_on=completed.astimezone(self.zone).date(),
            employee_id=user.get("sis_user_id") or None,
            email=user.get("email") or (login if "@" in login else None),
            agency=self.config.agency,
            account=account(self.config.base_url, user["id"]),
            payload={
                "course_id": course["id"],
                "course_code": course.get("course_code"),
                "sis_course_id": course.get("sis_course_id"),
                "user_id": user["id"],
                "login_id": user.get("login_id"),
                "sis_user_id": user.get("sis_user_id"),
                "completed_at": progress["completed_at"],
                "requirement_count": progress.get("requirement_count"),
            },
        )

    def _pages(
        self, url: str, params: dict[str, Any], first: requests.Response | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing: the first page asked with `params` (or answered already
        as `first`), the rest by link."""
        pages = HeaderLinkPaginator(self.name, self.config.base_url, url)
        query: dict[str, Any] | None = params
        while not pages.finished:
            response = first or self.http.request("GET", pages.current, params=query)
            first = None
            items = self._json(response, url)
            if not isinstance(items, list):
                raise SourceError(f"source {self.name!r}: {url} did not answer a list")
            yield from (self._object(item, f"GET {url}") for item in items)
            pages.advance(response)
            query = None

    def push(self, notice: CredentialNotice) -> str:
        """Store the credential in the person's custom data, and grade the certification
        assignment `complete` where one is configured (only what is not so already)."""
        return self.pushes.deliver(notice, "active")

    def revoke(self, notice: CredentialNotice) -> str:
        """Mark the stored credential revoked, keeping what was issued for the record; the
        assignment goes back to `incomplete` unless another credential still stands."""
        return self.pushes.deliver(notice, "revoked")

    def _json(self, response: requests.Response, what: str) -> Any:
        return read_json(self.name, response, what)

    def _object(self, item: Any, what: str) -> dict[str, Any]:
        """A Canvas object, which always carries its `id`.

        Raises:
            ConfigurationError: the answer is not shaped like Canvas's (is base_url right?).
        """
        if isinstance(item, dict) and isinstance(item.get("id"), int | str):
            return item
        shape = (
            f"an object without 'id' (keys: {', '.join(sorted(map(str, item))[:8])})"
            if (isinstance(item, dict))
            else f"a {type(item).__name__}"
        )
        raise ConfigurationError(
            f"source {self.name!r}: {what} answered {shape} where Canvas gives an object with "
            "an 'id'; is base_url the Canvas instance?"
        )


def _number(value: str | None, default: float | None) -> float | None:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _message(body: Any) -> str:
    """Canvas's message in an error body: `{"error": {"message": …}}` or `{"errors": […]}`."""
    error = body.get("error") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message"))
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message"))
    return str(error or body)


def _no_progress(course: dict[str, Any], user: dict[str, Any] | None, message: str) -> Skipped:
    """A student (or, with no user, a whole course) Canvas gave no progress for: passed over."""
    if user is None:
        return Skipped(
            f"course {course['id']} ({course.get('name')})",
            f"passed over: Canvas reports no progress for it ({message}); give its modules "
            "completion requirements",
        )
    return Skipped(f"course {course['id']} user {user.get('id')}", f"{NO_PROGRESS} ({message})")
