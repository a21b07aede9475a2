"""The small interfaces a connector implements; what it yields lives in `onemind.domain.records`."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from onemind.domain.records import CredentialNotice, PullItem, VoidRecord


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


class Reconciles(abc.ABC):
    """A connector that can tell which earlier records its system no longer holds."""

    @abc.abstractmethod
    def gone(self, external_ids: Iterable[str]) -> Iterator[VoidRecord]:
        """A retraction for each of these records that the system no longer returns."""
