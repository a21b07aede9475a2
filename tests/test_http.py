"""The connectors' HTTP client: which answers are retried, how long it waits, what it shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from onemind.connectors.http import Backoff, HttpClient, mask_url, retry_after_seconds
from onemind.errors import ConfigurationError, SourceError, TransientError

URL = "https://lms.example/api"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def client(retries: int = 2) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    http = HttpClient(
        "src", requests.Session(), (1, 1), Backoff(retries=retries), slept.append, endpoint=URL
    )
    return http, slept


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 30 ", 30.0),
        ("Thu, 26 Nov 2026 12:01:30 GMT", 90.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # a date gone by: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("attempt", "retry_after", "low", "high"),
    [
        (0, 3600.0, 120.0, 120.0),  # what the server asks is capped at 120 s
        (0, 7.0, 7.0, 7.0),
        (0, -5.0, 0.0, 0.0),
        (0, None, 0.5, 1.0),  # 1 s with jitter
        (3, None, 4.0, 8.0),
        (12, None, 60.0, 120.0),  # exponential, capped
    ],
)
def test_backoff_waits_what_the_server_asks_or_doubles_up_to_the_cap(
    attempt: int, retry_after: float | None, low: float, high: float
) -> None:
    for _ in range(20):
        assert low <= Backoff().delay(attempt, retry_after) <= high


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_transient_statuses_are_retried_then_succeed(status: int) -> None:
    responses.get(URL, status=status, headers={"Retry-After": "3"})
    responses.get(URL, json={"ok": True})
    http, slept = client()
    assert http.request("GET", URL).json() == {"ok": True}
    assert slept == [3.0]


@pytest.mark.parametrize("status", [408, 500, 504])
@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_transient_statuses_that_persist_fail_as_transient_after_every_retry(status: int) -> None:
    for _ in range(3):
        responses.get(URL, status=status)
    http, slept = client()
    with pytest.raises(TransientError, match=f"source 'src': GET {URL} answered {status}"):
        http.request("GET", URL)
    assert len(slept) == 2 and all(0 < s <= 2 for s in slept)


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, SourceError), (404, SourceError), (401, ConfigurationError), (403, ConfigurationError)],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_other_refusals_are_not_retried(status: int, error: type[Exception]) -> None:
    responses.get(URL, status=status, body="no")
    http, slept = client()
    with pytest.raises(error):
        http.request("GET", URL)
    assert slept == [] and len(responses.calls) == 1


BROKEN: list[dict[str, Any]] = [
    {"body": '{"statements": [{"id": "12', "content_type": "application/json"},
    {"body": "<html><body>Service temporarily unavailable</body></html>"},
    {"body": requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)")},
]


@pytest.mark.parametrize("broken", BROKEN, ids=["truncated", "html", "cut-connection"])
@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_json_answer_cut_short_or_an_html_page_with_200_is_retried(
    broken: dict[str, Any],
) -> None:
    responses.get(URL, status=200, **broken)
    responses.get(URL, json={"statements": []})
    http, slept = client()
    response, body = http.request_json("GET", URL)
    assert body == {"statements": []} and response.status_code == 200
    assert len(slept) == 1


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_body_that_stays_unreadable_fails_as_transient_showing_its_start() -> None:
    for _ in range(3):
        responses.get(URL, body="<html>maintenance</html>")
    http, _ = client()
    with pytest.raises(TransientError, match=r"answered 200 with a body that is not JSON: '<html>"):
        http.request_json("GET", URL)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://m.example/webservice/rest/server.php?wstoken=abc123&wsfunction=f",
            "https://m.example/webservice/rest/server.php?wstoken=***&wsfunction=f",
        ),
        (
            "https://x.example/a?access_token=t&TOKEN=u&page=2",
            "https://x.example/a?access_token=***&TOKEN=***&page=2",
        ),
        ("https://x.example/a?password=p&key=k", "https://x.example/a?password=***&key=***"),
        (
            "https://x.example/a?since=2026-01-01T00:00:00Z",
            "https://x.example/a?since=2026-01-01T00:00:00Z",
        ),
        ("https://x.example/a", "https://x.example/a"),
    ],
)
def test_mask_url_hides_secret_query_values(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@responses.activate(assert_all_requests_are_fired=True)
def test_errors_show_the_url_masked() -> None:
    url = "https://lms.example/api?wstoken=s3cret"
    responses.get(url, status=400, body="bad")
    http, _ = client()
    with pytest.raises(SourceError) as caught:
        http.request("GET", url)
    assert "s3cret" not in str(caught.value) and "wstoken=***" in str(caught.value)
