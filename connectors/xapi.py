"""A conformant LRS (xAPI 1.0.3 / 2.0) over HTTP: incremental pull, push-back, reconciliation."""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin

import requests
from requests.auth import HTTPBasicAuth
from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    Extensions,
    LanguageMap,
    Result,
    Statement,
    StatementRef,
    Verb,
)

from onemind.config.model import XapiSourceConfig
from onemind.connectors.base import Connector, Pushes, Reconciles
from onemind.connectors.cursors import instant, versioned
from onemind.connectors.http import HttpClient
from onemind.connectors.paging import MoreLinkPaginator
from onemind.connectors.xapi_statements import (
    VOIDED,
    parse_instant,
    read_statement,
    statement_rules,
)
from onemind.domain.records import Checkpoint, CredentialNotice, PullItem, VoidRecord
from onemind.errors import ConfigurationError, SourceError

log = logging.getLogger(__name__)

ACHIEVED = "https://w3id.org/xapi/tla/verbs/achieved"
CREDENTIAL_TYPE = "https://w3id.org/xapi/tla/activity-types/credential"
CREDENTIAL_EXTENSION = "https://onemind.example/xapi/extensions/credential"
NAMESPACE = uuid.UUID("5b0f2d6e-7c61-4c4e-9f3e-0a8e1d6c2b57")
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


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

    def check(self) -> None:
        """One statement read: reachability and credentials (not every LRS has /about)."""
        response = self.http.request("GET", self.statements_url, params={"limit": 1})
        self._json(response, "statements")

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Statements stored since the cursor (less the overlap), checkpointing each page."""
        params: dict[str, Any] = {"limit": self.config.page_size, "ascending": "true"}
        since = self.since(cursor)
        if since is not None:
            params["since"] = since.isoformat().replace("+00:00", "Z")
        progress = _Progress(XapiCursor.from_json(self.name, cursor) or XapiCursor())
        for number, page, last in self._pages(params):
            if number == 1:
                progress.consistent_through = page.consistent_through
            for statement in page.statements:
                progress.saw(statement)
                record = read_statement(statement, self.rules)
                if record is not None:
                    yield record
            if progress.ordered or last:
                yield Checkpoint(progress.cursor().to_json())

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
        response = self.http.request("GET", url, params=params)
        body = self._json(response, f"statements page {number}")
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list):
            raise SourceError(
                f"source {self.name!r}: statements page {number} has no 'statements' list"
            )
        return _Page(statements, body.get("more"), response.headers.get(CONSISTENT_THROUGH))

    def since(self, cursor: dict[str, Any] | None) -> datetime | None:
        """Where a pull from this saved cursor resumes (see `XapiCursor.since`).

        Raises:
            ConfigurationError: the cursor cannot be read.
        """
        resume = XapiCursor.from_json(self.name, cursor)
        overlap = timedelta(minutes=self.config.overlap_minutes)
        return None if resume is None else resume.since(overlap)

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise SourceError(
                f"source {self.name!r}: {what} is not valid JSON: {response.text[:120]!r}"
            ) from exc

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
        target = self.credential_statement(notice)
        voiding = Statement(
            id=uuid.uuid5(NAMESPACE, f"void:{notice.credential_id}"),
            actor=target.actor,
            verb=Verb(id=VOIDED, display=LanguageMap({"en-US": "voided"})),
            object=StatementRef(id=target.id),
            timestamp=notice.issued_at,
        )
        return self._put(voiding)

    def credential_statement(self, notice: CredentialNotice) -> Statement:
        """The 'achieved' statement for a credential; its id depends only on the credential."""
        return Statement(
            id=uuid.uuid5(NAMESPACE, f"credential:{notice.credential_id}"),
            actor=self._actor(notice),
            verb=Verb(id=ACHIEVED, display=LanguageMap({"en-US": "achieved"})),
            object=Activity(
                id=urljoin(self.config.achievement_base, notice.category),
                definition=ActivityDefinition(
                    name=LanguageMap({"en-US": notice.achievement_name}), type=CREDENTIAL_TYPE
                ),
            ),
            result=Result(
                completion=True, extensions=Extensions({CREDENTIAL_EXTENSION: notice.credential})
            ),
            timestamp=notice.issued_at,
        )

    def _actor(self, notice: CredentialNotice) -> Agent:
        if notice.email:
            return Agent(mbox=f"mailto:{notice.email}", name=notice.person_name)
        if notice.employee_id and self.config.account_home_page:
            return Agent(
                account=AgentAccount(
                    home_page=self.config.account_home_page, name=notice.employee_id
                ),
                name=notice.person_name,
            )
        raise ConfigurationError(
            f"source {self.name!r}: credential {notice.credential_id} has no "
            "email, and account_home_page is not set to name the person"
        )

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
class XapiCursor:
    """Where an LRS pull resumes: the newest `stored` seen (as the LRS wrote it), and the LRS's
    consistent-through time when the pull that saw it began."""

    stored: str | None = None
    consistent_through: str | None = None
    VERSION: ClassVar[int] = 1

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "stored": self.stored,
            "consistent_through": self.consistent_through,
        }

    @classmethod
    def from_json(cls, source: str, raw: Any) -> XapiCursor | None:
        """The cursor saved for `source`, if any.

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        body = versioned(source, raw, cls.VERSION)
        if body is None:
            return None
        return cls(instant(source, body, "stored"), instant(source, body, "consistent_through"))

    def since(self, overlap: timedelta) -> datetime | None:
        """The older of the last `stored` seen and the consistent-through time at that read, less
        the overlap window for LRSs that filter or order otherwise; None to read from the start."""
        if not self.stored:
            return None
        marks = [parse_instant(self.stored, "cursor.stored")]
        if self.consistent_through:
            marks.append(parse_instant(self.consistent_through, "cursor.consistent_through"))
        return min(marks) - overlap


@dataclass(frozen=True)
class _Page:
    statements: list[Any]
    more: Any
    consistent_through: str | None


def _empty_result(response: requests.Response) -> bool:
    """A StatementResult with no statements where a single statement was asked for."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("statements") == [] and "id" not in body


class _Progress:
    """The newest `stored` seen, and whether pages have come oldest-first so far."""

    def __init__(self, resume: XapiCursor) -> None:
        previous = resume.stored
        self.stored: datetime | None = (
            parse_instant(previous, "cursor.stored") if previous else None
        )
        self.text: str | None = previous
        self.consistent_through: str | None = None
        self.ordered = True
        self._last: datetime | None = None

    def saw(self, statement: Any) -> None:
        value = statement.get("stored") if isinstance(statement, dict) else None
        if not isinstance(value, str):
            return
        try:
            stored = parse_instant(value, "stored")
        except ValueError:
            return
        if self._last is not None and stored < self._last:
            self.ordered = False
        self._last = stored
        if self.stored is None or stored > self.stored:
            self.stored, self.text = stored, value

    def cursor(self) -> XapiCursor:
        return XapiCursor(self.text, self.consistent_through)
