"""Send and archive reports: on demand, on each agency's schedule, on a status change."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, sessionmaker

from onemind.config.model import Settings, SmtpConfig
from onemind.errors import ConfigurationError, OneMindError
from onemind.reports.mail import MaybeSent, NotSent, compose, hand_over, send
from onemind.reports.rendered import AGENCY, CHART_CID, HUB, Rendered, render_agency, render_hub
from onemind.store import claims
from onemind.store.db import transaction
from onemind.store.models import Agency, ReportArchive
from onemind.store.status import pending_status_changes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """How a delivery ended; `claim` is the state of its period's claim when it had one."""

    archive_id: int | None
    recipients: list[str]
    error: str | None
    claim: str | None = None
    busy_until: datetime | None = None

    @property
    def sent(self) -> bool:
        return self.error is None and self.claim in (None, claims.SENT)

    @property
    def retry(self) -> bool:
        """Worth trying again later: nothing certain went out, or another sender may fail."""
        return self.claim == claims.FAILED or self.busy_until is not None


@dataclass(frozen=True)
class Once:
    """A scheduled report's period and its sender: the report goes out once per period.

    `gone(holder)` tells whether another sender that holds the claim is known to be dead.
    """

    period: str
    holder: str
    ttl: timedelta
    gone: Callable[[str], bool] = lambda holder: False


def deliver(
    settings: Settings,
    sessions: sessionmaker[Session],
    rendered: Rendered,
    recipients: Sequence[str],
    reason: str,
    now: datetime,
) -> Delivery:
    """Send the report by SMTP and archive it, sent or not (a failure is archived with its error).

    Raises:
        ConfigurationError: no [smtp] section, or nobody to send to.
    """
    _can_send(settings, rendered.kind, recipients)
    message = _message(settings, rendered, recipients)
    error = None
    try:
        send(settings.smtp, message)
    except OneMindError as exc:
        error = str(exc)
        log.error("report %s not sent: %s", rendered.subject, error)
    archive_id = _archive(sessions, rendered, list(recipients), reason, now, error)
    return Delivery(archive_id, list(recipients), error)


def _can_send(settings: Settings, kind: str, recipients: Sequence[str]) -> SmtpConfig:
    """The SMTP settings, when there is someone to send to.

    Raises:
        ConfigurationError: no [smtp] section, or nobody to send to.
    """
    if settings.smtp is None:
        raise ConfigurationError("reports cannot be sent: add an [smtp] section (host, sender)")
    if not recipients:
        raise ConfigurationError(f"nobody to send the {kind} report to (report_to/hub_to)")
    return settings.smtp


def _message(
    settings: Settings, rendered: Rendered, recipients: Sequence[str], message_id: str | None = None
) -> EmailMessage:
    smtp = _can_send(settings, rendered.kind, recipients)
    message = compose(
        smtp.sender,
        list(recipients),
        rendered.subject,
        rendered.text,
        rendered.mail_html,
        (CHART_CID, rendered.chart) if rendered.chart else None,
        rendered.attachments,
    )
    if message_id is not None:
        message.replace_header("Message-ID", message_id)
    return message


def _archive(
    sessions: sessionmaker[Session],
    rendered: Rendered,
    recipients: list[str],
    reason: str,
    now: datetime,
    error: str | None,
) -> int:
    with transaction(sessions) as session:
        return _archive_row(session, rendered, recipients, reason, now, error)


def _archive_row(
    session: Session,
    rendered: Rendered,
    recipients: list[str],
    reason: str,
    now: datetime,
    error: str | None,
) -> int:
    row = ReportArchive(
        agency_id=rendered.agency,
        kind=rendered.kind,
        reason=reason[:40],
        as_of=rendered.as_of,
        status=rendered.status,
        subject=rendered.subject[:300],
        recipients=recipients,
        created_at=now,
        sent_at=None if error else now,
        error=error,
        html=rendered.mail_html,
        pdf=rendered.pdf,
        csv=rendered.csv,
    )
    session.add(row)
    session.flush()
    return row.id


def deliver_agency(
    settings: Settings,
    sessions: sessionmaker[Session],
    agency_id: str,
    reason: str,
    now: datetime,
    as_of: date,
    changed: str | None = None,
    once: Once | None = None,
) -> Delivery:
    """Render the agency's report and send it to its `report_to` addresses (once per period
    when `once` is given)."""
    with sessions() as session:
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise ConfigurationError(f"no agency {agency_id!r} in the store (run 'onemind init')")
        recipients = list(agency.report_to)

    def rendered(session: Session) -> Rendered:
        return render_agency(session, settings, agency_id, as_of, now, changed)

    return _send(settings, sessions, rendered, agency_id, recipients, reason, now, once)


def deliver_hub(
    settings: Settings,
    sessions: sessionmaker[Session],
    reason: str,
    now: datetime,
    as_of: date,
    once: Once | None = None,
) -> Delivery:
    def rendered(session: Session) -> Rendered:
        return render_hub(session, settings, as_of, now)

    recipients = list(settings.reports.hub_to)
    return _send(settings, sessions, rendered, HUB, recipients, reason, now, once)


