"""Rows of roster and completions files: a person's employment at an agency, and a person's
completion of a course, each read from its row's cells by the file's `TabularConnector`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from onemind.connectors.fields import text
from onemind.domain.records import CompletionRecord, RosterEntry

if TYPE_CHECKING:
    from onemind.connectors.tabular import TabularConnector

ROSTER_KEYED_BY = ("employee_id", "agency")
"""The cells a roster row is keyed by, in `TabularConnector`'s order."""
COMPLETION_KEYED_BY = ("employee_id", "email", "course_id", "completed_on", "agency")
"""The cells a completion row is keyed by, as `completion_key` takes them."""
Keyed = tuple[str, date, str, str, str, str]
"""A completion row's key, and its date, employee id, address, course and agency as read."""


def roster_key(agency: str, employee_id: str) -> str:
    """A roster row's key, the same whether the row is parsed or only keyed and digested."""
    return f"{agency}:{employee_id}"


def roster_entry(
    reader: TabularConnector, values: dict[str, Any], location: str, digest: str = ""
) -> RosterEntry:
    """A roster row's employment, parsed and checked.

    Raises:
        ValueError: naming the column that cannot be read.
    """
    agency = reader._agency(values.get("agency"))
    employee_id = reader._required(values, "employee_id")
    hired_on = reader._date(values.get("hired_on"), "hired_on")
    separated_on = reader._optional_date(values.get("separated_on"), "separated_on")
    if separated_on is not None and separated_on < hired_on:
        raise ValueError(
            f"{reader.columns['separated_on']}: {separated_on} is before "
            f"{reader.columns['hired_on']} {hired_on}"
        )
    return RosterEntry(
        external_id=roster_key(agency, employee_id),
        location=location,
        agency=agency,
        employee_id=employee_id,
        first_name=reader._required(values, "first_name"),
        last_name=reader._required(values, "last_name"),
        email=text(values.get("email")) or None,
        sworn=reader._bool(values.get("sworn"), "sworn"),
        position=text(values.get("position")),
        selected=reader._selected(values.get("selected")),
        hired_on=hired_on,
        separated_on=separated_on,
        payload=reader._payload(values),
        digest=digest or reader._digest(values.values()),
    )


def completion_key(
    reader: TabularConnector,
    employee_id: object,
    email: object,
    course_id: object,
    completed_on: object,
    agency: object,
) -> Keyed:
    """The row's key (agency, the person's employee id else address, course, date), made of
    its cells as read, and what it was made of: the date, employee id, address, course and
    agency as text.

    Raises:
        ValueError: naming the column that leaves the row without a key.
    """
    employee_id, email, course_id, agency = map(text, (employee_id, email, course_id, agency))
    if not employee_id and not email:
        raise ValueError(
            f"{reader.columns['employee_id']}/{reader.columns['email']}: "
            "neither identifies the person"
        )
    if not course_id:
        raise ValueError(f"{reader.columns['course_id']}: missing")
    completed = reader._date(completed_on, "completed_on")
    who = employee_id or email.lower()
    key = f"{reader._agency(agency)}:{who}:{course_id}:{completed.isoformat()}"
    return key, completed, employee_id, email, course_id, agency


def completion(
    reader: TabularConnector,
    values: dict[str, Any],
    location: str,
    digest: str = "",
    keyed: Keyed | None = None,
) -> CompletionRecord:
    """A completions row's record, parsed and checked; `keyed`, what `completion_key` read.

    Raises:
        ValueError: naming the column that cannot be read.
    """
    key, completed_on, employee_id, email, course_id, agency = keyed or completion_key(
        reader, *(values.get(f, "") for f in COMPLETION_KEYED_BY)
    )
    try:
        hours = reader._parse_hours(values.get("hours"))
    except ValueError as exc:
        raise ValueError(f"{reader.columns['hours']}: {exc}") from None
    return CompletionRecord(
        external_id=key,
        location=location,
        course_key=course_id,
        course_title=text(values.get("course_title")) or course_id,
        completed_on=completed_on,
        employee_id=employee_id or None,
        email=email or None,
        agency=agency or reader.config.agency,
        provider=text(values.get("provider")) or reader.config.provider,
        hours=hours,
        expires_on=reader._optional_date(values.get("expires_on"), "expires_on"),
        payload=reader._payload(values),
        digest=digest or reader._digest(values.values()),
    )
