"""Exported credentials: private on disk, and checkable by a JOSE library other than ours."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker
from test_certificates import active, b64url, make_settings, sync

from onemind.certificates import files, jose
from onemind.config import Settings


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask, so only the code's own modes protect the files."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def issued(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime, algorithm: str = "RS256"
) -> Settings:
    settings = make_settings(tmp_path, algorithm)
    sync(settings, sessions, now)
    return settings


def export(settings: Settings, sessions: sessionmaker[Session], out: Path) -> int:
    assert settings.certificates is not None
    with sessions() as session:
        return files.export(session, settings.certificates, out)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_exported_files_are_the_owners_only_whatever_the_umask(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = issued(tmp_path, sessions, now)
    out = tmp_path / "exports" / "2026" / "credentials"
    assert export(settings, sessions, out) == 3
    assert [mode(d) for d in (out, out.parent, out.parent.parent)] == [0o700] * 3
    written = sorted(out.iterdir())
    assert sorted(p.suffix for p in written) == [".json"] * 5 + [".jwt"] * 3 + [".pdf"] * 3
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}


@pytest.mark.usefixtures("open_umask")
def test_a_world_readable_file_from_an_earlier_export_is_replaced_not_reused(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = issued(tmp_path, sessions, now)
    out = tmp_path / "shared"
    out.mkdir(mode=0o755)
    stale = out / files.JWKS_FILE
    stale.write_text("{}")
    stale.chmod(0o644)
    export(settings, sessions, out)
    assert mode(stale) == 0o600 and json.loads(stale.read_text())["keys"]
    assert mode(out) == 0o755, "a directory the export did not make keeps its mode"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_exported_credentials_verify_with_pyjwt(
    algorithm: str, tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = issued(tmp_path, sessions, now, algorithm)
    out = tmp_path / "export"
    export(settings, sessions, out)
    keys = jwt.PyJWKSet.from_json((out / files.JWKS_FILE).read_text())
    for credential in active(sessions).values():
        stem = out / files.file_stem(credential.id)
        claims = pyjwt_claims(stem.with_suffix(".jwt").read_text().strip(), keys)
        assert claims == json.loads(stem.with_suffix(".json").read_text())
        assert claims["jti"] == credential.id


def pyjwt_claims(token: str, keys: jwt.PyJWKSet) -> dict[str, object]:
    """PyJWT's reading of the token: key chosen by `kid`, algorithm fixed by that key."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "vc+jwt"
    key = keys[header["kid"]]
    return jwt.decode(
        token,
        key,
        algorithms=[key.algorithm_name],
        # exp is checked against the real clock here; the suite's clock is fixed (`now`)
        options={"require": ["iss", "jti", "nbf", "iat"], "verify_exp": False},
    )


def test_pyjwt_refuses_a_tampered_export(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = issued(tmp_path, sessions, now, "EdDSA")
    out = tmp_path / "export"
    export(settings, sessions, out)
    keys = jwt.PyJWKSet.from_json((out / files.JWKS_FILE).read_text())
    credential = next(iter(active(sessions).values()))
    token = (out / f"{files.file_stem(credential.id)}.jwt").read_text().strip()
    assert pyjwt_claims(token, keys)["jti"] == credential.id
    header, _, signature = token.split(".")
    claims = {**jose.parse(token).payload, "name": "Something else"}
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_claims(forged, keys)
