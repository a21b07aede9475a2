"""The statements a credential is pushed to an LRS with (tincan builds them), with ids that
depend only on the credential, so that pushing twice stores one statement."""

from __future__ import annotations

import uuid
from urllib.parse import urljoin

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
from onemind.connectors.xapi_statements import VOIDED
from onemind.domain.records import CredentialNotice
from onemind.errors import ConfigurationError

ACHIEVED = "https://w3id.org/xapi/tla/verbs/achieved"
CREDENTIAL_TYPE = "https://w3id.org/xapi/tla/activity-types/credential"
CREDENTIAL_EXTENSION = "https://onemind.example/xapi/extensions/credential"
NAMESPACE = uuid.UUID("5b0f2d6e-7c61-4c4e-9f3e-0a8e1d6c2b57")


def credential_statement(config: XapiSourceConfig, notice: CredentialNotice) -> Statement:
    """The 'achieved' statement for a credential.

    Raises:
        ConfigurationError: the person has no email, and no account can name them.
    """
    return Statement(
        id=uuid.uuid5(NAMESPACE, f"credential:{notice.credential_id}"),
        actor=_actor(config, notice),
        verb=Verb(id=ACHIEVED, display=LanguageMap({"en-US": "achieved"})),
        object=Activity(
            id=urljoin(config.achievement_base, notice.category),
            definition=ActivityDefinition(
                name=LanguageMap({"en-US": notice.achievement_name}), type=CREDENTIAL_TYPE
            ),
        ),
        result=Result(
            completion=True, extensions=Extensions({CREDENTIAL_EXTENSION: notice.credential})
        ),
        timestamp=notice.issued_at,
    )


def voiding_statement(target: Statement, notice: CredentialNotice) -> Statement:
    """The statement voiding a credential's `target` statement."""
    return Statement(
        id=uuid.uuid5(NAMESPACE, f"void:{notice.credential_id}"),
        actor=target.actor,
        verb=Verb(id=VOIDED, display=LanguageMap({"en-US": "voided"})),
        object=StatementRef(id=target.id),
        timestamp=notice.issued_at,
    )


def _actor(config: XapiSourceConfig, notice: CredentialNotice) -> Agent:
    if notice.email:
        return Agent(mbox=f"mailto:{notice.email}", name=notice.person_name)
    if notice.employee_id and config.account_home_page:
        return Agent(
            account=AgentAccount(home_page=config.account_home_page, name=notice.employee_id),
            name=notice.person_name,
        )
    raise ConfigurationError(
        f"source {config.name!r}: credential {notice.credential_id} has no "
        "email, and account_home_page is not set to name the person"
    )
