"""Just enough JOSE: compact JWS with RS256 or EdDSA (Ed25519), and JWK/JWKS export."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

RS256 = "RS256"
EDDSA = "EdDSA"
ALGORITHMS = (RS256, EDDSA)
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class JoseError(ValueError):
    """A token that cannot be read or whose signature does not hold."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise JoseError("not base64url") from exc


def generate(algorithm: str) -> PrivateKey:
    if algorithm == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported algorithm {algorithm!r} (use {' or '.join(ALGORITHMS)})")


def encrypt_private(key: PrivateKey, passphrase: str) -> str:
    """PKCS#8 PEM, encrypted with the passphrase: how the key rests in the store."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()


def decrypt_private(pem: str, passphrase: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), passphrase.encode())
    except (ValueError, TypeError) as exc:
        raise JoseError("the signing key cannot be decrypted with this passphrase") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise JoseError(f"unsupported key type {type(key).__name__}")
    return key


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """The public key as a JWK (RFC 7517), with its RFC 7638 thumbprint as `kid`."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        jwk: dict[str, Any] = {
            "kty": "RSA",
            "e": b64url(_int_bytes(numbers.e)),
            "n": b64url(_int_bytes(numbers.n)),
        }
        alg = RS256
    else:
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
        alg = EDDSA
    thumbprint = b64url(
        hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest()
    )
    return {**jwk, "kid": thumbprint, "alg": alg, "use": "sig"}


def key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    try:
        if jwk["kty"] == "RSA":
            numbers = rsa.RSAPublicNumbers(
                int.from_bytes(b64url_decode(jwk["e"]), "big"),
                int.from_bytes(b64url_decode(jwk["n"]), "big"),
            )
            return numbers.public_key()
        if jwk["kty"] == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    except (KeyError, ValueError) as exc:
        raise JoseError(f"malformed JWK {jwk.get('kid')!r}") from exc
    raise JoseError(f"unsupported JWK type {jwk.get('kty')!r}")


def sign(payload: dict[str, Any], key: PrivateKey, kid: str, typ: str = "vc+jwt") -> str:
    """Compact serialization: header.payload.signature."""
    algorithm = RS256 if isinstance(key, rsa.RSAPrivateKey) else EDDSA
    header = {"alg": algorithm, "kid": kid, "typ": typ}
    signing_input = f"{_segment(header)}.{_segment(payload)}".encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = key.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


@dataclass(frozen=True)
class Token:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(token: str) -> Token:
    """Split and decode a compact JWS without checking it.

    Raises:
        JoseError: not three base64url parts of JSON.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JoseError("not a compact JWS (expected three dot-separated parts)")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except json.JSONDecodeError as exc:
        raise JoseError("header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseError("header or payload is not a JSON object")
    return Token(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), b64url_decode(parts[2]))


def verify_signature(token: Token, key: PublicKey) -> None:
    """Raises JoseError unless the signature holds for this key and the header's algorithm."""
    algorithm = token.header.get("alg")
    try:
        if algorithm == RS256 and isinstance(key, rsa.RSAPublicKey):
            key.verify(token.signature, token.signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == EDDSA and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(token.signature, token.signing_input)
        else:
            raise JoseError(
                f"algorithm {algorithm!r} does not fit the key {token.header.get('kid')!r}"
            )
    except InvalidSignature as exc:
        raise JoseError(
            "the signature does not match: the credential was altered or signed with another key"
        ) from exc


def _segment(data: dict[str, Any]) -> str:
    return b64url(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
