"""A conformant LRS (xAPI 1.0.3 / 2.0) over HTTP: incremental pull, push-back, reconciliation."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import requests
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
from onemind.connectors.base import (
    CURSOR_VERSION,
    Checkpoint,
    Connector,
    CredentialNotice,
    PullItem,
    Pushes,
    Reconciles,
    VoidRecord,
)
from onemind.connectors.http import Backoff, HttpClient
from onemind.connectors.xapi_statements import (
    VOIDED,
    parse_instant,
    read_statement,
    statement_rules,
)
from onemind.errors import ConfigurationError, SourceError

log = logging.getLogger(__name__)

ACHIEVED = "https://w3id.org/xapi/tla/verbs/achieved"
CREDENTIAL_TYPE = "https://w3id.org/xapi/tla/activity-types/credential"
CREDENTIAL_EXTENSION = "https://onemind.example/xapi/extensions/credential"
NAMESPACE = uuid.UUID("5b0f2d6e-7c61-4c4e-9f3e-0a8e1d6c2b57")
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


class MoreLinks:
    """Follows `more` links, relative or absolute, and refuses to follow one twice."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.seen: set[str] = set()

    def next_url(self, more: Any) -> str | None:
        if not more:
            return None
        if not isinstance(more, str):
            raise SourceError(f"'more' is not a link: {more!r}")
        url = urljoin(self.endpoint, more)
        if url in self.seen:
            raise SourceError(f"the LRS sent the same 'more' link twice ({more}); stopping")
        self.seen.add(url)
        return url


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
        http.auth = (config.username, config.password.get())
        http.headers.update(
            {"X-Experience-API-Version": config.version, "Accept": "application/json"}
        )
        backoff = Backoff(retries=config.max_retries)
        timeout = (config.connect_timeout, config.read_timeout)
        extra = {"sleep": sleep} if sleep else {}
        self.http = HttpClient(config.name, http, timeout, backoff, **extra)
        self.statements_url = urljoin(config.endpoint, "statements")

    def check(self) -> None:
        self._json(self.http.request("GET", urljoin(self.config.endpoint, "about")), "about")

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        """Statements stored since the cursor (less the overlap), checkpointing each page."""
        params: dict[str, Any] = {"limit": self.config.page_size, "ascending": "true"}
        since = self.since(cursor)
        if since is not None:
            params["since"] = since.isoformat().replace("+00:00", "Z")
        progress = _Progress(cursor)
        links = MoreLinks(self.config.endpoint)
        url: str | None = self.statements_url
        page = 0
        while url is not None:
            page += 1
            response = self.http.request("GET", url, params=params if page == 1 else None)
            if page == 1:
                progress.consistent_through = response.headers.get(CONSISTENT_THROUGH)
            body = self._json(response, f"statements page {page}")
            statements = body.get("statements") if isinstance(body, dict) else None
            if not isinstance(statements, list):
                raise SourceError(
                    f"source {self.name!r}: statements page {page} has no 'statements' list"
                )
            for statement in statements:
                progress.saw(statement)
                record = read_statement(statement, self.rules)
                if record is not None:
                    yield record
            url = links.next_url(body.get("more"))
            if progress.ordered or url is None:
                yield Checkpoint(progress.cursor())

    def since(self, cursor: dict[str, Any] | None) -> datetime | None:
        """Where to resume: the older of the last `stored` seen and the LRS's consistent-through
        time at that read, less the overlap window for LRSs that filter or order otherwise."""
        if not cursor or not cursor.get("stored"):
            return None
        marks = [parse_instant(cursor["stored"], "cursor.stored")]
        if cursor.get("consistent_through"):
            marks.append(parse_instant(cursor["consistent_through"], "cursor.consistent_through"))
        return min(marks) - timedelta(hours=self.config.overlap_hours)

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise SourceError(
                f"source {self.name!r}: {what} is not valid JSON: {response.text[:120]!r}"
            ) from exc

    def gone(self, external_ids: Iterable[str]) -> Iterator[VoidRecord]:
        """Statements a conformant LRS answers 404 for (voided or removed) are retracted."""
        for statement_id in external_ids:
            response = self.http.request(
                "GET", self.statements_url, accept=(404,), params={"statementId": statement_id}
            )
            if response.status_code == 404:
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


class _Progress:
    """The newest `stored` seen, and whether pages have come oldest-first so far."""

    def __init__(self, cursor: dict[str, Any] | None) -> None:
        previous = (cursor or {}).get("stored")
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

    def cursor(self) -> dict[str, Any]:
        return {
            "version": CURSOR_VERSION,
            "stored": self.text,
            "consistent_through": self.consistent_through,
        }
