"""Moodle's Web Services REST protocol: form-encoded calls, and its HTTP-200 errors sorted."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from onemind.connectors.http import HttpClient
from onemind.errors import ConfigurationError, OneMindError, SourceError, TransientError

REST_PATH = "/webservice/rest/server.php"

# What each function needs of the token's user, as Moodle's lib/db/services.php and the
# functions' own checks require it; every call also needs webservice/rest:use. Without
# moodle/user:viewalldetails Moodle leaves username and idnumber out of the people it lists, and
# finds no one by them.
REST_USE = "webservice/rest:use"
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "core_webservice_get_site_info": (),
    "core_course_get_courses_by_field": ("moodle/course:view",),
    "core_enrol_get_enrolled_users": (
        "moodle/course:viewparticipants",
        "moodle/role:review",
        "moodle/user:viewalldetails",
    ),
    "core_completion_get_course_completion_status": ("report/completion:view",),
    "core_reportbuilder_set_filters": ("moodle/reportbuilder:view",),
    "core_reportbuilder_retrieve_report": ("moodle/reportbuilder:view",),
    "core_course_get_course_module": ("moodle/course:view",),
    "core_user_get_users": ("moodle/user:viewdetails",),
    "core_user_get_users_by_field": ("moodle/user:viewdetails", "moodle/user:viewalldetails"),
    "core_completion_get_activities_completion_status": ("report/progress:view",),
    "core_completion_override_activity_completion_status": ("moodle/course:overridecompletion",),
}


def capabilities(functions: Iterable[str]) -> list[str]:
    """Every capability the token's user needs to call these functions, in first-use order."""
    needed = [REST_USE]
    for function in functions:
        needed += [c for c in CAPABILITIES.get(function, ()) if c not in needed]
    return needed


TOKEN_CODES = frozenset({"invalidtoken", "invalidtokenexpired"})
ACCESS_CODES = frozenset({"accessexception", "servicenotavailable"})
CAPABILITY_CODES = frozenset({"nopermissions", "cannotviewreport", "accessdenied", "nopermission"})
SETUP_CODES = frozenset(
    {"nocriteriaset", "completionnotenabled", "invalidrecord", "invalidrecordunknown"}
)
DISABLED_CODES = frozenset({"enablewsdescription", "webservicesdisabled"})
TRANSIENT_CODES = frozenset({"sitemaintenance", "upgraderunning"})


@dataclass(frozen=True, slots=True)
class Fault:
    """A Moodle error the caller asked to receive instead of an exception."""

    code: str
    message: str


class MoodleWs:
    """Calls Web Service functions with a token; Moodle's errors become the product's."""

    def __init__(self, source: str, base_url: str, token: str, http: HttpClient) -> None:
        self.source = source
        self.url = base_url + REST_PATH
        self.token = token
        self.http = http

    def call(
        self, function: str, subject: str = "", tolerate: Collection[str] = (), **params: Any
    ) -> Any:
        """The function's decoded JSON result (`None` for write calls that return nothing).

        Raises:
            ConfigurationError: bad token, missing function or capability, a course set up wrong.
            TransientError: the site is in maintenance or unreachable.
            SourceError: any other refusal.
        """
        form = [
            ("wstoken", self.token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *form_fields(params),
        ]
        response = self.http.request("POST", self.url, data=form)
        try:
            body = response.json() if response.content.strip() else None
        except (json.JSONDecodeError, ValueError) as exc:
            raise SourceError(
                f"source {self.source!r}: {function} did not answer JSON: {response.text[:120]!r}"
            ) from exc
        if isinstance(body, dict) and "exception" in body and "errorcode" in body:
            code, message = str(body["errorcode"]), str(body.get("message", ""))
            if code in tolerate:
                return Fault(code, message)
            raise moodle_error(self.source, function, body, subject)
        return body


def form_fields(params: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """PHP-style form fields: lists and dicts nest as `courses[0][id]=…`; booleans are 1/0."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            yield from form_fields(value, name)
        elif isinstance(value, list | tuple):
            yield from form_fields(dict(enumerate(value)), name)
        elif isinstance(value, bool):
            yield name, "1" if value else "0"
        else:
            yield name, str(value)


def moodle_error(source: str, function: str, body: dict[str, Any], subject: str) -> OneMindError:
    """The error-tree member for one of Moodle's error bodies, saying what to do about it."""
    code = str(body.get("errorcode"))
    detail = str(body.get("message", "")).strip()
    if body.get("debuginfo"):
        detail += f" ({str(body['debuginfo']).strip()[:200]})"
    where = f"source {source!r}: {function}" + (f" for {subject}" if subject else "")
    needs = ", ".join(CAPABILITIES.get(function, ())) or REST_USE
    if code in TOKEN_CODES:
        return ConfigurationError(f"{where}: Moodle refused the token ({code}); check the token")
    if code in ACCESS_CODES:
        return ConfigurationError(
            f"{where}: not allowed ({code}: {detail}); add {function} to the token's external "
            f"service and give its user {needs}"
        )
    if code in CAPABILITY_CODES or body.get("exception") == "required_capability_exception":
        return ConfigurationError(
            f"{where}: the token's user lacks a capability ({code}: {detail}); it needs {needs}"
        )
    if code in SETUP_CODES:
        return ConfigurationError(f"{where}: {detail} ({code}); fix it in Moodle or the source")
    if code in DISABLED_CODES:
        return ConfigurationError(f"{where}: web services are off on the site ({code}: {detail})")
    if code in TRANSIENT_CODES:
        return TransientError(f"{where}: the site is unavailable ({code}: {detail})")
    return SourceError(f"{where} failed ({code}: {detail})")
