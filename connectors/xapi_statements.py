"""xAPI statement → record: completion verbs earn credit, `voided` retracts it.

Shared by every xAPI source (a file exported from an LRS, or the LRS itself). Statements are
parsed JSON: objects are dicts (checked as such, which is quicker than asking for a Mapping).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from onemind.config.model import StatementOptions
from onemind.connectors.fields import parse_hours
from onemind.domain.records import CompletionRecord, Rejected, VoidRecord

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
DEFAULT_VERBS = (
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "https://w3id.org/xapi/adl/verbs/satisfied",
)
UTC_ZONE = ZoneInfo("UTC")
LANGUAGES = ("en-US", "en", "en-GB")
CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class StatementRules:
    """How a source's statements are read: which verbs count, whose calendar, how accounts map."""

    verbs: frozenset[str] = frozenset(DEFAULT_VERBS)
    timezone: ZoneInfo = UTC_ZONE
    account_as: str = "employee_id"
    hours_extension: str | None = None
    agency: str | None = None


def statement_rules(config: StatementOptions) -> StatementRules:
    """The reading rules a source's configuration asks for."""
    return StatementRules(
        verbs=frozenset(config.verbs),
        timezone=config.timezone,
        account_as=config.account_as,
        hours_extension=config.hours_extension,
        agency=config.agency,
    )


def read_statement(
    statement: Any, rules: StatementRules, text: str | None = None
) -> CompletionRecord | VoidRecord | Rejected | None:
    """The record a statement means, a Rejected if it is malformed, None if it earns nothing.
    `text`: the statement's JSON as the source wrote it, if the store can keep it as it is."""
    if not isinstance(statement, dict):
        return Rejected("statement ?", "not a JSON object", {"value": str(statement)[:500]})
    sid = statement.get("id")
    location = f"statement {sid}"
    try:
        _check_id(sid)
        verb = _verb(statement)
        if verb == VOIDED:
            return _void(statement, sid, location, text)
        if verb not in rules.verbs or not _earned(statement.get("result")):
            return None
        return _completion(statement, sid, location, rules, text)
    except ValueError as exc:
        return Rejected(location, str(exc), dict(statement))


def _check_id(sid: Any) -> None:
    if not isinstance(sid, str):
        raise ValueError("id: missing")
    if CANONICAL_UUID.fullmatch(sid):  # as xAPI writes them: spares parsing the common case
        return
    try:
        uuid.UUID(sid)
    except ValueError:
        raise ValueError(f"id: {sid!r} is not a UUID") from None


def _verb(statement: Mapping[str, Any]) -> str:
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str):
        raise ValueError("verb.id: missing")
    return verb["id"]


def _earned(result: Any) -> bool:
    if result is None:
        return True
    if not isinstance(result, dict):
        raise ValueError("result: not an object")
    return result.get("success") is not False and result.get("completion") is not False


def _void(statement: dict[str, Any], sid: str, location: str, text: str | None) -> VoidRecord:
    target = statement.get("object")
    if not isinstance(target, dict) or target.get("objectType") != "StatementRef":
        raise ValueError("object: a voiding statement must target a StatementRef")
    _check_id(target.get("id"))
    return VoidRecord(
        external_id=sid,
        location=location,
        target_external_id=target["id"],
        payload=statement,
        payload_text=text,
    )


def _completion(
    statement: dict[str, Any], sid: str, location: str, rules: StatementRules, text: str | None
) -> CompletionRecord:
    activity = statement.get("object")
    if not isinstance(activity, dict) or not isinstance(activity.get("id"), str):
        raise ValueError("object.id: missing")
    if activity.get("objectType", "Activity") != "Activity":
        raise ValueError(f"object.objectType: {activity.get('objectType')!r} is not an Activity")
    definition = activity.get("definition") or {}
    who = _actor(statement.get("actor"), rules)
    return CompletionRecord(
        external_id=sid,
        location=location,
        course_key=activity["id"],
        course_title=_title(definition.get("name")) or activity["id"],
        activity_type=definition.get("type"),
        completed_on=_day(statement, rules.timezone),
        hours=_hours(statement, rules.hours_extension),
        agency=rules.agency,
        payload=statement,
        payload_text=text,
        **who,
    )


def _actor(actor: Any, rules: StatementRules) -> dict[str, str]:
    if not isinstance(actor, dict):
        raise ValueError("actor: missing")
    if actor.get("objectType") == "Group":
        raise ValueError("actor: a Group cannot earn a person's credit")
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:") and "@" in mbox:
        return {"email": mbox[7:].strip().lower()}
    if isinstance(actor.get("mbox_sha1sum"), str):
        return {"mbox_sha1sum": actor["mbox_sha1sum"].lower()}
    account = actor.get("account")
    if isinstance(account, dict) and account.get("name"):
        if rules.account_as == "employee_id":
            return {"employee_id": str(account["name"])}
        return {"account": f"{account.get('homePage', '')}|{account['name']}"}
    raise ValueError("actor: no mbox, mbox_sha1sum or account identifies the person")


def _title(names: Any) -> str | None:
    if not isinstance(names, dict) or not names:
        return None
    for language in LANGUAGES:
        if names.get(language):
            return str(names[language])
    english = [v for k, v in names.items() if str(k).lower().startswith("en") and v]
    return str(english[0] if english else next(iter(names.values())))


def _day(statement: Mapping[str, Any], zone: ZoneInfo) -> date:
    for field in ("timestamp", "stored"):
        value = statement.get(field)
        if isinstance(value, str) and value:
            return parse_instant(value, field).astimezone(zone).date()
    raise ValueError("timestamp: missing, and no stored time either")


def parse_instant(value: str, field: str) -> datetime:
    """An xAPI ISO 8601 instant; one without an offset is taken as UTC."""
    try:
        instant = datetime.fromisoformat(value)  # reads "Z" itself (Python 3.11)
    except ValueError:
        try:
            instant = datetime.fromisoformat(value.replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not an ISO 8601 time") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC_ZONE)
    return instant


def _hours(statement: Mapping[str, Any], extension: str | None) -> float | None:
    if extension is None:
        return None
    for part in ("result", "context"):
        extensions = (statement.get(part) or {}).get("extensions") or {}
        if extension in extensions:
            try:
                return parse_hours(extensions[extension])
            except ValueError as exc:
                raise ValueError(f"{part}.extensions[{extension}]: {exc}") from None
    return None


def read_statements(
    statements: Sequence[Any], rules: StatementRules, texts: Sequence[str | None] = ()
) -> list[CompletionRecord | VoidRecord | Rejected]:
    """Every meaningful record of a page, in order; statements that earn nothing are dropped.
    `texts`: each statement's JSON text where the store can keep it as it is (see
    `onemind.domain.payload_text`); none given, the store encodes the parsed statements."""
    kept = texts or [None] * len(statements)
    read = (read_statement(s, rules, t) for s, t in zip(statements, kept, strict=True))
    return [r for r in read if r is not None]
