"""Compact JWS through joserfc: RS256 or EdDSA (Ed25519) only, and JWK export.

Signing, verification and key handling are the library's; this module fixes which algorithms
and keys credentials may use and turns the library's errors into messages for staff.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jws
from joserfc.errors import (
    BadSignatureError,
    InvalidKeyIdError,
    InvalidKeyTypeError,
    UnsupportedAlgorithmError,
)
from joserfc.errors import JoseError as LibraryError
from joserfc.jwa import EdDSAAlgorithm, JWSAlgModel
from joserfc.jwk import KeySet, OKPKey, RSAKey

RS256 = "RS256"
EDDSA = "EdDSA"
ALGORITHMS = (RS256, EDDSA)
RSA_BITS = 2048
PrivateKey = RSAKey | OKPKey


class JoseError(ValueError):
    """A token that cannot be read or whose signature does not hold."""


class _Ed25519(EdDSAAlgorithm):
    """`EdDSA` as credentials name it, with Ed25519 keys only.

    RFC 9864 deprecates the name for new protocols and joserfc warns on each use; VC-JWT
    verifiers and every credential issued so far use it, so it stays, without the warning.
    """

    security_warning = None

    def check_key(self, key: Any) -> None:
        super().check_key(key)
        if key.curve_name != "Ed25519":
            raise InvalidKeyTypeError(f"EdDSA credentials use Ed25519 keys, not {key.curve_name}")


class _CredentialRegistry(jws.JWSRegistry):
    """Only the two algorithms credentials are signed with: never `none`, never HMAC."""

    algorithms: ClassVar[dict[str, JWSAlgModel]] = {
        RS256: jws.JWSRegistry.algorithms[RS256],
        EDDSA: _Ed25519(),
    }


REGISTRY = _CredentialRegistry(algorithms=ALGORITHMS)


@dataclass(frozen=True)
class Token:
    header: dict[str, Any]
    payload: dict[str, Any]


def generate(algorithm: str) -> PrivateKey:
    if algorithm == RS256:
        return RSAKey.generate_key(RSA_BITS)
    if algorithm == EDDSA:
        return OKPKey.generate_key("Ed25519")
    raise ValueError(f"unsupported algorithm {algorithm!r} (use {' or '.join(ALGORITHMS)})")


def algorithm_of(key: PrivateKey) -> str:
    return RS256 if isinstance(key, RSAKey) else EDDSA


def encrypt_private(key: PrivateKey, passphrase: str) -> str:
    """PKCS#8 PEM, encrypted with the passphrase: how the key rests in the store."""
    return key.as_pem(private=True, password=passphrase).decode()


def decrypt_private(pem: str, passphrase: str, algorithm: str) -> PrivateKey:
    """The stored key for `algorithm`, opened with the passphrase.

    Raises:
        JoseError: the passphrase does not open it, or it is not a key for `algorithm`.
    """
    kind = RSAKey if algorithm == RS256 else OKPKey
    try:
        key = kind.import_key(pem, password=passphrase)
    except (LibraryError, ValueError, TypeError) as exc:
        raise JoseError(
            f"the {algorithm} signing key cannot be opened with this passphrase"
        ) from exc
    if not key.is_private:
        raise JoseError(f"the stored {algorithm} signing key has no private half")
    return key


def public_jwk(key: PrivateKey) -> dict[str, Any]:
    """The public key as a JWK (RFC 7517), with its RFC 7638 thumbprint as `kid`."""
    return key.as_dict(private=False, kid=key.thumbprint(), alg=algorithm_of(key), use="sig")


def sign(payload: dict[str, Any], key: PrivateKey, kid: str, typ: str = "vc+jwt") -> str:
    """Compact serialization of the payload as compact, key-sorted JSON."""
    header = {"alg": algorithm_of(key), "kid": kid, "typ": typ}
    return sign_compact(header, json.dumps(payload, separators=(",", ":"), sort_keys=True), key)


