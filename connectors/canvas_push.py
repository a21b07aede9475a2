"""Credentials pushed to Canvas: each as the person's custom data (for machines: Canvas shows
custom data nowhere), and, where configured, as a grade of a Complete/Incomplete assignment
the learner and their instructors see.

The assignment stands for every credential: it stays `complete` while any of the person's
credentials is valid, and goes back to `incomplete` only when the last one is withdrawn.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from onemind.config.model import CanvasSourceConfig
from onemind.connectors.accounts import user_on
from onemind.connectors.http import HttpClient
from onemind.domain.records import CredentialNotice
from onemind.errors import InvalidRecordError, SourceError

SCOPE = "onemind"
PLAIN_ID = re.compile(r"[A-Za-z0-9_\-]+")


def sis_ref(kind: str, value: str) -> str:
    """A `sis_user_id:…` reference to a user, hex-encoded when the id would break Canvas's
    routing (a `/`, a `.json` ending, any dot or other punctuation)."""
    if PLAIN_ID.fullmatch(value):
        return f"{kind}:{value}"
    return f"hex:{kind}:{value.encode().hex()}"


class CanvasPush:
    """Writes credentials to one Canvas instance for the people its records name."""

    def __init__(self, config: CanvasSourceConfig, http: HttpClient, api: str) -> None:
        self.config = config
        self.name = config.name
        self.http = http
        self.api = api

    def deliver(self, notice: CredentialNotice, status: str) -> str:
        """Store the credential with `status` (active, revoked); grade the assignment."""
        user_id = self.person(notice)
        remote = self._store(notice, user_id, status)
        if self.config.certification_assignment is not None:
            standing = status == "active" or bool(notice.others_valid)
            self._grade(notice, user_id, "complete" if standing else "incomplete")
        return remote

    def _store(self, notice: CredentialNotice, user_id: int, status: str) -> str:
        """Write the credential under `onemind/<credential id>` unless it is there as is."""
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

    def _grade(self, notice: CredentialNotice, user_id: int, grade: str) -> None:
        """Set the person's grade of the certification assignment, unless it is that already.

        Raises:
            InvalidRecordError: the person is not a student of the assignment's course.
        """
        course, assignment = self.config.certification_assignment or (0, 0)
        url = f"{self.api}/courses/{course}/assignments/{assignment}/submissions/{user_id}"
        current = self.http.request("GET", url, accept=(404,))
        if current.status_code == 404:
            raise InvalidRecordError(
                f"source {self.name!r}: user {user_id} is not a student of course {course}, "
                f"so assignment {assignment} cannot be graded (credential {notice.credential_id})"
            )
        if (self._json(current, url) or {}).get("grade") != grade:
            self.http.request("PUT", url, data={"submission[posted_grade]": grade})

    def person(self, notice: CredentialNotice) -> int:
        """The Canvas user id: from the account this source's records carry, else by SIS user
        id (the employee id), else by login (Canvas finds logins, not email addresses).

        Raises:
            InvalidRecordError: Canvas has no such user.
        """
        known = user_on(self.config.base_url, notice.accounts)
        if known is not None:
            return known
        if notice.employee_id:
            ref = sis_ref("sis_user_id", notice.employee_id)
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
                f"source {self.name!r}: Canvas has no user {ref} (credential "
                f"{notice.credential_id}); a person with no Canvas record from this source is "
                "looked up by SIS id, or by login, which is not always the email"
            )
        return int(self._json(response, f"user {ref}")["id"])

    def _json(self, response: requests.Response, what: str) -> Any:
        return read_json(self.name, response, what)


def read_json(source: str, response: requests.Response, what: str) -> Any:
    """The response's JSON body.

    Raises:
        SourceError: it is not JSON.
    """
    try:
        return response.json()
    except ValueError as exc:
        raise SourceError(
            f"source {source!r}: {what} is not valid JSON: {response.text[:120]!r}"
        ) from exc
