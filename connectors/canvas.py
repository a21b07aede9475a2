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
from urllib.parse import quote

import requests

from onemind.config.model import CanvasSourceConfig
from onemind.connectors.base import Connector, Pushes
from onemind.connectors.cursors import listed, versioned
from onemind.connectors.http import BearerToken, HttpClient
from onemind.connectors.paging import HeaderLinkPaginator
from onemind.domain.records import Checkpoint, CompletionRecord, CredentialNotice, PullItem
from onemind.errors import ConfigurationError, InvalidRecordError, SourceError

log = logging.getLogger(__name__)

REMAINING = "X-Rate-Limit-Remaining"
COST = "X-Request-Cost"
SCOPE = "onemind"


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

    def check(self) -> None:
        self.http.request("GET", f"{self.api}/users/self")
        for ref in self.config.course_ids:
            self.course(ref)

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
        return dict(self._json(response, f"course {ref}"))

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Course after course; the cursor records the courses done in this pass."""
        done = list((CanvasCursor.from_json(self.name, cursor) or CanvasCursor()).done)
        for ref in self.config.course_ids:
            if str(ref) in done:
                continue
            yield from self._completions(self.course(ref))
            done.append(str(ref))
            yield Checkpoint(CanvasCursor(tuple(done)).to_json())
        yield Checkpoint(CanvasCursor().to_json())

    def _completions(self, course: dict[str, Any]) -> Iterator[CompletionRecord]:
        params: dict[str, Any] = {
            "enrollment_type[]": "student",
            "enrollment_state[]": ["active", "completed"],
            "include[]": "email",
            "per_page": self.config.per_page,
        }
        for user in self._pages(f"{self.api}/courses/{course['id']}/users", params):
            progress = self._progress(course, user)
            if progress and progress.get("completed_at"):
                yield self._record(course, user, progress)

    def _progress(self, course: dict[str, Any], user: dict[str, Any]) -> dict[str, Any] | None:
        """The student's progress; 400 means the course has no completion requirements.

        Raises:
            ConfigurationError: the course is not module based (no requirements to complete).
        """
        url = f"{self.api}/courses/{course['id']}/users/{user['id']}/progress"
        response = self.http.request("GET", url, accept=(400, 404))
        if response.status_code == 404:
            log.info("user %s left course %s during the sync", user.get("id"), course["id"])
            return None
        body = self._json(response, f"progress of user {user.get('id')}")
        if response.status_code == 400:
            message = (body.get("error") or {}).get("message", "") if isinstance(body, dict) else ""
            raise ConfigurationError(
                f"source {self.name!r}: course {course['id']} ({course.get('name')}) reports no "
                f"completion ({message or 400}); give its modules completion requirements"
            )
        return body if isinstance(body, dict) else None

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

    def _pages(self, url: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a listing: the first page asked with `params`, the rest by link."""
        pages = HeaderLinkPaginator(self.name, self.config.base_url, url)
        query: dict[str, Any] | None = params
        while not pages.finished:
            response = self.http.request("GET", pages.current, params=query)
            items = self._json(response, url)
            if not isinstance(items, list):
                raise SourceError(f"source {self.name!r}: {url} did not answer a list")
            yield from items
            pages.advance(response)
            query = None

    def push(self, notice: CredentialNotice) -> str:
        """Store the credential in the person's custom data (only if it is not there already)."""
        return self._store(notice, "active")

    def revoke(self, notice: CredentialNotice) -> str:
        """Mark the stored credential revoked, keeping what was issued for the record."""
        return self._store(notice, "revoked")

    def _store(self, notice: CredentialNotice, status: str) -> str:
        """Write the credential under `onemind/<credential id>` unless it is there as is."""
        user_id = self._person(notice)
        scope = f"{SCOPE}/{quote(notice.credential_id, safe='')}"
        url = f"{self.api}/users/{user_id}/custom_data/{scope}"
        data = {
            "credential_id": notice.credential_id,
            "category": notice.category,
            "achievement": notice.achievement_name,
            "issued_at": notice.issued_at.isoformat(),
            "credential": notice.credential,
            "status": status,
        }
        ns = {"ns": self.config.namespace}
        stored = self.http.request("GET", url, accept=(400,), params=ns)
        body = self._json(stored, url) if stored.status_code == 200 else None
        if not isinstance(body, dict) or body.get("data") != data:
            self.http.request("PUT", url, params=ns, json={"data": data})
        return f"users/{user_id}/custom_data/{scope}"

    def _person(self, notice: CredentialNotice) -> int:
        """The Canvas user id: by SIS user id (the employee id), else by login (the email)."""
        if notice.employee_id:
            ref = f"sis_user_id:{quote(notice.employee_id, safe='')}"
        elif notice.email:
            ref = f"sis_login_id:{quote(notice.email, safe='')}"
        else:
            raise InvalidRecordError(
                f"source {self.name!r}: credential {notice.credential_id} names no "
                "employee id or email to find the person by"
            )
        response = self.http.request("GET", f"{self.api}/users/{ref}", accept=(404,))
        if response.status_code == 404:
            raise InvalidRecordError(
                f"source {self.name!r}: Canvas has no user {ref} "
                f"(credential {notice.credential_id})"
            )
        return int(self._json(response, f"user {ref}")["id"])

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise SourceError(
                f"source {self.name!r}: {what} is not valid JSON: {response.text[:120]!r}"
            ) from exc


def _number(value: str | None, default: float | None) -> float | None:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default
