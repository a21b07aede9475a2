"""Report mail goes over TLS to a real SMTP server (aiosmtpd); a password never goes in clear."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from onemind.config.model import SmtpConfig
from onemind.config.secrets import Secret
from onemind.errors import ConfigurationError, TransientError
from onemind.reports.mail import compose, send

USER, PASSWORD = "reports", "s3cret"
HOST = "127.0.0.1"


@dataclass
class Server:
    """What the server saw: each login and message, and whether the connection was TLS then."""

    port: int
    logins: list[tuple[str, bool]] = field(default_factory=list)
    messages: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(_encrypted(server))
        return "250 accepted"

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.password.decode(), _encrypted(server)))
        return AuthResult(success=(data.login, data.password) == (USER.encode(), PASSWORD.encode()))


def _encrypted(server: Any) -> bool:
    return server.transport.get_extra_info("ssl_object") is not None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onemind test mail")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _serve(**options: Any) -> Iterator[Server]:
    server = Server(_free_port())
    controller = Controller(
        server, hostname=HOST, port=server.port, authenticator=server, **options
    )
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    """Offers STARTTLS and refuses every command (AUTH included) before it."""
    yield from _serve(
        tls_context=_server_context(certificate), require_starttls=True, auth_require_tls=True
    )


@pytest.fixture
def implicit_tls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    """Speaks TLS from the first byte (port 465 style)."""
    yield from _serve(ssl_context=_server_context(certificate), auth_require_tls=False)


@pytest.fixture
def plain_server() -> Iterator[Server]:
    """Offers no TLS at all, and would take a login in clear."""
    yield from _serve(auth_require_tls=False)


def smtp_config(port: int, ca_file: Path | None, **options: Any) -> SmtpConfig:
    return SmtpConfig(
        host=HOST,
        port=port,
        sender="reports@academy.example",
        username=USER,
        password=Secret(PASSWORD, "env:SMTP_PASSWORD"),
        ca_file=ca_file,
        timeout=10,
        **options,
    )


def message() -> Any:
    return compose("reports@academy.example", ["chief@a.example"], "Report", "text", "<p>html</p>")


def test_starttls_is_used_before_the_login_when_configured(
    starttls_server: Server, certificate: tuple[Path, Path]
) -> None:
    send(smtp_config(starttls_server.port, certificate[0]), message())
    assert starttls_server.logins == [(PASSWORD, True)]
    assert starttls_server.messages == [True]


def test_implicit_tls_is_used_from_the_start(
    implicit_tls_server: Server, certificate: tuple[Path, Path]
) -> None:
    config = smtp_config(
        implicit_tls_server.port, certificate[0], starttls=False, implicit_tls=True
    )
    send(config, message())
    assert implicit_tls_server.logins == [(PASSWORD, True)]
    assert implicit_tls_server.messages == [True]


def test_a_server_without_starttls_is_never_given_the_password(plain_server: Server) -> None:
    with pytest.raises(ConfigurationError, match="does not offer STARTTLS: nothing was sent"):
        send(smtp_config(plain_server.port, None), message())
    assert plain_server.logins == [] and plain_server.messages == []


def test_an_untrusted_certificate_stops_the_login(starttls_server: Server) -> None:
    with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED"):
        send(smtp_config(starttls_server.port, None), message())
    assert starttls_server.logins == [] and starttls_server.messages == []


def test_a_login_in_clear_happens_only_when_allowed(plain_server: Server) -> None:
    with pytest.raises(ValueError, match="the password would be sent unencrypted"):
        smtp_config(plain_server.port, None, starttls=False)
    send(smtp_config(plain_server.port, None, starttls=False, allow_plaintext_auth=True), message())
    assert plain_server.logins == [(PASSWORD, False)]


def test_an_unreadable_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"smtp\.ca_file: cannot read"):
        send(smtp_config(_free_port(), tmp_path / "absent.pem"), message())
