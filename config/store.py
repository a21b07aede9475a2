"""The `[store]` table: the database URL, kept as a secret since it can carry a password."""

from typing import Any

from pydantic import Field, model_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from onemind.config.base import Strict
from onemind.config.secrets import Secret

DEFAULT_URL = "sqlite:///onemind.db"


class StoreConfig(Strict):
    """Where the data is kept.

    `url` is written plainly (without a password), or as an `env:`/`enc:` reference; a
    PostgreSQL password may come separately as `password = "env:…"`, and is put into the URL
    here. Either way the result is a `Secret`, so it never shows in a repr, log or message.
    """

    url: Secret = Field(default_factory=lambda: database_url(DEFAULT_URL, None))

    @model_validator(mode="before")
    @classmethod
    def _url_with_password(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rest = {k: v for k, v in data.items() if k != "password"}
        return {**rest, "url": database_url(data.get("url", DEFAULT_URL), data.get("password"))}


def database_url(url: Any, password: Any) -> Secret:
    """The store URL as a `Secret`, with `password` (URL-quoted) put into it.

    Raises:
        ValueError: not a URL, a password written in plain text, or given twice; the message
            never contains the URL.
    """
    if isinstance(url, Secret):
        value, reference = url.get(), url.reference
    elif isinstance(url, str):
        value, reference = url, None
    else:
        raise ValueError("url: expected a database URL")
    parsed = _parse(value)
    if reference is None and parsed.password is not None:
        raise ValueError(
            'url: the password is written in plain text: give it as password = "env:NAME" '
            "(or make the whole url an env:/enc: reference)"
        )
    if password is not None:
        parsed = _with_password(parsed, _secret(password))
        value = parsed.render_as_string(hide_password=False)
    return Secret(value, reference or parsed.render_as_string(hide_password=True))


def _parse(value: str) -> URL:
    try:
        return make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(
            "url: not a database URL (e.g. 'sqlite:///onemind.db' or "
            "'postgresql://onemind@db.example/onemind')"
        ) from None


def _secret(password: Any) -> Secret:
    if not isinstance(password, Secret):
        raise ValueError("password: give it as an env:NAME or enc:TOKEN reference")
    return password


def _with_password(parsed: URL, password: Secret) -> URL:
    if parsed.password is not None:
        raise ValueError("give the password in url or in password, not both")
    if parsed.get_backend_name() == "sqlite":
        raise ValueError("password: SQLite takes no password; remove it")
    return parsed.set(password=password.get())
