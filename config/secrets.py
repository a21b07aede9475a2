"""Secret references in the configuration: `env:NAME` or `enc:TOKEN`, never plaintext."""

from __future__ import annotations

import os
from typing import TextIO

from cryptography.fernet import Fernet, InvalidToken

from onemind.errors import ConfigurationError

KEY_VARIABLE = "ONEMIND_SECRET_KEY"


class Secret:
    """A resolved secret whose value never appears in repr, str or logs."""

    __slots__ = ("_value", "reference")

    def __init__(self, value: str, reference: str) -> None:
        self._value = value
        self.reference = reference

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self.reference)


def resolve(reference: str, environ: dict[str, str] | None = None) -> Secret:
    """Turn `env:NAME` or `enc:TOKEN` into a Secret.

    Raises:
        ValueError: plaintext, an unset variable, or a token the key cannot decrypt.
    """
    env = os.environ if environ is None else environ
    if reference.startswith("env:"):
        name = reference[4:]
        if not name:
            raise ValueError("'env:' needs a variable name, e.g. env:LRS_PASSWORD")
        if name not in env:
            raise ValueError(f"environment variable {name} is not set")
        return Secret(env[name], reference)
    if reference.startswith("enc:"):
        key = env.get(KEY_VARIABLE)
        if not key:
            raise ValueError(f"encrypted value needs {KEY_VARIABLE} in the environment")
        try:
            value = Fernet(key.encode()).decrypt(reference[4:].encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise ValueError(f"encrypted value cannot be decrypted with {KEY_VARIABLE}") from exc
        return Secret(value, "enc:…")
    raise ValueError("secrets must be 'env:NAME' or 'enc:TOKEN' references, not plaintext")


def encrypt(value: str, key: str) -> str:
    """Make an `enc:` reference for `value` (what `onemind` prints for staff to paste)."""
    return "enc:" + Fernet(key.encode()).encrypt(value.encode()).decode()


def encrypt_stream(stream: TextIO, environ: dict[str, str] | None = None) -> str:
    """An `enc:` reference for the secret read from `stream` (one trailing newline dropped).

    Raises:
        ConfigurationError: no usable key in ONEMIND_SECRET_KEY, or nothing to encrypt.
    """
    env = os.environ if environ is None else environ
    key = env.get(KEY_VARIABLE)
    if not key:
        raise ConfigurationError(
            f"encrypting needs {KEY_VARIABLE} in the environment (make one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        )
    value = stream.read().removesuffix("\n").removesuffix("\r")
    if not value:
        raise ConfigurationError("nothing to encrypt: give the secret on standard input")
    try:
        return encrypt(value, key)
    except ValueError as exc:
        raise ConfigurationError(
            f"{KEY_VARIABLE} is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc
