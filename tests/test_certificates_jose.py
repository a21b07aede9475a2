"""The JOSE layer against published vectors, known attacks, and what the earlier code wrote."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from onemind.certificates import jose
from onemind.certificates.verify import verify

FIXTURES = Path(__file__).parent / "fixtures" / "certificates"
ISSUED_AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# RFC 7515 appendix A.2: RS256 over the A.1 payload (CRLFs and leading spaces included) with the
# appendix's 2048-bit RSA key. RSASSA-PKCS1-v1_5 is deterministic, so the signature must match.
RFC7515_A2_KEY = {
    "kty": "RSA",
    "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "e": "AQAB",
    "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I"
    "jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0"
    "BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn"
    "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT"
    "CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh"
    "BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
    "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi"
    "YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG"
    "BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa"
    "ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA"
    "-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3Q"
    "CLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb"
    "34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa"
    "7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-ky"
    "NlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2o"
    "y26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLU"
    "W0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
}
RFC7515_A2_PAYLOAD = b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
RFC7515_A2_JWS = (
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw"
)

# RFC 8037 appendices A.1-A.4: the Ed25519 key, its RFC 7638 thumbprint, and the JWS of
# "Example of Ed25519 signing". Ed25519 signatures are deterministic too.
RFC8037_KEY = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_PAYLOAD = b"Example of Ed25519 signing"
RFC8037_A4_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(document: dict[str, Any]) -> str:
    return b64url(json.dumps(document).encode())


def rfc_key(jwk: dict[str, Any]) -> jose.PrivateKey:
    """A published key as the store keeps one: encrypted PEM, opened with the passphrase."""
    algorithm = jose.RS256 if jwk["kty"] == "RSA" else jose.EDDSA
    key = jose.RSAKey.import_key(jwk) if jwk["kty"] == "RSA" else jose.OKPKey.import_key(jwk)
    return jose.decrypt_private(jose.encrypt_private(key, "pass"), "pass", algorithm)


def public_jwks(key: jose.PrivateKey, kid: str) -> dict[str, Any]:
    return {"keys": [{**jose.public_jwk(key), "kid": kid}]}


def test_rs256_signature_is_rfc7515_appendix_a2() -> None:
    token = jose.sign_compact({"alg": "RS256"}, RFC7515_A2_PAYLOAD, rfc_key(RFC7515_A2_KEY))
    assert token == RFC7515_A2_JWS


def test_eddsa_signature_is_rfc8037_appendix_a4() -> None:
    key = rfc_key(RFC8037_KEY)
    assert jose.sign_compact({"alg": "EdDSA"}, RFC8037_PAYLOAD, key) == RFC8037_A4_JWS
    assert jose.public_jwk(key) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC8037_KEY["x"],
        "kid": RFC8037_THUMBPRINT,
        "alg": "EdDSA",
        "use": "sig",
    }


def test_published_signatures_verify_and_a_flipped_bit_does_not() -> None:
    rsa_jwks = {"keys": [jose.public_jwk(rfc_key(RFC7515_A2_KEY))]}
    assert jose.verify(RFC7515_A2_JWS, rsa_jwks).payload["iss"] == "joe"
    with pytest.raises(jose.JoseError, match="signature does not match"):
        jose.verify(flip(RFC7515_A2_JWS), rsa_jwks)
    ed_jwks = {"keys": [jose.public_jwk(rfc_key(RFC8037_KEY))]}
    with pytest.raises(jose.JoseError, match="signed payload is not JSON"):
        jose.verify(RFC8037_A4_JWS, ed_jwks)
    with pytest.raises(jose.JoseError, match="signature does not match"):
        jose.verify(flip(RFC8037_A4_JWS), ed_jwks)


def flip(token: str) -> str:
    """The token with one character of its signature changed."""
    head, payload, signature = token.split(".")
    changed = "B" if signature[10] == "A" else "A"
    return ".".join([head, payload, signature[:10] + changed + signature[11:]])


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_signing_and_kids_are_what_the_hand_written_code_produced(algorithm: str) -> None:
    """Keys stored before the move to joserfc open with their passphrase, keep their `kid`, and
    sign the same payload to the same bytes (both algorithms are deterministic); credentials
    issued then verify now."""
    before = json.loads((FIXTURES / "before_joserfc.json").read_text())[algorithm]
    key = jose.decrypt_private(before["private_pem"], before["passphrase"], algorithm)
    assert jose.public_jwk(key) == before["jwks"]["keys"][0]
    for token in before["credentials"]:
        assert jose.sign(jose.parse(token).payload, key, before["kid"]) == token
        verdict = verify(token, before["jwks"], {"revokedCredentials": []}, ISSUED_AT)
        assert verdict.ok, verdict.failures


def test_a_wrong_passphrase_does_not_open_the_stored_key() -> None:
    pem = jose.encrypt_private(jose.generate("EdDSA"), "right")
    assert "ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(jose.JoseError, match="cannot be opened with this passphrase"):
        jose.decrypt_private(pem, "wrong", "EdDSA")


def issued_and_jwks(algorithm: str = "RS256") -> tuple[str, dict[str, Any], jose.PrivateKey]:
    key = jose.generate(algorithm)
    jwk = jose.public_jwk(key)
    claims = {"iss": "https://academy.example", "jti": "urn:uuid:1"}
    return jose.sign(claims, key, jwk["kid"]), {"keys": [jwk]}, key


def test_alg_none_is_refused() -> None:
    token, jwks, _ = issued_and_jwks()
    payload = token.split(".")[1]
    unsigned = segment({**jose.parse(token).header, "alg": "none"})
    for forged in (f"{unsigned}.{payload}.", f"{unsigned}.{payload}.{b64url(b'x')}"):
        with pytest.raises(jose.JoseError, match="algorithm 'none' is refused"):
            jose.verify(forged, jwks)


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    """The key-confusion attack: an HMAC whose secret is the issuer's public key."""
    token, jwks, key = issued_and_jwks()
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, payload, _ = token.split(".")
    for secret in (public_pem, json.dumps(jwks["keys"][0]).encode()):
        header = segment({**jose.parse(token).header, "alg": "HS256"})
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(jose.JoseError, match="algorithm 'HS256' is refused"):
            jose.verify(f"{header}.{payload}.{b64url(mac)}", jwks)


