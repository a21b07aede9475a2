"""What every connector yields, and the small interfaces a connector implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
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
    selected: bool
    hired_on: date
    separated_on: date | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class VoidRecord:
    """A retraction of an earlier record of the same source (xAPI voiding)."""

    external_id: str
    location: str
    target_external_id: str
    payload: dict[str, Any] = field(default_factory=dict)


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


Record = RosterEntry | CompletionRecord | VoidRecord | Rejected
PullItem = Record | Checkpoint


class Connector(abc.ABC):
    """A configured instance of one source system. It keeps no state of its own."""

    name: str

    @abc.abstractmethod
    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Yield the records newer than `cursor`, with checkpoints where it is safe to commit."""

    @abc.abstractmethod
    def check(self) -> None:
        """Verify that the source is reachable and the settings work.

        Raises:
            ConfigurationError: the settings are wrong.
            SourceError: the source cannot be read now.
        """

    def size_hint(self) -> int | None:
        """Total units of work for a progress bar (bytes, records), if known."""
        return None


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


class Pushes(abc.ABC):
    """A connector whose system accepts credentials pushed back to it. Both calls are idempotent."""

    @abc.abstractmethod
    def push(self, notice: CredentialNotice) -> str:
        """Deliver one credential and return its id in the remote system."""

    @abc.abstractmethod
    def revoke(self, notice: CredentialNotice) -> str:
        """Withdraw a credential delivered before; returns the remote id of the withdrawal."""


class Reconciles(abc.ABC):
    """A connector that can tell which earlier records its system no longer holds."""

    @abc.abstractmethod
    def gone(self, external_ids: Iterable[str]) -> Iterator[VoidRecord]:
        """A retraction for each of these records that the system no longer returns."""
