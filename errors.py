"""The error tree: each class says what the caller should do about it."""

from __future__ import annotations


class OneMindError(Exception):
    """Base of every error the product raises on purpose."""


class ConfigurationError(OneMindError):
    """Settings are wrong or missing: stop and tell staff; retrying will not help."""


class TransientError(OneMindError):
    """A passing fault (timeout, 429, 5xx): retry later with backoff.

    `retry_after` is the delay in seconds the remote side asked for, if it did.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceError(OneMindError):
    """This source cannot be synced now; other sources go on."""


class InvalidRecordError(OneMindError):
    """One record is malformed: quarantine it with this reason and go on."""


class StoreError(OneMindError):
    """The database is unreachable or not initialised."""


class DanglingReferenceError(StoreError):
    """Rows written name rows that do not exist: a bug; the transaction is dropped whole."""
