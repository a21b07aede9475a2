"""A conformant LRS (xAPI 1.0.3 / 2.0) over HTTP: incremental pull, push-back, reconciliation."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests
from requests.auth import HTTPBasicAuth

from onemind.config.model import XapiSourceConfig
from onemind.connectors.base import CheckResult, Connector, Pushes, Reconciles, run_checks
from onemind.connectors.http import HttpClient
from onemind.connectors.paging import MoreLinkPaginator
from onemind.connectors.xapi_cursor import PageWalk, XapiCursor
from onemind.connectors.xapi_statements import (
    parse_instant,
    read_statements,
    statement_rules,
)
from onemind.domain.payload_text import object_with_texts
from onemind.domain.records import Checkpoint, CredentialNotice, PullItem, VoidRecord
from onemind.errors import OneMindError, SourceError, TransientError

if TYPE_CHECKING:
    from tincan import Statement  # imported when pushing: pulling needs no tincan

log = logging.getLogger(__name__)

CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
FULL_EVERY = timedelta(days=7)
PROBE_GAP = timedelta(seconds=2)
IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")


class XapiConnector(Connector, Pushes, Reconciles):
    """Reads statements since the cursor, page by page; writes credential statements with PUT."""

    def __init__(
        self,
        config: XapiSourceConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.rules = statement_rules(config)
        http = session or requests.Session()
        http.headers.update(
            {"X-Experience-API-Version": config.version, "Accept": "application/json"}
        )
        auth = HTTPBasicAuth(config.username, config.password.get())
        self.http = HttpClient.for_source(config, http, sleep, endpoint=config.endpoint, auth=auth)
        self.statements_url = urljoin(config.endpoint, "statements")

    def check(self) -> CheckResult:
        """One statement read: reachability and credentials (not every LRS has /about)."""
        return run_checks(("read statements", self._reads_statements))

    def _reads_statements(self) -> str:
        self.http.request_json("GET", self.statements_url, params={"limit": 1})
        return f"{self.statements_url} gives {self.config.username!r} statements"

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Statements since the cursor (less the overlap, unless the LRS is known to resume
        exactly), or the rest of the window it was walking; checkpointed as the pages' order
        allows (see `connectors.xapi_cursor`). When a page cannot be read, the pages read
        before it are checkpointed if their order is known.
        """
        saved = XapiCursor.from_json(self.name, cursor) or XapiCursor()
        params = self._query(saved)
        walk = PageWalk(saved, self._key(saved), params.get("since"))
        try:
            yield from self._walk(walk, params)
        except OneMindError:
            reached = walk.cut_short()
            if reached is not None:
                yield Checkpoint(reached.to_json())
            raise

    def _walk(self, walk: PageWalk, params: dict[str, Any]) -> Iterator[PullItem]:
        for number, page, last in self._pages(params):
            if number == 1 and walk.window is None:
                walk.consistent_through = page.consistent_through
                if walk.key is None and self.config.since_field == "auto":
                    walk.key = self._probe(page.statements)
            checkpoint = walk.page(page.statements)
            if checkpoint is not None:
                yield Checkpoint(checkpoint.to_json())
            yield from page.records
            if last:
                yield Checkpoint(walk.end().to_json())

    def _query(self, saved: XapiCursor) -> dict[str, Any]:
        """The first page's query: the rest of the window under way, else what came since."""
        params: dict[str, Any] = {"limit": self.config.page_size, "ascending": "true"}
        if saved.window is not None:
            params["until"] = saved.window.down_to
            since = saved.window.since
        else:
            start = self._resume(saved)
            since = start.isoformat().replace("+00:00", "Z") if start else None
        if since is not None:
            params["since"] = since
        return params

    def _resume(self, saved: XapiCursor) -> datetime | None:
        """Where a pull that finishes no window starts, judged by the field `since` is now
        taken to compare (the configuration may have changed since the cursor was saved)."""
        overlap = timedelta(minutes=self.config.overlap_minutes)
        return replace(saved, key=self._key(saved)).since(overlap)

    def _key(self, saved: XapiCursor) -> str | None:
        """The field the LRS filters `since` on: as configured, else as found before."""
        declared = self.config.since_field
        return saved.key if declared == "auto" else declared

    def full_pass_every(self, cursor: dict[str, Any] | None) -> timedelta | None:
        """An LRS that filters `since` on `timestamp` never lists a statement stored late with
        an old timestamp again: read it whole every FULL_EVERY unless configured otherwise."""
        saved = XapiCursor.from_json(self.name, cursor) or XapiCursor()
        return FULL_EVERY if self._key(saved) == "timestamp" else None

    def _probe(self, statements: list[Any]) -> str | None:
        """Which field the LRS compares `since` with, asked with a statement of this page
        whose timestamp is well before its `stored`: `since` between the two lists it only
        if the LRS compares `stored`. None when no statement fits or the answer is unclear."""
        probe = next(filter(None, map(_probe_query, statements)), None)
        if probe is None:
            return None
        statement_id, params = probe
        try:
            body = self.http.request_json("GET", self.statements_url, params=params)[1]
        except (SourceError, TransientError) as exc:
            log.warning("source %r: could not tell how the LRS filters `since`: %s", self.name, exc)
            return None
        listed = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            return None
        if any(isinstance(s, dict) and s.get("id") == statement_id for s in listed):
            key = "stored"
        elif body.get("more"):
            return None
        else:
            key = "timestamp"
        log.info("source %r: the LRS compares `since` with each statement's %s", self.name, key)
        return key

    def _pages(self, params: dict[str, Any]) -> Iterator[tuple[int, _Page, bool]]:
        """Pages in order, the next one fetched while the caller works on the current one."""
        links = MoreLinkPaginator(self.name, self.config.endpoint, self.statements_url)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"xapi-{self.name}") as pool:
            pending = pool.submit(
                contextvars.copy_context().run, self._page, links.current, params, 1
            )
            number = 1
            while pending is not None:
                page = pending.result()
                try:
                    links.advance(page.more)
                except SourceError:
                    yield number, page, False  # what the page holds is sound: keep it, then fail
                    raise
                pending = (
                    None
                    if links.finished
                    else pool.submit(
                        contextvars.copy_context().run, self._page, links.current, None, number + 1
                    )
                )
                yield number, page, links.finished
                number += 1

    def _page(self, url: str, params: dict[str, Any] | None, number: int) -> _Page:
        """A page, read with each statement's own JSON text, which the store keeps as it is
        where it can (sparing it a walk and an encoding of each statement)."""
        response, (body, texts) = self.http.request_json(
            "GET", url, params=params, decode=_statements_and_texts
        )
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list):
            raise SourceError(
                f"source {self.name!r}: statements page {number} has no 'statements' list"
            )
        return _Page(
            statements,
            body.get("more"),
            response.headers.get(CONSISTENT_THROUGH),
            read_statements(statements, self.rules, texts),
        )

    def since(self, cursor: dict[str, Any] | None) -> datetime | None:
        """Where a pull from this saved cursor starts when it is not finishing a window (see
        `XapiCursor.since`).

        Raises:
            ConfigurationError: the cursor cannot be read.
        """
        resume = XapiCursor.from_json(self.name, cursor)
        return None if resume is None else self._resume(resume)

    def gone(self, external_ids: Iterable[str]) -> Iterator[VoidRecord]:
        """Statements the LRS no longer returns (404, or an empty result) are retracted."""
        for statement_id in external_ids:
            response = self.http.request(
                "GET", self.statements_url, accept=(404,), params={"statementId": statement_id}
            )
            if response.status_code == 404 or _empty_result(response):
                yield VoidRecord(
                    external_id=f"gone:{statement_id}",
                    location=f"statement {statement_id} (404 on full resync)",
                    target_external_id=statement_id,
                    payload={"statementId": statement_id, "status": 404},
                )

    def push(self, notice: CredentialNotice) -> str:
        statement = self.credential_statement(notice)
        return self._put(statement)

    def revoke(self, notice: CredentialNotice) -> str:
        from onemind.connectors.xapi_push import voiding_statement

        return self._put(voiding_statement(self.credential_statement(notice), notice))

    def credential_statement(self, notice: CredentialNotice) -> Statement:
        """The 'achieved' statement for a credential; its id depends only on the credential.

        Raises:
            ConfigurationError: the person has no email, and no account can name them.
        """
        from onemind.connectors.xapi_push import credential_statement

        return credential_statement(self.config, notice)

    def _put(self, statement: Statement) -> str:
        """PUT with the statement's own id: 204 stored, 409 already there (pushing twice = once)."""
        statement_id = str(statement.id)
        self.http.request(
            "PUT",
            self.statements_url,
            accept=(409,),
            params={"statementId": statement_id},
            data=statement.to_json(self.config.version),
            headers={"Content-Type": "application/json"},
        )
        return statement_id


