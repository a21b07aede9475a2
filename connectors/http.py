"""HTTP for connectors: timeouts always, retries with backoff, errors sorted into the tree."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from onemind.errors import ConfigurationError, SourceError, TransientError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECRET_PARAMS = frozenset({"wstoken", "token", "access_token", "password", "key"})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter; the remote side's Retry-After wins when it gives one."""

    retries: int = 5
    base: float = 1.0
    cap: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        return min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def mask_url(url: str) -> str:
    """The URL with secret query values replaced, fit for logs and error messages."""
    parts = urlsplit(url)
    query = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*/:")))


class Pacer(Protocol):
    """Spaces requests out by what the remote side says of its rate limit."""

    def wait(self) -> float:
        """Seconds to pause before the next request (0 when there is room)."""
        ...

    def observe(self, response: requests.Response) -> None:
        """Take note of a response's rate-limit headers."""
        ...


class HttpSettings(Protocol):
    """What a source's configuration says about its HTTP."""

    name: str
    connect_timeout: float
    read_timeout: float
    max_retries: int


class HttpClient:
    """One source's HTTP: a reused session, timeouts, retries on transient faults."""

    @classmethod
    def for_source(
        cls,
        config: HttpSettings,
        session: requests.Session,
        sleep: Callable[[float], None] | None = None,
        pacer: Pacer | None = None,
    ) -> HttpClient:
        """A client with the source's timeouts and retry budget (`sleep` injectable for tests)."""
        return cls(
            config.name,
            session,
            (config.connect_timeout, config.read_timeout),
            Backoff(retries=config.max_retries),
            sleep or time.sleep,
            pacer,
        )

    def __init__(
        self,
        source: str,
        session: requests.Session,
        timeout: tuple[float, float],
        backoff: Backoff,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer | None = None,
    ) -> None:
        self.source = source
        self.session = session
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep
        self.pacer = pacer

    def request(
        self, method: str, url: str, accept: Collection[int] = (), **kwargs: Any
    ) -> requests.Response:
        """Send, retrying transient faults; return a 2xx response or one with a status in `accept`.

        Raises:
            ConfigurationError: 401/403, the credentials or permissions are wrong.
            TransientError: still failing after every retry.
            SourceError: any other refusal.
        """
        for attempt in range(self.backoff.retries + 1):
            self._pace()
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = TransientError(
                    f"source {self.source!r}: {method} {mask_url(url)} failed: {type(exc).__name__}"
                )
                cause: Exception = exc
            else:
                if self.pacer is not None:
                    self.pacer.observe(response)
                if response.ok or response.status_code in accept:
                    return response
                error = self._refusal(method, url, response)
                cause = error
            if attempt == self.backoff.retries:
                raise error from cause
            wait = self.backoff.delay(attempt, error.retry_after)
            log.warning(
                "%s; retry %d of %d in %.1f s", error, attempt + 1, self.backoff.retries, wait
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _pace(self) -> None:
        pause = self.pacer.wait() if self.pacer is not None else 0.0
        if pause > 0:
            log.info("source %r: rate limit nearly used up; pausing %.1f s", self.source, pause)
            self.sleep(pause)

    def _refusal(self, method: str, url: str, response: requests.Response) -> TransientError:
        status = response.status_code
        where = f"source {self.source!r}: {method} {mask_url(url)}"
        if status in (401, 403) and not _rate_limited(response):
            raise ConfigurationError(
                f"{where} was refused with {status}: check the source's credentials and permissions"
            )
        if status in RETRY_STATUSES or _rate_limited(response):
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return TransientError(f"{where} answered {status}", retry_after=wait)
        raise SourceError(f"{where} answered {status}: {response.text[:200]}")


def _rate_limited(response: requests.Response) -> bool:
    """Canvas answers throttling with 403 'Rate Limit Exceeded'."""
    return response.status_code == 403 and "rate limit exceeded" in response.text[:200].lower()
