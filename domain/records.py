"""What connectors yield and are told: the records of a pull and the notice of a credential.

Records are values: nothing changes one once it is made. The four made once per row of a
file, by the million (`RosterEntry`, `RosterRow`, `CompletionRow`, `CompletionRecord`), are
not declared frozen all the same: a frozen dataclass sets each field through
`object.__setattr__`, which made a completion's record cost three times as much to build
(6 µs against 2 µs, 17 fields), a twentieth of a first load of a completions file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar


@dataclass(slots=True)
class RosterEntry:
    """One person's employment at an agency, as a roster source states it."""

    external_id: str
    location: str
    agency: str
    employee_id: str
    first_name: str
    last_name: str
    email: str | None
    sworn: bool
    position: str
    selected: bool | None  # None: blank, decided by the position
    hired_on: date
    separated_on: date | None
    payload: dict[str, Any] = field(default_factory=dict)
    # what the source's row said, as a digest, where its connector gives one: a row whose
    # digest the store already holds writes nothing
    digest: str | None = None


@dataclass(slots=True)
class RosterRow:
    """A roster row read but not yet parsed: its key, place and digest, which is all the store
    needs to set aside a row it holds unchanged (most of a nightly roster); `parse` gives what
    the row says, parsed and checked, when the store needs it."""

    external_id: str
    location: str
    agency: str
    digest: str
    parse: Callable[[], RosterEntry | Rejected] = field(repr=False, compare=False)


@dataclass(slots=True)
class CompletionRow:
    """A completions file's row read but not yet parsed, as `RosterRow` is a roster's: its
    key, place and digest; `parse` gives its record, or why it cannot be read. A nightly
    export repeats every completion it gave before: those rows are set aside unparsed."""

    external_id: str
    location: str
    digest: str
    parse: Callable[[], CompletionRecord | Rejected] = field(repr=False, compare=False)


@dataclass(slots=True)
class CompletionRecord:
    """One person's completion of one course, with whatever identifies the person."""

    external_id: str
    location: str
    course_key: str
    course_title: str
    completed_on: date
    employee_id: str | None = None
    email: str | None = None
    mbox_sha1sum: str | None = None
    account: str | None = None
    agency: str | None = None
    provider: str | None = None
    hours: float | None = None
    expires_on: date | None = None
    activity_type: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    payload_text: str | None = field(default=None, repr=False)
    """`payload` as the source wrote it, when the store can keep that JSON text as it is
    (see `onemind.domain.payload_text`); None: the store checks and encodes `payload`."""
    digest: str | None = field(default=None, repr=False)
    """What the file's row said, as a digest (see `RosterEntry.digest`); None: the store
    takes the record's own (`repeats.fingerprint`)."""


@dataclass(frozen=True, slots=True)
class VoidRecord:
    """A retraction of an earlier record of the same source (xAPI voiding)."""

    external_id: str
    location: str
    target_external_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    payload_text: str | None = field(default=None, repr=False)
    """As `CompletionRecord.payload_text`."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read; it is quarantined with its reason."""

    location: str
    reason: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Everything yielded before this is covered by `cursor`; the runner may commit it."""

    cursor: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Skipped:
    """Part of a source passed over this run (a course, a student), not a bad record: the run
    goes on and stays ok, and the runner records `reason` as a warning on it."""

    location: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    """One agency as an agencies file lists it; `external_id` is the agency id."""

    external_id: str
    location: str
    name: str
    program: str
    pledged_on: date | None
    deadline_months: int
    region: str | None
    report_to: tuple[str, ...]
    attestations: tuple[AttestationEntry, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttestationEntry:
    """Partnership or policy evidence of one agency, dated, as a source states it."""

    external_id: str
    location: str = field(repr=False)  # out of the digest of the agency row that holds it
    agency: str
    kind: str
    attested_on: date
    evidence: str | None
    recorded_by: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListingEnd:
    """An agencies file was read to its end: the agencies it no longer lists have left it."""

    external_id: str
    location: str
    payload: dict[str, Any] = field(default_factory=dict)


Record = (
    RosterEntry
    | CompletionRecord
    | VoidRecord
    | Rejected
    | AgencyEntry
    | AttestationEntry
    | ListingEnd
)
PullItem = Record | Checkpoint | Skipped
UnparsedRow = RosterRow | CompletionRow
"""A file's row keyed and digested, parsed only if the store does not hold it already."""
Item = TypeVar("Item", bound=PullItem)


def parsed(item: Item | UnparsedRow) -> Item | Record:
    """The item, a row left unparsed parsed (into its record, or why it cannot be read)."""
    return item.parse() if isinstance(item, UNPARSED) else item


UNPARSED = (RosterRow, CompletionRow)
"""The rows left unparsed, as a tuple: `isinstance` with `A | B` makes the union on each
call, twice the check's cost, on every row of a file."""


@dataclass(frozen=True, slots=True)
class CredentialNotice:
    """What a source is told about a credential: enough to name the person and the award."""

    credential_id: str
    category: str
    achievement_name: str
    issued_at: datetime
    credential: str
    email: str | None = None
    employee_id: str | None = None
    person_name: str | None = None
    # The person's accounts as this source's own records named them (e.g. `base URL|user id`).
    accounts: tuple[str, ...] = ()
    # The person's other credentials valid now: a withdrawal leaves shared targets complete.
    others_valid: tuple[str, ...] = ()
