"""Push-back of credentials: queued in the sync's transaction, delivered after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import Settings, SourceConfig
from onemind.connectors.base import Connector, Pushes
from onemind.connectors.registry import connector_class
from onemind.domain.records import CredentialNotice
from onemind.errors import OneMindError
from onemind.store.models import (
    Category,
    Completion,
    Credential,
    CredentialPush,
    Employment,
    Person,
    Source,
)
from onemind.store.upsert import upsert

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def pushing_sources(settings: Settings) -> frozenset[str]:
    """The configured sources whose connectors take credentials back."""
    return frozenset(s.name for s in settings.sources if issubclass(connector_class(s), Pushes))


def enqueue(
    session: Session, credential: Credential, action: str, now: datetime, pushing: Collection[str]
) -> None:
    """One pending push per `pushing` source that holds this person's records."""
    if credential.person_id is None or not pushing:
        return
    sources = session.scalars(
        select(Source.id)
        .join(Completion, Completion.source_id == Source.id)
        .where(Completion.person_id == credential.person_id, Source.name.in_(list(pushing)))
        .distinct()
    )
    upsert(
        session,
        CredentialPush.__table__,
        [
            {
                "credential_id": credential.id,
                "source_id": source_id,
                "action": action,
                "status": "pending",
                "attempts": 0,
                "updated_at": now,
            }
            for source_id in sources
        ],
        keys=["credential_id", "source_id", "action"],
    )


def deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    factory: Callable[[SourceConfig], Connector],
    now: Callable[[], datetime],
) -> int:
    """Try every pending or failed push (a few attempts each); returns how many succeeded."""
    with sessions() as session:
        pending = session.execute(
            select(CredentialPush.id, Source.name)
            .join(Source, Source.id == CredentialPush.source_id)
            .where(CredentialPush.status != "done", CredentialPush.attempts < MAX_ATTEMPTS)
            .order_by(CredentialPush.id)
        ).all()
    connectors: dict[str, Connector | None] = {}
    done = 0
    for push_id, source in pending:
        if source not in connectors:
            connectors[source] = _connector(settings, source, factory)
        connector = connectors[source]
        if isinstance(connector, Pushes):
            done += _attempt(sessions, push_id, connector, now())
    return done


def _connector(
    settings: Settings, source: str, factory: Callable[[SourceConfig], Connector]
) -> Connector | None:
    try:
        return factory(settings.source(source))
    except (KeyError, OneMindError) as exc:
        log.warning("cannot push to source %s: %s", source, exc)
        return None


def _attempt(
    sessions: sessionmaker[Session], push_id: int, connector: Pushes, now: datetime
) -> int:
    with sessions.begin() as session:
        push = session.get_one(CredentialPush, push_id)
        credential = session.get_one(Credential, push.credential_id)
        notice = notice_for(session, credential, push.source_id, now.date())
        push.attempts += 1
        push.updated_at = now
        try:
            push.remote_id = (
                connector.push(notice) if push.action == "issue" else connector.revoke(notice)
            )
        except OneMindError as exc:
            push.status, push.last_error = "failed", str(exc)
            log.warning("push %s of %s failed: %s", push.action, push.credential_id, exc)
            return 0
        push.status, push.last_error = "done", None
        return 1


def notice_for(
    session: Session, credential: Credential, source_id: int, today: date
) -> CredentialNotice:
    """What the source is told: the person, the credential, the accounts its own records gave
    the person, and which of the person's other credentials still stand today."""
    person = session.get_one(Person, credential.person_id)
    employee = session.scalar(
        select(func.min(Employment.employee_id)).where(Employment.person_id == person.id)
    )
    category = session.get(Category, credential.category_id) if credential.category_id else None
    return CredentialNotice(
        credential_id=credential.id,
        category=credential.category_id or "",
        achievement_name=category.label if category else "",
        issued_at=credential.issued_at,
        credential=credential.jwt,
        email=person.email,
        employee_id=employee,
        person_name=f"{person.first_name} {person.last_name}",
        accounts=_accounts(session, person.id, source_id),
        others_valid=_others_valid(session, credential, today),
    )


def _accounts(session: Session, person_id: int, source_id: int) -> tuple[str, ...]:
    """The accounts the source's own completion records gave the person."""
    return tuple(
        session.scalars(
            select(Completion.account)
            .where(
                Completion.person_id == person_id,
                Completion.source_id == source_id,
                Completion.account.is_not(None),
            )
            .distinct()
            .order_by(Completion.account)
        )
    )


def _others_valid(session: Session, credential: Credential, today: date) -> tuple[str, ...]:
    """The ids of the person's other active credentials that have not expired by `today`."""
    return tuple(
        session.scalars(
            select(Credential.id)
            .where(
                Credential.person_id == credential.person_id,
                Credential.id != credential.id,
                Credential.status == "active",
                Credential.valid_from <= today,
                or_(Credential.valid_until.is_(None), Credential.valid_until > today),
            )
            .order_by(Credential.id)
        )
    )
