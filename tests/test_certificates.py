"""Credentials: signed, verifiable offline, issued once, revoked when their basis goes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onemind.certificates import files, jose
from onemind.certificates.issuer import reconcile
from onemind.certificates.keys import jwks as issuer_keys
from onemind.certificates.keys import signer
from onemind.certificates.verify import verify
from onemind.config import Settings, parse_settings
from onemind.mapping import changes
from onemind.store.models import AuditEntry, Course, Credential, MappingRule, Person
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cat,Kim,cat@a.example,false,Dispatcher,,2020-01-01,
a-pd,4,Dan,Fox,dan@a.example,true,Officer,,2020-01-01,
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
1,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,bob@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,
,cat@a.example,CIT-TC,CIT for Telecommunicators,,16,2024-01-01,
,dan@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2022-01-01,
4,,SCIA,State Crisis Academy,,40,2024-06-01,
"""


def make_settings(tmp_path: Path, algorithm: str = "RS256", **agency: Any) -> Settings:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    raw = {
        "agencies": [{"id": "a-pd", "name": "A Police Department", **agency}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {"name": "academy", "kind": "csv", "role": "completions", "path": "completions.csv"},
        ],
        "certificates": {
            "issuer_id": "https://academy.example",
            "issuer_name": "State Academy",
            "algorithm": algorithm,
            "key_passphrase": "env:KEY_PASSPHRASE",
        },
    }
    return parse_settings(raw, tmp_path / "onemind.toml", environ={"KEY_PASSPHRASE": "s3cret"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sync(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> None:
    assert SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF).ok


def active(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], Credential]:
    with sessions() as session:
        rows = session.scalars(select(Credential).where(Credential.status == "active"))
        return {(c.kind, c.person_id or c.agency_id, c.tier): c for c in rows}


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_issue_export_and_verify_offline(
    algorithm: str, tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path, algorithm)
    sync(settings, sessions, now)
    held = active(sessions)
    assert sorted((kind, tier) for kind, _, tier in held) == [
        ("person", "crisis"),
        ("person", "mh"),
        ("person", "mh"),
    ]
    assert settings.certificates is not None
    out = tmp_path / "export"
    with sessions() as session:
        assert files.export(session, settings.certificates, out) == 3
    jwks = json.loads((out / files.JWKS_FILE).read_text())
    revoked = json.loads((out / files.REVOCATIONS_FILE).read_text())
    for credential in held.values():
        token = (out / f"{files.file_stem(credential.id)}.jwt").read_text()
        verdict = verify(token, jwks, revoked, now)
        assert verdict.ok, verdict.failures
        assert jose.parse(token).header["alg"] == algorithm
        assert (out / f"{files.file_stem(credential.id)}.pdf").read_bytes().startswith(b"%PDF")


def test_credential_holds_no_plain_personal_data(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    sync(make_settings(tmp_path), sessions, now)
    for credential in active(sessions).values():
        text = json.dumps(jose.parse(credential.jwt).payload)
        for personal in ("ann@a.example", "bob@a.example", "Ann", "Lee", "Bob", "Ray"):
            assert personal not in text
        payload = jose.parse(credential.jwt).payload
        identity = payload["credentialSubject"]["identifier"][0]
        assert identity["hashed"] is True and identity["identityHash"].startswith("sha256$")
        assert payload["evidence"][0]["description"].startswith("academy completions.csv:")


def test_tampered_wrong_key_expired_and_revoked_each_fail_with_their_reason(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    sync(make_settings(tmp_path), sessions, now)
    credential = next(iter(active(sessions).values()))
    with sessions() as session:
        keys = issuer_keys(session)
    header, _, signature = credential.jwt.split(".")
    claims = jose.parse(credential.jwt).payload
    claims["credentialSubject"]["achievement"]["name"] = "Something else"
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    assert "signature does not match" in verify(forged, keys, None, now).failures[0]
    listing = {"revokedCredentials": [{"id": credential.id, "revocationReason": "voided"}]}
    tampered = verify(forged, keys, listing, now)
    assert (tampered.checks, tampered.credential_id, len(tampered.failures)) == ([], None, 1), (
        "nothing is said about claims whose signature failed"
    )
    other = jose.generate("RS256")
    resigned = jose.sign(claims, other, jose.public_jwk(other)["kid"])
    assert "no key" in verify(resigned, keys, None, now).failures[0]
    swapped = jose.sign(claims, other, credential.kid)
    assert "signature does not match" in verify(swapped, keys, None, now).failures[0]
    assert verify(credential.jwt, keys, listing, now).failures == ["revoked: voided"]


def test_expired_mhfa_credential_fails_verification(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    sync(make_settings(tmp_path), sessions, now)
    bob = next(
        c
        for (kind, _, tier), c in active(sessions).items()
        if tier == "mh" and c.valid_until == date(2028, 1, 1)
    )
    with sessions() as session:
        keys = issuer_keys(session)
    assert verify(bob.jwt, keys, None, now).ok
    later = datetime(2028, 1, 1, tzinfo=UTC)
    assert verify(bob.jwt, keys, None, later).failures == [
        "expired (valid until 2028-01-01T00:00:00Z)"
    ]


def test_issuing_is_idempotent_across_reruns(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path)
    sync(settings, sessions, now)
    first = set(c.id for c in active(sessions).values())
    sync(settings, sessions, now)
    SyncRunner(settings, sessions, lambda: now).run(full=True, as_of=AS_OF)
    assert set(c.id for c in active(sessions).values()) == first
    with sessions() as session:
        issued = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.issue"))
        assert len(list(issued)) == 3


def test_reconciling_named_people_who_hold_their_credentials_issues_nothing(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path)
    sync(settings, sessions, now)
    assert settings.certificates is not None
    held = set(c.id for c in active(sessions).values())
    with sessions.begin() as session:
        people = list(session.scalars(select(Person.id)))
        again = reconcile(session, settings.certificates, now, AS_OF, people)
    assert (again.issued, again.revoked) == ([], [])
    assert set(c.id for c in active(sessions).values()) == held


def test_mapping_change_issues_and_revokes_exactly_the_affected(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path)
    sync(settings, sessions, now)
    assert settings.certificates is not None
    with sessions.begin() as session:
        course = session.scalars(select(Course.id).where(Course.course_key == "SCIA")).one()
        report = changes.approve(
            session, course, "crisis-equivalent", "state academy", "staff", now, AS_OF
        )
        added = reconcile(
            session, settings.certificates, now, AS_OF, [p.person_id for p in report.people]
        )
    dan = [c for (kind, person, tier), c in active(sessions).items() if c.id in added.issued]
    assert len(added.issued) == 1 and added.revoked == []
    assert dan[0].tier == "crisis" and dan[0].category_id == "crisis-equivalent"
    with sessions.begin() as session:
        retired = changes.retire_rule(session, report.rule_id, "mistake", "staff", now, AS_OF)
        removed = reconcile(
            session, settings.certificates, now, AS_OF, [p.person_id for p in retired.people]
        )
    assert removed.revoked == added.issued and removed.issued == []
    with sessions() as session:
        gone = session.get_one(Credential, added.issued[0])
    assert (gone.status, gone.revoked_reason) == (
        "revoked",
        "a mapping change means its course no longer qualifies",
    )


def test_agency_recognition_stands_through_later_change_but_not_a_lost_basis(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path, partnership_on=date(2024, 1, 1), policy_on=date(2024, 1, 1))
    assert settings.certificates is not None
    roster = tmp_path / "roster.csv"
    without_dan = ROSTER.replace("a-pd,4,Dan,Fox,dan@a.example,true,Officer,,2020-01-01,\n", "")
    roster.write_text(without_dan)
    sync(settings, sessions, now)
    [recognition] = [c for (kind, _, _), c in active(sessions).items() if kind == "agency"]
    assert recognition.valid_from == AS_OF

    roster.write_text(without_dan + "a-pd,9,Eve,New,eve@a.example,true,Officer,,2027-01-01,\n")
    later = date(2027, 1, 15)
    outcome = SyncRunner(settings, sessions, lambda: now).run(as_of=later)
    assert outcome.reports[0].status != "complete"
    assert [c.id for (kind, _, _), c in active(sessions).items() if kind == "agency"] == [
        recognition.id
    ]

    with sessions.begin() as session:
        cit_rule = session.scalars(
            select(MappingRule.id).where(MappingRule.category_id == "cit")
        ).one()
        changes.retire_rule(session, cit_rule, "CIT no longer accepted", "staff", now, AS_OF)
        result = reconcile(session, settings.certificates, now, AS_OF)
    assert recognition.id in result.revoked
    with sessions() as session:
        assert session.get_one(Credential, recognition.id).revoked_reason == (
            "records behind the recognition were voided or no longer qualify"
        )


def identity(credential: Credential) -> dict[str, Any]:
    [subject] = jose.parse(credential.jwt).payload["credentialSubject"]["identifier"]
    return subject


def salted(value: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((value + salt).encode()).hexdigest()


def test_an_employee_id_hash_confirms_no_guess_without_the_issuers_pepper(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    settings = make_settings(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER.replace("bob@a.example", ""))
    (tmp_path / "completions.csv").write_text(COMPLETIONS.replace(",bob@a.example,", "2,,"))
    sync(settings, sessions, now)
    subjects = [identity(c) for c in active(sessions).values()]
    [ann] = [s for s in subjects if s["identityHash"] == salted("ann@a.example", s["salt"])]
    assert ann["identityType"] == "emailAddress", "hashed as Open Badges does: a holder proves it"
    [bob] = [s for s in subjects if s["identityType"] == "identifier"]
    assert bob["identityHash"] != salted("2", bob["salt"])
    assert settings.certificates is not None
    with sessions() as session:
        pepper = signer(session, settings.certificates, now).pepper
    pseudonym = hmac.new(pepper, b"2", hashlib.sha256).hexdigest()
    assert bob["identityHash"] == salted(pseudonym, bob["salt"])
