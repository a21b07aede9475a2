"""Configuration refuses what would leak or misroute: addresses, plain-text logins, store secrets."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from onemind.config import load_settings, parse_settings
from onemind.config.model import Settings
from onemind.config.secrets import KEY_VARIABLE, encrypt, encrypt_stream
from onemind.errors import ConfigurationError, StoreError
from onemind.store.db import make_engine, require_current, upgrade

KEY = Fernet.generate_key().decode()
SMTP = {"host": "mail.example", "sender": "One Mind <reports@academy.example>"}
LOGIN = {"username": "reports", "password": "env:SMTP_PASSWORD"}
ENVIRON = {"SMTP_PASSWORD": "s3cret", KEY_VARIABLE: KEY}


def settings(tmp_path: Path, environ: dict[str, str] | None = None, **raw: Any) -> Settings:
    return parse_settings(raw, tmp_path / "onemind.toml", ENVIRON if environ is None else environ)


def problems(tmp_path: Path, environ: dict[str, str] | None = None, **raw: Any) -> str:
    with pytest.raises(ConfigurationError) as caught:
        settings(tmp_path, environ, **raw)
    return str(caught.value)


def agency(*report_to: str) -> dict[str, Any]:
    return {"id": "a-pd", "name": "A Police Department", "report_to": list(report_to)}


@pytest.mark.parametrize(
    "entry",
    [
        "a@x.example, b@y.example",
        "a@x.example; b@y.example",
        "Chief <a@x.example>, b@y.example",
        "a@x.example\r\nBcc: spy@evil.example",
        "a@x.example\nb@y.example",
        "not an address",
        "a@",
        "@x.example",
        "a b@x.example",
        "<a@x.example",
        '"a@x.example, b@y.example" <c@z.example>',
        "",
    ],
)
def test_a_report_to_entry_must_be_exactly_one_address(tmp_path: Path, entry: str) -> None:
    message = problems(tmp_path, agencies=[agency("ok@a.example", entry)])
    assert f"agencies['a-pd'].report_to[1]: {entry!r} is not one e-mail address" in message
    assert "\r" not in message and "\nBcc" not in message


@pytest.mark.parametrize(
    "entry",
    ["chief@a.example", "Chief Training Officer <chief@a.example>", "o'neil+reports@a-pd.example"],
)
def test_single_addresses_are_accepted_as_written(tmp_path: Path, entry: str) -> None:
    assert settings(tmp_path, agencies=[agency(entry)]).agencies[0].report_to == [entry]


def test_hub_to_and_sender_are_one_address_each(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        reports={"hub_to": ["hub@state.example, other@state.example"]},
        smtp={**SMTP, "sender": "reports@academy.example\r\nBcc: spy@evil.example"},
    )
    assert "reports.hub_to[0]: 'hub@state.example, other@state.example' is not" in message
    assert "smtp.sender: 'reports@academy.example\\r\\nBcc: spy@evil.example' is not" in message


def test_login_over_plain_text_is_refused_unless_allowed(tmp_path: Path) -> None:
    message = problems(tmp_path, smtp={**SMTP, **LOGIN, "starttls": False})
    assert "smtp: the password would be sent unencrypted" in message
    assert "allow_plaintext_auth = true" in message
    allowed = {**SMTP, **LOGIN, "starttls": False, "allow_plaintext_auth": True}
    assert settings(tmp_path, smtp=allowed).smtp.allow_plaintext_auth  # type: ignore[union-attr]
    assert settings(tmp_path, smtp={**SMTP, **LOGIN}).smtp.starttls  # type: ignore[union-attr]
    implicit = {**SMTP, **LOGIN, "starttls": False, "implicit_tls": True, "port": 465}
    assert settings(tmp_path, smtp=implicit).smtp.implicit_tls  # type: ignore[union-attr]
    assert settings(tmp_path, smtp={**SMTP, "starttls": False}).smtp.username is None  # type: ignore[union-attr]


def test_starttls_and_implicit_tls_exclude_each_other(tmp_path: Path) -> None:
    message = problems(tmp_path, smtp={**SMTP, "implicit_tls": True})
    assert "smtp: implicit_tls already encrypts the connection: set starttls = false" in message


@pytest.mark.parametrize(
    ("source", "url"),
    [
        (
            {"kind": "xapi", "endpoint": "http://u:pw@lrs.example/xapi", "username": "u"},
            "http://lrs.example",
        ),
        (
            {"kind": "moodle", "base_url": "http://moodle.example", "course_ids": [1]},
            "http://moodle.example",
        ),
        (
            {"kind": "canvas", "base_url": "http://canvas.example", "course_ids": [1]},
            "http://canvas.example",
        ),
    ],
    ids=["xapi", "moodle", "canvas"],
)
def test_credentials_over_http_are_warned_about_once_per_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, source: dict[str, Any], url: str
) -> None:
    secret = "password" if source["kind"] == "xapi" else "token"
    tls = {
        k: v.replace("http://", "https://")
        for k, v in source.items()
        if k.endswith(("url", "endpoint"))
    }
    base = {**source, "name": "remote", secret: "env:SMTP_PASSWORD"}
    with caplog.at_level(logging.WARNING, logger="onemind.config"):
        settings(tmp_path, sources=[base])
        settings(tmp_path, sources=[{**base, **tls}])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "source 'remote'" in warnings[0].getMessage()
    assert "unencrypted" in warnings[0].getMessage()
    assert f"to {url}:" in warnings[0].getMessage()
    assert "s3cret" not in caplog.text and "pw@" not in caplog.text


def test_the_store_url_may_be_an_env_reference_and_never_shows(tmp_path: Path) -> None:
    url = "postgresql://onemind:pg-s3cret@db.example/onemind"
    store = settings(tmp_path, {"DATABASE_URL": url}, store={"url": "env:DATABASE_URL"}).store
    assert store.url.get() == url
    assert "pg-s3cret" not in repr(store) and "pg-s3cret" not in str(store.url)
    assert "pg-s3cret" not in repr(
        settings(tmp_path, {"DATABASE_URL": url}, store={"url": "env:DATABASE_URL"})
    )


def test_enc_values_inside_a_config_file_are_decrypted(tmp_path: Path) -> None:
    url, password = "postgresql://onemind@db.example/onemind", "p@ss:w/rd%?#"
    path = tmp_path / "onemind.toml"
    path.write_text(
        f'[store]\nurl = "{encrypt(url, KEY)}"\npassword = "{encrypt(password, KEY)}"\n\n'
        f'[smtp]\nhost = "mail.example"\nsender = "r@academy.example"\nusername = "r"\n'
        f'password = "{encrypt("smtp-s3cret", KEY)}"\n'
    )
    loaded = load_settings(path, {KEY_VARIABLE: KEY})
    resolved = make_url(loaded.store.url.get())
    assert (resolved.username, resolved.password, resolved.host) == (
        "onemind",
        password,
        "db.example",
    )
    assert make_engine(loaded.store.url).url.password == password
    assert loaded.smtp.password.get() == "smtp-s3cret"  # type: ignore[union-attr]
    assert password not in repr(loaded)


def test_enc_values_without_the_key_name_the_key_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "onemind.toml"
    path.write_text(f'[store]\nurl = "{encrypt("sqlite:///x.db", KEY)}"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path, {})
    assert f"store.url: encrypted value needs {KEY_VARIABLE} in the environment" in str(
        caught.value
    )


def test_a_store_password_goes_into_the_url(tmp_path: Path) -> None:
    store = settings(
        tmp_path,
        {"PGPASSWORD": "p@ss word/%"},
        store={"url": "postgresql://onemind@db.example:5433/onemind", "password": "env:PGPASSWORD"},
    ).store
    url = make_url(store.url.get())
    assert (url.password, url.port, url.database) == ("p@ss word/%", 5433, "onemind")
    assert "p@ss" not in repr(store)


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (
            {"url": "postgresql://onemind:plain@db.example/onemind"},
            "store: url: the password is written in plain text",
        ),
        (
            {"url": "env:DATABASE_URL", "password": "env:PGPASSWORD"},
            "store: give the password in url or in password, not both",
        ),
        (
            {"url": "sqlite:///onemind.db", "password": "env:PGPASSWORD"},
            "store: password: SQLite takes no password",
        ),
        (
            {"url": "postgresql://db.example/onemind", "password": "hunter2"},
            "store.password: secrets must be",
        ),
        ({"url": "no-url"}, "store: url: not a database URL"),
    ],
    ids=["plaintext", "both", "sqlite", "plain-password", "malformed"],
)
def test_store_secrets_are_refused_when_misplaced(
    tmp_path: Path, store: dict[str, str], expected: str
) -> None:
    environ = {"PGPASSWORD": "pw", "DATABASE_URL": "postgresql://onemind:x@db.example/onemind"}
    message = problems(tmp_path, environ, store=store)
    assert expected in message
    assert "plain@" not in message and "hunter2" not in message


def test_encrypt_stream_makes_an_enc_value_from_stdin() -> None:
    token = encrypt_stream(io.StringIO("s3cret\n"), {KEY_VARIABLE: KEY})
    assert token.startswith("enc:") and "s3cret" not in token
    assert Fernet(KEY.encode()).decrypt(token[4:].encode()) == b"s3cret"
    with pytest.raises(ConfigurationError, match=f"needs {KEY_VARIABLE}"):
        encrypt_stream(io.StringIO("s3cret\n"), {})
    with pytest.raises(ConfigurationError, match=f"{KEY_VARIABLE} is not a Fernet key"):
        encrypt_stream(io.StringIO("s3cret\n"), {KEY_VARIABLE: "short"})
    with pytest.raises(ConfigurationError, match="nothing to encrypt"):
        encrypt_stream(io.StringIO("\n"), {KEY_VARIABLE: KEY})


def test_an_empty_key_passphrase_is_a_configuration_error(tmp_path: Path) -> None:
    certificates = {
        "issuer_id": "https://academy.example",
        "issuer_name": "Academy",
        "key_passphrase": "env:EMPTY",
    }
    message = problems(tmp_path, {"EMPTY": ""}, certificates=certificates)
    assert "certificates.key_passphrase: must not be empty" in message


def test_a_directory_given_as_the_configuration_is_named_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, not a configuration file"


def test_store_errors_show_the_url_without_its_password(tmp_path: Path) -> None:
    environ = {"PGPASSWORD": "pg-s3cret"}
    store = {"url": "postgresql://onemind@127.0.0.1:1/onemind", "password": "env:PGPASSWORD"}
    url = settings(tmp_path, environ, store=store).store.url
    for step in (require_current, upgrade):
        with pytest.raises(StoreError) as caught:
            step(make_engine(url))
        assert "onemind:***@127.0.0.1:1" in str(caught.value)
        assert "pg-s3cret" not in str(caught.value)
