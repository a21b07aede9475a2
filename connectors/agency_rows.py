"""Rows of agencies files and attestation files: what a hub keeps as data, not configuration."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from onemind.config.base import SLUG, one_address
from onemind.config.model import PROGRAMS
from onemind.connectors.fields import text
from onemind.domain.records import AgencyEntry, AttestationEntry

if TYPE_CHECKING:
    from onemind.connectors.tabular import TabularConnector

KINDS = ("partnership", "policy")
LONGEST = {"name": 300, "region": 100, "recorded_by": 200}
"""The longest text the store keeps in these fields (their columns' lengths)."""
ADDRESS_SEPARATORS = re.compile(r"[;,\n]")


def agency_entry(reader: TabularConnector, values: dict[str, Any], location: str) -> AgencyEntry:
    """One agency row: id and name required; program, deadline and addresses checked.

    Raises:
        ValueError: naming the column that is wrong and why.
    """
    _refuse_nul(reader, values)
    agency = _slug(reader, values, "id")
    actor = source_actor(reader.name)
    attestations = tuple(
        AttestationEntry(
            f"{agency}:{kind}:{on.isoformat()}",
            location,
            agency,
            kind,
            on,
            text(values.get(f"{kind}_evidence")) or None,
            actor,
        )
        for kind in KINDS
        if (on := reader._optional_date(values.get(f"{kind}_on"), f"{kind}_on")) is not None
    )
    return AgencyEntry(
        external_id=agency,
        location=location,
        name=_text(reader, values, "name", required=True),
        program=_program(reader, values),
        pledged_on=reader._optional_date(values.get("pledged_on"), "pledged_on"),
        deadline_months=_deadline(reader, values),
        region=_text(reader, values, "region") or None,
        report_to=_addresses(reader, values),
        attestations=attestations,
        payload=reader._payload(values),
    )


def attestation_entry(
    reader: TabularConnector, values: dict[str, Any], location: str
) -> AttestationEntry:
    """One attestation row: the agency (or the source's `agency`), kind, date and evidence.

    Raises:
        ValueError: naming the column that is wrong and why.
    """
    _refuse_nul(reader, values)
    if not text(values.get("agency")) and reader.config.agency:
        values = {**values, "agency": reader.config.agency}
    agency = _slug(reader, values, "agency")
    kind = text(values.get("kind")).lower()
    if kind not in KINDS:
        raise ValueError(
            f"{reader.columns['kind']}: {text(values.get('kind'))!r} is not {' or '.join(KINDS)}"
        )
    attested_on = reader._date(values.get("attested_on"), "attested_on")
    return AttestationEntry(
        external_id=f"{agency}:{kind}:{attested_on.isoformat()}",
        location=location,
        agency=agency,
        kind=kind,
        attested_on=attested_on,
        evidence=text(values.get("evidence")) or None,
        recorded_by=_text(reader, values, "recorded_by") or source_actor(reader.name),
        payload=reader._payload(values),
    )


def source_actor(source: str) -> str:
    """Who the audit log says recorded what a source stated."""
    return f"source:{source}"


def _refuse_nul(reader: TabularConnector, values: dict[str, Any]) -> None:
    if "\x00" not in "".join(map(str, values.values())):
        return
    for field, value in values.items():
        if "\x00" in str(value):
            raise ValueError(
                f"{reader.columns[field]}: contains a NUL character, which the store cannot keep"
            )


def _text(
    reader: TabularConnector, values: dict[str, Any], field: str, required: bool = False
) -> str:
    value = text(values.get(field))
    if required and not value:
        raise ValueError(f"{reader.columns[field]}: missing")
    if len(value) > LONGEST[field]:
        raise ValueError(
            f"{reader.columns[field]}: {len(value)} characters, more than the "
            f"{LONGEST[field]} the store keeps"
        )
    return value


def _slug(reader: TabularConnector, values: dict[str, Any], field: str) -> str:
    value = text(values.get(field))
    if not value:
        raise ValueError(f"{reader.columns[field]}: missing")
    if not re.fullmatch(SLUG, value):
        raise ValueError(
            f"{reader.columns[field]}: {value!r} is not an agency id (lower-case letters, "
            "digits, '.', '_' and '-', at most 64 characters)"
        )
    return value


def _program(reader: TabularConnector, values: dict[str, Any]) -> str:
    program = text(values.get("program")) or PROGRAMS[0]
    if program not in PROGRAMS:
        raise ValueError(f"{reader.columns['program']}: {program!r} is not one of {PROGRAMS}")
    return program


def _deadline(reader: TabularConnector, values: dict[str, Any]) -> int:
    value = text(values.get("deadline_months")) or "36"
    if not value.isdigit() or not 12 <= int(value) <= 36:
        raise ValueError(
            f"{reader.columns['deadline_months']}: {value!r} is not a number of months "
            "from 12 to 36"
        )
    return int(value)


def _addresses(reader: TabularConnector, values: dict[str, Any]) -> tuple[str, ...]:
    """`report_to`: addresses separated by ';' or ','."""
    found = [a.strip() for a in ADDRESS_SEPARATORS.split(text(values.get("report_to")))]
    try:
        return tuple(one_address(a) for a in found if a)
    except ValueError as exc:
        raise ValueError(f"{reader.columns['report_to']}: {exc}") from None
