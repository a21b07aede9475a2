"""E-mail messages for reports and their delivery over SMTP (STARTTLS or implicit TLS, login)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path

from onemind.config.model import SmtpConfig
from onemind.domain.text import plain
from onemind.errors import ConfigurationError, TransientError


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def compose(
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    inline_png: tuple[str, bytes] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    """A multipart message: text, HTML (with its chart inline under `cid:`), attachments.

    `inline_png` is (content id without brackets, PNG bytes); the HTML refers to `cid:<id>`.
    """
    message = EmailMessage()
    message["Subject"] = plain(subject).replace("\n", " ")
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain="onemind.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if inline_png is not None:
        content_id, png = inline_png
        html_part = message.get_payload()[1]
        html_part.add_related(png, "image", "png", cid=f"<{content_id}>", filename="trend.png")
    for item in attachments:
        message.add_attachment(
            item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename
        )
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand the message to the configured server, over TLS unless configured otherwise.

    Raises:
        ConfigurationError: the server refused our credentials, offers no STARTTLS, or the
            CA file cannot be read.
        TransientError: the server could not be reached or refused the message.
    """
    with _client(config, TransientError) as client:
        client.send_message(message)


class NotSent(TransientError):
    """The server accepted the message for no one: sending again is safe."""


class MaybeSent(TransientError):
    """The connection failed while the message was handed over: it may have been delivered."""


def hand_over(
    config: SmtpConfig,
    message: EmailMessage,
    recipients: list[str],
    before_data: Callable[[], None] = lambda: None,
) -> list[str]:
    """Send step by step, telling apart what was certainly not sent from what may have been.

    `before_data` runs once the server has accepted the sender and a recipient, just before the
    message itself goes (it may raise `NotSent` to stop there). Returns the recipients the
    server refused (it accepted the message for all the others).

    Raises:
        ConfigurationError: as `send`.
        NotSent: nothing was delivered (connection, login, sender or every recipient refused).
        MaybeSent: the message was on its way when the connection failed.
    """
    with _client(config, NotSent) as client:
        return _envelope(client, message, recipients, f"{config.host}:{config.port}", before_data)


@contextmanager
def _client(config: SmtpConfig, failure: type[TransientError]) -> Iterator[smtplib.SMTP]:
    """A connection, encrypted and logged in as configured; SMTP and network errors raised in
    the block become `failure` (a refused login or missing STARTTLS: ConfigurationError)."""
    where = f"{config.host}:{config.port}"
    context = _tls_context(config.ca_file) if config.starttls or config.implicit_tls else None
    try:
        with _connect(config, context) as client:
            if config.starttls:
                client.starttls(context=context)
            if config.username and config.password:
                client.login(config.username, config.password.get())
            yield client
    except smtplib.SMTPAuthenticationError as exc:
        raise ConfigurationError(
            f"SMTP server {where} refused the login of {config.username!r}: {exc.smtp_code}"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise ConfigurationError(
            f"SMTP server {where} does not offer STARTTLS: nothing was sent (set implicit_tls "
            "if it expects TLS from the start)"
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise failure(f"could not send through SMTP server {where}: {exc}") from exc


def _envelope(
    client: smtplib.SMTP,
    message: EmailMessage,
    recipients: list[str],
    where: str,
    before_data: Callable[[], None],
) -> list[str]:
    client.ehlo_or_helo_if_needed()
    code, reply = client.mail(str(message["From"]))
    if code != 250:
        raise NotSent(f"SMTP server {where} refused the sender: {code} {reply!r}")
    refused = [r for r in recipients if client.rcpt(r)[0] not in (250, 251)]
    if len(refused) == len(recipients):
        raise NotSent(f"SMTP server {where} refused every recipient: {', '.join(refused)}")
    before_data()
    try:
        code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    except smtplib.SMTPDataError as exc:
        raise NotSent(f"SMTP server {where} refused the message: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MaybeSent(f"SMTP server {where}: connection lost while sending: {exc}") from exc
    if code != 250:
        raise NotSent(f"SMTP server {where} refused the message: {code} {reply!r}")
    return refused


@cache
def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates checked against the system's authorities, or those in `ca_file`: read once
    per process (loading the authorities costs more than sending a report)."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"smtp.ca_file: cannot read {ca_file}: {exc}") from exc


def _connect(config: SmtpConfig, context: ssl.SSLContext | None) -> smtplib.SMTP:
    if config.implicit_tls:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)
