"""The small interfaces a connector implements; what it yields lives in `onemind.domain.records`."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from onemind.domain.records import CredentialNotice, PullItem, UnparsedRow, VoidRecord
from onemind.errors import OneMindError

OK, FAILED, NOT_CHECKED = "ok", "failed", "not checked"


@dataclass(frozen=True, slots=True)
class Check:
    """One thing a source needs: `ok` with what was found, `failed` with what is missing."""

    name: str
    status: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What `Connector.check` found, check by check; the source is usable when all are ok."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status == OK for c in self.checks)

    @property
    def problems(self) -> list[str]:
        return [f"{c.name}: {c.message}" for c in self.checks if c.status == FAILED]


Step = tuple[str, Callable[[], str]]
"""A named check: returns what works, or raises a OneMindError saying what is missing."""


def run_checks(*steps: Step) -> CheckResult:
    """Run the steps in order; the ones after a failure depend on it and are not run."""
    checks: list[Check] = []
    failed: str | None = None
    for name, step in steps:
        if failed is not None:
            checks.append(Check(name, NOT_CHECKED, f"needs {failed!r} to work first"))
            continue
        try:
            checks.append(Check(name, OK, step()))
        except OneMindError as exc:
            checks.append(Check(name, FAILED, str(exc)))
            failed = name
    return CheckResult(tuple(checks))


class Connector(abc.ABC):
    """A configured instance of one source system. It keeps no state of its own."""

    name: str

    @abc.abstractmethod
    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Yield the records newer than `cursor`, with checkpoints where it is safe to commit."""

    @abc.abstractmethod
    def check(self) -> CheckResult:
        """Whether the source is reachable and the settings work: each check, and what is
        missing (a permission, a field, a setting) where one fails. Raises nothing it expects."""

    def size_hint(self) -> int | None:
        """Total units of work for a progress bar (bytes, records), if known."""
        return None

    def full_pass_every(self, cursor: dict[str, Any] | None) -> timedelta | None:
        """How often the runner should read the system whole when the source's `full_every` is
        not set, given the cursor saved for it (None: never)."""
        return None


class Pushes(abc.ABC):
    """A connector whose system accepts credentials pushed back to it. Both calls are idempotent."""

    @abc.abstractmethod
    def push(self, notice: CredentialNotice) -> str:
        """Deliver one credential and return its id in the remote system."""

    @abc.abstractmethod
    def revoke(self, notice: CredentialNotice) -> str:
        """Withdraw a credential delivered before; returns the remote id of the withdrawal."""


class DefersParsing(abc.ABC):
    """A connector that can yield rows before parsing them, for a store that parses only the
    rows it does not hold already."""

    @abc.abstractmethod
    def pull_rows(self, cursor: dict[str, Any] | None) -> Iterator[PullItem | UnparsedRow]:
        """As `pull`, but some rows come unparsed (`UnparsedRow`), parsed only when asked."""


class Reconciles(abc.ABC):
    """A connector that can tell which earlier records its system no longer holds."""

    @abc.abstractmethod
    def gone(self, external_ids: Iterable[str]) -> Iterator[VoidRecord]:
        """A retraction for each of these records that the system no longer returns."""