@dataclass(frozen=True)
class _Page:
    """A page as read, with its records: read in the thread that fetched it, so that turning
    statements into records overlaps the store's writing of the page before."""

    statements: list[Any]
    more: Any
    consistent_through: str | None
    records: list[PullItem]


def _statements_and_texts(text: str) -> tuple[Any, list[str | None]]:
    return object_with_texts(text, "statements")


def _empty_result(response: requests.Response) -> bool:
    """A StatementResult with no statements where a single statement was asked for."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("statements") == [] and "id" not in body


def _probe_query(statement: Any) -> tuple[str, dict[str, str]] | None:
    """A query that lists `statement` only if the LRS filters `since` on `stored`: its own
    actor, verb and activity, `since` halfway between its timestamp and its `stored`."""
    if not isinstance(statement, dict):
        return None
    try:
        done = parse_instant(str(statement["timestamp"]), "timestamp")
        stored = parse_instant(str(statement["stored"]), "stored")
        agent = {k: v for k, v in statement["actor"].items() if k in IDENTIFIERS}
        verb, activity = statement["verb"]["id"], statement["object"]["id"]
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    if stored - done < PROBE_GAP or len(agent) != 1 or not isinstance(activity, str):
        return None
    since = (done + (stored - done) / 2).isoformat().replace("+00:00", "Z")
    params = {"since": since, "agent": json.dumps(agent), "verb": verb, "activity": activity}
    return str(statement.get("id")), params