def test_an_rsa_kid_under_eddsa_is_refused() -> None:
    token, jwks, _ = issued_and_jwks("RS256")
    other = jose.generate("EdDSA")
    header = {**jose.parse(token).header, "alg": "EdDSA"}
    forged = jose.sign_compact(header, token.split(".")[1], other)
    with pytest.raises(jose.JoseError, match="no key"):
        jose.verify(forged, jwks)


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!!.e30.x", f"{segment({'alg': 'RS256'})}.%%%.x"],
)
def test_garbage_is_unreadable_not_an_error(token: str) -> None:
    _, jwks, _ = issued_and_jwks()
    with pytest.raises(jose.JoseError):
        jose.verify(token, jwks)
    with pytest.raises(jose.JoseError):
        jose.parse(token)


@pytest.mark.parametrize("algorithm", jose.ALGORITHMS)
def test_signing_in_bulk_gives_the_tokens_one_at_a_time_gives(algorithm: str) -> None:
    key = jose.generate(algorithm)
    jwks = {"keys": [jose.public_jwk(key)]}
    kid = jwks["keys"][0]["kid"]
    payloads = [{"jti": f"urn:uuid:{n}", "name": "Zoë <x>", "n": n} for n in range(3)]
    tokens = jose.sign_many(payloads, key, kid)
    assert tokens == [jose.sign(payload, key, kid) for payload in payloads]
    assert [jose.verify(token, jwks).payload for token in tokens] == payloads
