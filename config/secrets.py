"""Secret references in the configuration: `env:NAME` or `enc:TOKEN`, never plaintext."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TextIO

from onemind.errors import ConfigurationError

KEY_VARIABLE = "ONEMIND_SECRET_KEY"


class UnusableSecret(ValueError):
    """Raised by the stand-in for a secret the loader has already reported as a problem."""


class Secret:
    """A secret whose value never appears in repr, str or logs.

    A deferred secret keeps its reference and reads it on first use, so that a command never
    needs the secrets of the sources it does not touch.
    """

    __slots__ = ("_key", "_read", "_value", "reference")

    def __init__(self, value: str, reference: str) -> None:
        self._value: str | None = value
        self._read: Callable[[], str] | None = None
        self._key = value
        self.reference = reference

    @classmethod
    def deferred(cls, reference: str, where: str, environ: Mapping[str, str] | None) -> Secret:
        """`reference` (`env:`/`enc:`), read when first used.

        Its `get()` raises ConfigurationError naming `where` (e.g. `sources['lms'].token`)
        when the variable is unset or the token cannot be decrypted.
        """

        def read() -> str:
            try:
                return resolve(reference, environ).get()
            except ValueError as exc:
                raise ConfigurationError(f"{where}: {exc}") from exc

        return cls._reading(read, reference)

    @classmethod
    def unusable(cls, reference: str) -> Secret:
        """A stand-in for a secret already reported as a problem: validation goes on without it."""

        def read() -> str:
            raise UnusableSecret(f"{reference} is unusable")

        return cls._reading(read, reference)

    @classmethod
    def _reading(cls, read: Callable[[], str], reference: str) -> Secret:
        secret = cls("", "enc:…" if reference.startswith("enc:") else reference)
        secret._value, secret._read, secret._key = None, read, reference
        return secret

    def get(self) -> str:
        """The value, read from its reference on first use.

        Raises:
            ConfigurationError: a deferred reference whose variable is unset or whose token
                cannot be decrypted, naming the key it was given for.
        """
        if self._value is None and self._read is not None:
            self._value = self._read()
        return self._value or ""

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self.reference)


def check_reference(reference: str) -> None:
    """Refuse what can never be a secret reference: plaintext, or `env:` without a name.

    Raises:
        ValueError: saying how to write the reference.
    """
    if reference.startswith("env:") and not reference[4:]:
        raise ValueError("'env:' needs a variable name, e.g. env:LRS_PASSWORD")
    if not reference.startswith(("env:", "enc:")):
        raise ValueError("secrets must be 'env:NAME' or 'enc:TOKEN' references, not plaintext")


def resolve(reference: str, environ: Mapping[str, str] | None = None) -> Secret:
    """Turn `env:NAME` or `enc:TOKEN` into a Secret.

    Raises:
        ValueError: plaintext, an unset variable, or a token the key cannot decrypt.
    """
    check_reference(reference)
    env = os.environ if environ is None else environ
    if reference.startswith("env:"):
        name = reference[4:]
        if name not in env:
            raise ValueError(f"environment variable {name} is not set")
        return Secret(env[name], reference)
    key = env.get(KEY_VARIABLE)
    if not key:
        raise ValueError(f"encrypted value needs {KEY_VARIABLE} in the environment")
    from cryptography.fernet import Fernet, InvalidToken  # loaded only for an `enc:` secret

    try:
        value = Fernet(key.encode()).decrypt(reference[4:].encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise ValueError(f"encrypted value cannot be decrypted with {KEY_VARIABLE}") from exc
    return Secret(value, "enc:…")


def encrypt(value: str, key: str) -> str:
    """Make an `enc:` reference for `value` (what `onemind` prints for staff to paste)."""
    from cryptography.fernet import Fernet

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
