"""HTTP for connectors: timeouts always, retries with backoff, errors sorted into the tree."""

from __future__ import annotations

import json
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
from requests.auth import AuthBase
from requests.utils import guess_json_utf
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from onemind.errors import ConfigurationError, SourceError, TransientError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECRET_PARAMS = frozenset({"wstoken", "token", "access_token", "password", "key"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# no answer, or one cut short: the connection failed, timed out or closed in mid-body
CUT_SHORT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


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


def origin(url: str) -> str | None:
    """`scheme://host:port` of an absolute URL, parsed as requests will connect to it, the
    port always written; None when it names no host. Credentials go only where this matches."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        return None
    if not parts.scheme or not parts.host:
        return None
    scheme = parts.scheme.lower()
    return f"{scheme}://{parts.host.lower()}:{parts.port or DEFAULT_PORTS.get(scheme, 0)}"


def stay_on(home: str | None, url: str, source: str, what: str) -> None:
    """Raises SourceError, before anything is sent, when `url` is not on the origin `home`."""
    if origin(url) != home:
        raise SourceError(
            f"source {source!r}: {what} {mask_url(url)}, which is not on {home} (the configured "
            "endpoint's scheme, host and port): refused, nothing was sent there"
        )


class BearerToken(AuthBase):
    """`Authorization: Bearer …` on each request it is given to (never kept on a session)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


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
    """One source's HTTP: a reused session, timeouts, retries on transient faults.

    Every request, and every redirect it meets, stays on the origin of the source's endpoint;
    the credentials (`auth`) are added to each request, never kept on the session.
    """

    @classmethod
    def for_source(
        cls,
        config: HttpSettings,
        session: requests.Session,
        sleep: Callable[[float], None] | None = None,
        pacer: Pacer | None = None,
        *,
        endpoint: str,
        auth: AuthBase | None = None,
    ) -> HttpClient:
        """A client with the source's timeouts and retry budget (`sleep` injectable for tests)."""
        return cls(
            config.name,
            session,
            (config.connect_timeout, config.read_timeout),
            Backoff(retries=config.max_retries),
            sleep or time.sleep,
            pacer,
            endpoint=endpoint,
            auth=auth,
        )

    def __init__(
        self,
        source: str,
        session: requests.Session,
        timeout: tuple[float, float],
        backoff: Backoff,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer | None = None,
        *,
        endpoint: str,
        auth: AuthBase | None = None,
    ) -> None:
        self.source = source
        self.session = session
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep
        self.pacer = pacer
        self.origin = origin(endpoint)
        self.auth = auth

    def request(
        self, method: str, url: str, accept: Collection[int] = (), **kwargs: Any
    ) -> requests.Response:
        """Send, retrying transient faults; return a 2xx response or one with a status in `accept`.

        Raises:
            ConfigurationError: 401/403, the credentials or permissions are wrong.
            TransientError: still failing after every retry.
            SourceError: any other refusal, or the URL or a redirect leads off the origin.
        """
        return self._send(method, url, accept, kwargs, None)[0]

    def request_json(
        self,
        method: str,
        url: str,
        accept: Collection[int] = (),
        *,
        decode: Callable[[str], Any] = json.loads,
        **kwargs: Any,
    ) -> tuple[requests.Response, Any]:
        """`request`, and the response's JSON body read by `decode` (which raises ValueError
        when the text is not JSON). A 2xx answer whose body is not JSON (cut short, or a
        proxy's HTML page sent with 200) is a transient fault, retried the same way.

        Raises:
            ConfigurationError, TransientError, SourceError: as `request`.
        """
        return self._send(method, url, accept, kwargs, decode)

    def _send(
        self,
        method: str,
        url: str,
        accept: Collection[int],
        kwargs: dict[str, Any],
        decode: Callable[[str], Any] | None,
    ) -> tuple[requests.Response, Any]:
        for attempt in range(self.backoff.retries + 1):
            self._pace()
            try:
                response = self._exchange(method, url, kwargs)
            except CUT_SHORT as exc:
                error = TransientError(
                    f"source {self.source!r}: {method} {mask_url(url)} failed: {type(exc).__name__}"
                )
                cause: Exception = exc
            else:
                if self.pacer is not None:
                    self.pacer.observe(response)
                if response.ok or response.status_code in accept:
                    try:
                        return response, (None if decode is None else decode(_text(response)))
                    except ValueError as exc:
                        error, cause = self._not_json(method, url, response), exc
                else:
                    error = cause = self._refusal(method, url, response)
            if attempt == self.backoff.retries:
                raise error from cause
            wait = self.backoff.delay(attempt, error.retry_after)
            log.warning(
                "%s; retry %d of %d in %.1f s", error, attempt + 1, self.backoff.retries, wait
            )
            self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")

    def _exchange(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """One request, and the redirects it meets on the origin (with the credentials)."""
        stay_on(self.origin, url, self.source, method)
        response = self.session.request(
            method, url, timeout=self.timeout, auth=self.auth, allow_redirects=False, **kwargs
        )
        for _ in range(self.session.max_redirects):
            following = response.next
            if following is None or following.url is None:
                return response
            redirected = f"{method} {mask_url(url)} was redirected to"
            stay_on(self.origin, following.url, self.source, redirected)
            settings = self.session.merge_environment_settings(following.url, {}, None, None, None)
            response = self.session.send(
                following, timeout=self.timeout, allow_redirects=False, **settings
            )
        raise SourceError(
            f"source {self.source!r}: {method} {mask_url(url)} was redirected "
            f"{self.session.max_redirects} times"
        )

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

    def _not_json(self, method: str, url: str, response: requests.Response) -> TransientError:
        return TransientError(
            f"source {self.source!r}: {method} {mask_url(url)} answered {response.status_code} "
            f"with a body that is not JSON: {response.text[:120]!r}"
        )


def _text(response: requests.Response) -> str:
    """The body as text, decoded as `requests.Response.json` decodes it, so that a body without
    a declared charset is never run through character-set detection."""
    if response.encoding is None and len(response.content) > 3:
        content = response.content
        return content.decode(guess_json_utf(content) or "utf-8", errors="replace")
    return response.text


def _rate_limited(response: requests.Response) -> bool:
    """Canvas answers throttling with 403 'Rate Limit Exceeded'."""
    return response.status_code == 403 and "rate limit exceeded" in response.text[:200].lower()