def sign_many(payloads: Iterable[dict[str, Any]], key: PrivateKey, kid: str) -> list[str]:
    """`sign` for many payloads: the header encoded once, each signature made by the key itself.

    The tokens are the same compact JWS `sign` makes (Ed25519 and RSASSA-PKCS1-v1_5 are
    deterministic), without the library's per-token work, which costs ten times the signature.
    """
    header = {"alg": algorithm_of(key), "kid": kid, "typ": "vc+jwt"}
    prefix = _b64(json.dumps(header, separators=(",", ":")).encode()) + b"."
    private = key.private_key
    if isinstance(key, RSAKey):
        signature = functools.partial(private.sign, padding=PKCS1v15(), algorithm=SHA256())
    else:
        signature = private.sign
    tokens = []
    for payload in payloads:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        signing_input = prefix + _b64(body)
        tokens.append((signing_input + b"." + _b64(signature(signing_input))).decode("ascii"))
    return tokens


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_compact(header: dict[str, Any], payload: bytes | str, key: PrivateKey) -> str:
    """header.payload.signature, the header serialized as given."""
    return jws.serialize_compact(header, payload, key, registry=REGISTRY)


def parse(token: str) -> Token:
    """Header and claims of a compact JWS, without checking its signature.

    Raises:
        JoseError: not three base64url parts of JSON objects.
    """
    try:
        extracted = jws.extract_compact(token.strip().encode(), registry=REGISTRY)
        payload = json.loads(extracted.payload)
    except (LibraryError, ValueError) as exc:
        raise JoseError("not a compact JWS of JSON (three dot-separated base64url parts)") from exc
    if not isinstance(payload, dict):
        raise JoseError("the payload is not a JSON object")
    return Token(dict(extracted.headers()), payload)


def verify(token: str, jwks: dict[str, Any]) -> Token:
    """Header and claims of a compact JWS whose signature holds for a key of the JWKS.

    Nothing of the payload is read before the signature is checked.

    Raises:
        JoseError: unreadable, an algorithm other than RS256/EdDSA, no such key, or a
            signature that does not hold.
    """
    try:
        extracted = jws.extract_compact(token.strip().encode(), registry=REGISTRY)
    except (LibraryError, ValueError) as exc:
        raise JoseError("unreadable: not a compact JWS (three base64url parts)") from exc
    header = dict(extracted.headers())
    alg, kid = header.get("alg"), header.get("kid")
    keys = _key_set(jwks)
    try:
        if not jws.validate_compact(extracted, keys, registry=REGISTRY):
            raise BadSignatureError()
    except UnsupportedAlgorithmError as exc:
        raise JoseError(
            f"algorithm {alg!r} is refused (credentials use {' or '.join(ALGORITHMS)})"
        ) from exc
    except InvalidKeyIdError as exc:
        raise JoseError(
            f"no key {kid!r} for {alg} in the issuer's JWKS: signed by another key"
        ) from exc
    except InvalidKeyTypeError as exc:
        raise JoseError(f"algorithm {alg!r} does not fit the key {kid!r}") from exc
    except BadSignatureError as exc:
        raise JoseError(
            "the signature does not match: the credential was altered or signed with another key"
        ) from exc
    except LibraryError as exc:
        raise JoseError(f"refused: {exc.description}") from exc
    return Token(header, _claims(extracted.payload))


def _key_set(jwks: dict[str, Any]) -> KeySet:
    try:
        return KeySet.import_key_set(jwks)
    except (LibraryError, KeyError, TypeError, ValueError) as exc:
        raise JoseError("the issuer's JWKS holds no readable key") from exc


def _claims(payload: bytes) -> dict[str, Any]:
    try:
        claims = json.loads(payload)
    except ValueError as exc:
        raise JoseError("the signed payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise JoseError("the signed payload is not a JSON object")
    return claims