def _send(
    settings: Settings,
    sessions: sessionmaker[Session],
    render_with: Callable[[Session], Rendered],
    subject: str,
    recipients: list[str],
    reason: str,
    now: datetime,
    once: Once | None,
) -> Delivery:
    """Render in a session of its own and send: once per period with `once`, else every time."""

    def rendered() -> Rendered:
        with sessions() as session:
            return render_with(session)

    if once is not None:
        return _deliver_once(settings, sessions, rendered, subject, recipients, reason, now, once)
    return deliver(settings, sessions, rendered(), recipients, reason, now)


def _deliver_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    render_it: Callable[[], Rendered],
    subject: str,
    recipients: list[str],
    reason: str,
    now: datetime,
    once: Once,
) -> Delivery:
    """Claim the period, render, send to whoever has not had it yet, settle the claim.

    A failure before the message is handed over leaves the claim `failed` (a retry sends it);
    a connection lost while handing it over leaves it `unknown` (never resent by itself:
    at most once per recipient, rather than a second copy).
    """
    kind = HUB if subject == HUB else AGENCY
    smtp = _can_send(settings, kind, recipients)
    with transaction(sessions) as session:
        claim = claims.claim(
            session, kind, subject, once.period, once.holder, now, once.ttl, once.gone
        )
    if not claim.go:
        return Delivery(None, recipients, None, claim.state, claim.busy_until)
    try:
        rendered = render_it()
    except Exception as exc:
        with transaction(sessions) as session:
            claims.settle(session, claim.id, claims.FAILED, [], None, f"not rendered: {exc}")
        raise
    pending = [r for r in recipients if r not in claim.delivered]

    def mark_sending() -> None:
        with transaction(sessions) as session:
            if not claims.sending(session, claim.id, once.holder, now, once.ttl):
                raise ClaimLost(f"the claim on {subject} for {once.period} was taken over")

    message_id = f"<report.{kind}.{subject}.{_digest(once.period)}@onemind.local>"
    message = _message(settings, rendered, recipients, message_id)
    state, refused, error = claims.SENT, [], None
    try:
        refused = hand_over(smtp, message, pending, mark_sending)
    except ClaimLost:
        return Delivery(None, recipients, None, claims.CLAIMED, now + once.ttl)
    except MaybeSent as exc:
        state, refused, error = claims.UNKNOWN, pending, f"{exc}; not resent (it may have arrived)"
    except OneMindError as exc:
        state, refused, error = claims.FAILED, pending, str(exc)
    if refused and error is None:
        state, error = claims.FAILED, f"refused by the server for {', '.join(refused)}"
    if error:
        log.error("report %s (%s) not sent to all: %s", subject, once.period, error)
    with transaction(sessions) as session:
        accepted = [r for r in pending if r not in refused]
        archive_id = _archive_row(session, rendered, accepted or pending, reason, now, error)
        claims.settle(session, claim.id, state, accepted, archive_id, error)
    return Delivery(archive_id, accepted, error, state)


class ClaimLost(NotSent):
    """Another sender took the claim over (this one was thought dead): leave it to them."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StatusNotice:
    """What an agency is to be told of its status, and the recorded changes that telling settles."""

    message: str | None
    change_ids: list[int]


def status_notices(session: Session) -> dict[str, StatusNotice]:
    """Agencies with status changes not yet told, and what to tell them (None: nothing new).

    An agency that has received a report is told when its status differs from that report's;
    one that never has, when its status differs from the one before its first untold change.
    A change stays untold until a report about it is sent, so a failed delivery is tried again.
    """
    last_sent = _last_sent_status(session)
    notices = {}
    for agency, rows in pending_status_changes(session).items():
        before, after = last_sent.get(agency, rows[0].before), rows[-1].after
        message = None if before == after else f"Status changed from {before} to {after}"
        notices[agency] = StatusNotice(message, [row.id for row in rows])
    return notices


def _last_sent_status(session: Session) -> dict[str, str]:
    latest = (
        select(func.max(ReportArchive.id))
        .where(ReportArchive.kind == AGENCY, ReportArchive.sent_at.is_not(None))
        .group_by(ReportArchive.agency_id)
    )
    rows = session.execute(
        select(ReportArchive.agency_id, ReportArchive.status).where(ReportArchive.id.in_(latest))
    )
    return {agency: status for agency, status in rows if agency and status}


def archived(session: Session, agency: str | None = None, limit: int = 50) -> list[ReportArchive]:
    """Reports delivered or attempted, newest first."""
    query = (
        select(ReportArchive)
        .options(defer(ReportArchive.html), defer(ReportArchive.pdf), defer(ReportArchive.csv))
        .order_by(ReportArchive.id.desc())
        .limit(limit)
    )
    if agency is not None:
        query = query.where(ReportArchive.agency_id == agency)
    return list(session.scalars(query))
