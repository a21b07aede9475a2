"""E-mail messages for reports and their delivery over SMTP (STARTTLS or implicit TLS, login)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

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
    where = f"{config.host}:{config.port}"
    context = _tls_context(config)
    try:
        with _connect(config, context) as client:
            if config.starttls:
                client.starttls(context=context)
            if config.username and config.password:
                client.login(config.username, config.password.get())
            client.send_message(message)
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
        raise TransientError(f"could not send through SMTP server {where}: {exc}") from exc


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificates checked against the system's authorities, or those in `ca_file`."""
    try:
        return ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"smtp.ca_file: cannot read {config.ca_file}: {exc}") from exc


def _connect(config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    if config.implicit_tls:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)
