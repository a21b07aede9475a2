"""Credentials pushed to Moodle: the configured certification activity is completed for the
person, so Moodle's own badge or certificate rules award it.

One activity stands for every credential: it stays complete while any of the person's
credentials is valid, and goes back to incomplete only when the last one is withdrawn.
"""

from __future__ import annotations

from typing import Any

from onemind.config.model import MoodleSourceConfig
from onemind.connectors.accounts import user_on
from onemind.connectors.moodle_ws import CAPABILITIES, MoodleWs
from onemind.domain.records import CredentialNotice
from onemind.errors import ConfigurationError, InvalidRecordError

INCOMPLETE, COMPLETE, COMPLETE_PASS = 0, 1, 2
LOOKUP_FIELDS = ("idnumber", "username")
FUNCTIONS = (
    "core_course_get_course_module",
    "core_user_get_users_by_field",
    "core_user_get_users",
    "core_completion_get_activities_completion_status",
    "core_completion_override_activity_completion_status",
)


class Certification:
    """The certification activity of one Moodle source, completed and undone per person."""

    def __init__(self, config: MoodleSourceConfig, ws: MoodleWs) -> None:
        self.config = config
        self.name = config.name
        self.ws = ws
        self._activity: dict[str, Any] | None = None

    def issue(self, notice: CredentialNotice) -> str:
        """Complete the activity for the person (only if it is not complete already)."""
        return self._set(notice, COMPLETE)

    def withdraw(self, notice: CredentialNotice) -> str:
        """Set the activity back to incomplete, unless another credential still stands."""
        return self._set(notice, COMPLETE if notice.others_valid else INCOMPLETE)

    def _set(self, notice: CredentialNotice, state: int) -> str:
        cm = self.activity()
        user_id = self.person(notice)
        current = self._state(cm, user_id)
        done = current in (COMPLETE, COMPLETE_PASS) if state == COMPLETE else current == INCOMPLETE
        if not done:
            self.ws.call(
                "core_completion_override_activity_completion_status",
                subject=f"credential {notice.credential_id}",
                userid=user_id,
                cmid=cm["id"],
                newstate=state,
            )
        return f"moodle:cm{cm['id']}:user{user_id}"

    def activity(self) -> dict[str, Any]:
        """The configured certification activity (looked up once).

        Raises:
            ConfigurationError: none is configured, or it does not track completion.
        """
        if self._activity is not None:
            return self._activity
        cmid = self.config.certification_cmid
        if cmid is None:
            raise ConfigurationError(
                f"source {self.name!r}: set certification_cmid to the activity Moodle's "
                "badge or certificate rules look at, to push credentials"
            )
        body = self.ws.call("core_course_get_course_module", subject=f"cmid {cmid}", cmid=cmid)
        cm = (body or {}).get("cm") or {}
        if not cm.get("completion"):
            raise ConfigurationError(
                f"source {self.name!r}: activity {cmid} does not track completion; "
                "turn on completion tracking for it"
            )
        self._activity = cm
        return cm

    def person(self, notice: CredentialNotice) -> int:
        """The Moodle user id: from the account our records of this site carry, else by the
        employee-id field when Moodle can search it, else by email (ignoring case).

        Raises:
            InvalidRecordError: no such user is visible to the token's user.
        """
        known = user_on(self.config.base_url, notice.accounts)
        if known is not None:
            return known
        field = self.config.employee_id_field
        if notice.employee_id and field in LOOKUP_FIELDS:
            key, value = field, notice.employee_id
            users = self.ws.call("core_user_get_users_by_field", field=key, values=[value])
        elif notice.email:
            key, value = "email", notice.email
            users = self._by_email(notice.email)
        else:
            raise InvalidRecordError(
                f"source {self.name!r}: credential {notice.credential_id} names no "
                f"{field} or email to find the person by"
            )
        if not isinstance(users, list) or len(users) != 1:
            raise self._not_found(notice, key, value, users)
        return int(users[0]["id"])

    def _by_email(self, email: str) -> list[dict[str, Any]]:
        """Users whose email is this one in any case: Moodle's email search ignores case (a
        LIKE, where `_` matches any letter), its lookup by field does not on PostgreSQL."""
        body = self.ws.call("core_user_get_users", criteria=[{"key": "email", "value": email}])
        users = (body or {}).get("users") or []
        return [u for u in users if str(u.get("email", "")).casefold() == email.casefold()]

    def _not_found(
        self, notice: CredentialNotice, key: str, value: str, users: Any
    ) -> InvalidRecordError:
        """Zero users may be a missing permission: Moodle hides whom its user may not see."""
        count = len(users) if isinstance(users, list) else 0
        where = f"source {self.name!r}: {count} Moodle users with {key} {value!r}"
        if count:
            return InvalidRecordError(f"{where} (credential {notice.credential_id})")
        function = "core_user_get_users" if key == "email" else "core_user_get_users_by_field"
        return InvalidRecordError(
            f"{where} visible to the token's user (credential {notice.credential_id}): "
            f"either none has it, or that user lacks {' or '.join(CAPABILITIES[function])} "
            "in the system context"
            + (" (or email is not in showuseridentity)" if key == "email" else "")
        )

    def _state(self, cm: dict[str, Any], user_id: int) -> int:
        """The person's completion state of the activity (0 incomplete, 1 complete, 2 pass)."""
        body = self.ws.call(
            "core_completion_get_activities_completion_status",
            subject=f"course {cm.get('course')}",
            courseid=cm["course"],
            userid=user_id,
        )
        for status in (body or {}).get("statuses", []):
            if int(status.get("cmid", 0)) == int(cm["id"]):
                return int(status.get("state", INCOMPLETE))
        raise ConfigurationError(
            f"source {self.name!r}: activity {cm['id']} is not visible to user {user_id}, "
            "or it is not in their course"
        )
