"""A rerun with nothing new: one request on a conformant LRS, which needs no overlap; the
overlap is kept where the LRS filters `since` on `timestamp` (Ralph) or gives no
X-Experience-API-Consistent-Through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conformant_lrs import PASSWORD, USERNAME, ConformantLrs, serving
from lrs_server import LrsServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_xapi_ralph import CIT, MHFA, statement

from onemind.config import Settings, parse_settings
from onemind.config.model import SourceConfig, XapiSourceConfig
from onemind.connectors.base import Connector
from onemind.connectors.xapi import XapiConnector
from onemind.connectors.xapi_statements import parse_instant
from onemind.store.models import Source
from onemind.sync.runner import SourceResult, SyncRunner

OVERLAP = timedelta(minutes=5)
STATEMENTS, PAGE = 30, 12


class RecordingSession(requests.Session):
    """Keeps the URL of every request a connector makes."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self.urls = urls

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        self.urls.append(response.url)
        return response


@contextmanager
def upstream(kind: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str, Any]]:
    if kind == "ralph":
        lrs: LrsServer = request.getfixturevalue("fresh_lrs")
        yield lrs.endpoint, lrs.username, lrs.password, lrs
        return
    with serving(ConformantLrs(consistent_through=kind == "conformant")) as fake:
        yield fake.endpoint, USERNAME, PASSWORD, fake


def settings(tmp_path: Path, endpoint: str, username: str, password: str) -> Settings:
    source = {
        "name": "lrs",
        "kind": "xapi",
        "endpoint": endpoint,
        "username": username,
        "password": "env:LRS_PASSWORD",
        "page_size": PAGE,
        "overlap_minutes": OVERLAP.total_seconds() / 60,
    }
    raw = {"agencies": [{"id": "a-pd", "name": "A PD"}], "sources": [source]}
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"LRS_PASSWORD": password})


def sync(config: Settings, sessions: sessionmaker[Session]) -> tuple[SourceResult, list[str]]:
    """One sync of the LRS; its result and the URLs it asked for."""
    urls: list[str] = []

    def factory(source: SourceConfig) -> Connector:
        assert isinstance(source, XapiSourceConfig)
        return XapiConnector(source, session=RecordingSession(urls))

    runner = SyncRunner(config, sessions, lambda: datetime.now(UTC), connector_factory=factory)
    [result] = runner.run().results
    assert result.ok, result.error
    return result, urls


def cursor(sessions: sessionmaker[Session]) -> Any:
    with sessions() as session:
        return session.scalars(select(Source.cursor).where(Source.name == "lrs")).one()


def since(url: str) -> datetime:
    return parse_instant(parse_qs(urlsplit(url).query)["since"][0], "since")


@pytest.mark.parametrize(
    ("kind", "key", "overlap"),
    [
        ("conformant", "stored", timedelta(0)),
        ("no consistent-through", "stored", OVERLAP),
        ("ralph", "timestamp", OVERLAP),
    ],
)
def test_a_quiet_rerun_overlaps_only_where_the_lrs_needs_it(
    kind: str,
    key: str,
    overlap: timedelta,
    tmp_path: Path,
    sessions: sessionmaker[Session],
    request: pytest.FixtureRequest,
) -> None:
    done = datetime.now(UTC) - timedelta(minutes=10)  # well before `stored`: the probe can tell
    with upstream(kind, request) as (endpoint, username, password, lrs):
        config = settings(tmp_path, endpoint, username, password)
        lrs.post_statements([statement(n, CIT, "completed", done) for n in range(STATEMENTS)])
        first, _ = sync(config, sessions)
        assert first.stats.new == STATEMENTS
        saved = cursor(sessions)
        assert saved["key"] == key

        rerun, urls = sync(config, sessions)

        assert since(urls[0]) == parse_instant(saved["through"], "through") - overlap
        assert rerun.stats.new == 0
        if overlap:  # every statement lies inside the overlap: read again, kept once
            assert (len(urls), rerun.stats.fetched) == (3, STATEMENTS)  # pages of 12, 12, 6
        else:
            assert (len(urls), rerun.stats.fetched) == (1, 0)

        lrs.post_statements([statement(STATEMENTS, MHFA, "completed", datetime.now(UTC))])
        latest, urls = sync(config, sessions)
    assert latest.stats.new == 1
    if not overlap:
        assert (len(urls), latest.stats.fetched) == (1, 1)
