"""What people do in the web app: attest with evidence, reject, decide courses from the queue,
revoke credentials, and verify one without signing in; each change follows to the figures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_world import PDF, build, csrf, ids_of, sign_in

from onemind.store.models import AuditEntry, Credential, MappingRule
from onemind.web import evidence


@pytest.fixture
def app(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> FastAPI:
    return build(tmp_path, sessions, now)


def policy_mark(client, agency: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/agencies/{agency}").text
    start = page.index('data-requirement="policy"')
    return page[start : start + 200]


def attest(client, agency: str, **extra: object):  # type: ignore[no-untyped-def]
    form = {"kind": "policy", "attested_on": "2026-10-01", "note": "adopted", "csrf": csrf(client)}
    files = extra.pop("files", None)
    return client.post(f"/agencies/{agency}/attestations", data={**form, **extra}, files=files)


def test_recording_an_attestation_turns_the_requirement_and_status(app: FastAPI) -> None:
    client = sign_in(app, "bcoord")
    assert "✗" in policy_mark(client, "b-pd")
    before = client.get("/api/v1/agencies/b-pd").json()
    assert before["requirements"]["policy"] is False
    response = attest(client, "b-pd", files={"file": ("policy.pdf", PDF, "application/pdf")})
    assert response.status_code == 303
    assert "✓" in policy_mark(client, "b-pd")
    after = client.get("/api/v1/agencies/b-pd").json()
    assert after["requirements"]["policy"] is True and after["status"] == "complete"
    assert "attested 2026-10-01: adopted" in after["evidence"]["policy"]
    listed = client.get("/api/v1/agencies").json()["agencies"]
    assert listed[0]["status"] == "complete"  # the dashboard's snapshot followed


def test_evidence_is_served_as_an_attachment_of_its_checked_type(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    client = sign_in(app, "bcoord")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    attest(client, "b-pd", files={"file": ("<script>.html", png, "text/html")})
    ids = ids_of(sessions, "b-pd")
    with sessions() as session:
        from onemind.store.models import Attestation

        row = session.scalar(select(Attestation).where(Attestation.evidence_file.is_not(None)))
        assert row is not None
        stored = Path(app.state.evidence) / row.evidence_file
        assert stored.stat().st_mode & 0o777 == 0o600
        attestation_id = row.id
    served = client.get(f"/attestations/{attestation_id}/evidence")
    assert served.content == png and served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    other = sign_in(app, "coord").get(f"/attestations/{attestation_id}/evidence")
    assert other.status_code == 404
    assert ids["agency_id"] == "b-pd"


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"<html>not a pdf</html>", 400, "must be a PDF or an image"),
        (b"%PDF-" + b"0" * evidence.MAX_BYTES, 413, "larger than 10 MB"),
    ],
)
def test_bad_evidence_files_are_refused_and_nothing_is_stored(
    app: FastAPI, content: bytes, status: int, message: str
) -> None:
    client = sign_in(app, "bcoord")
    response = attest(client, "b-pd", files={"file": ("x.pdf", content, "application/pdf")})
    assert response.status_code == status and message in response.text
    assert "✗" in policy_mark(client, "b-pd")
    assert not Path(app.state.evidence).exists() or not any(Path(app.state.evidence).iterdir())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "budget"}, "budget"),
        ({"attested_on": "2030-01-01"}, "is in the future"),
        ({"attested_on": "yesterday"}, "attested_on:"),
    ],
)
def test_bad_attestation_forms_are_a_clear_400(
    app: FastAPI, fields: dict[str, str], message: str
) -> None:
    response = attest(sign_in(app, "bcoord"), "b-pd", **fields)
    assert response.status_code == 400 and message in response.text


def test_admin_rejects_an_attestation_and_the_requirement_follows(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    attest(sign_in(app, "bcoord"), "b-pd")
    admin = sign_in(app, "admin")
    assert admin.get("/api/v1/agencies/b-pd").json()["requirements"]["policy"] is True
    with sessions() as session:
        from onemind.store.models import Attestation

        row_id = session.scalar(
            select(Attestation.id).where(
                Attestation.kind == "policy", Attestation.agency_id == "b-pd"
            )
        )
    empty = admin.post(f"/attestations/{row_id}/reject", data={"reason": " ", "csrf": csrf(admin)})
    assert empty.status_code == 400 and "give a reason" in empty.text
    rejected = admin.post(
        f"/attestations/{row_id}/reject", data={"reason": "unsigned draft", "csrf": csrf(admin)}
    )
    assert rejected.status_code == 303
    assert admin.get("/api/v1/agencies/b-pd").json()["requirements"]["policy"] is False
    assert "rejected by admin: unsigned draft" in admin.get("/agencies/b-pd").text
    coord = sign_in(app, "bcoord")
    refused = coord.post(
        f"/attestations/{row_id}/reject", data={"reason": "x", "csrf": csrf(coord)}
    )
    assert refused.status_code == 403
    with sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"attestation.record", "attestation.reject"} <= actions


def test_queue_groups_by_title_previews_then_applies(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    client = sign_in(app, "academy")
    queue = client.get("/mapping").text
    assert "State Crisis Academy" in queue
    form = {
        "title": "State Crisis Academy",
        "category": "crisis-equivalent",
        "reason": "state curriculum",
        "csrf": csrf(client),
    }
    with sessions() as session:
        rules_before = len(session.scalars(select(MappingRule)).all())
    preview = client.post("/mapping/preview", data=form, headers={"HX-Request": "true"})
    assert preview.status_code == 200 and "<html" not in preview.text  # a fragment for HTMX
    assert "1 agencies and 1 people change; Springfield Police Department becomes complete" in (
        preview.text
    )
    with sessions() as session:
        assert len(session.scalars(select(MappingRule)).all()) == rules_before
    assert client.get("/api/v1/agencies/a-pd").json()["status"] != "complete"
    applied = client.post("/mapping/apply", data=form)
    assert applied.status_code == 200 and "Applied:" in applied.text
    assert client.get("/api/v1/agencies/a-pd").json()["status"] == "complete"
    assert "State Crisis Academy" not in client.get("/mapping").text
    rules = client.get("/mapping/rules").text
    assert "crisis-equivalent" in rules
    with sessions() as session:
        rule_id = session.scalar(select(MappingRule.id).order_by(MappingRule.id.desc()))
    assert "state curriculum" in client.get(f"/mapping/rules/{rule_id}").text


def test_mapping_api_dry_run_then_apply_and_bad_category(app: FastAPI) -> None:
    client = sign_in(app, "admin")
    token = {"X-CSRF-Token": csrf(client)}
    body = {"title": "State Crisis Academy", "category": "crisis-equivalent", "reason": "ok"}
    dry = client.post("/api/v1/mapping/decisions", json=body, headers=token).json()
    assert dry["dry_run"] is True and "becomes complete" in dry["effect"]
    bad = client.post(
        "/api/v1/mapping/decisions", json={**body, "category": "nonsense"}, headers=token
    )
    assert bad.status_code == 400 and "nonsense" in bad.json()["detail"]
    unknown = client.post(
        "/api/v1/mapping/decisions", json={**body, "title": "No Such Course"}, headers=token
    )
    assert unknown.status_code == 400 and "no course titled" in unknown.json()["detail"]
    done = client.post(
        "/api/v1/mapping/decisions", json={**body, "dry_run": False}, headers=token
    ).json()
    assert done["dry_run"] is False and done["agencies"]


def test_bulk_approval_previews_confident_suggestions(app: FastAPI) -> None:
    client = sign_in(app, "academy")
    preview = client.post("/mapping/preview", data={"reason": "bulk", "csrf": csrf(client)})
    assert preview.status_code in (200, 400)
    assert "Traceback" not in preview.text


def test_certificates_list_show_revoke_and_verify(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    client = sign_in(app, "academy")
    listed = client.get("/api/v1/certificates?agency=b-pd").json()
    assert listed and {c["status"] for c in listed} == {"active"}
    credential_id = listed[0]["id"]
    assert client.get(f"/certificates/{credential_id}").status_code == 200
    with sessions() as session:
        token = session.get_one(Credential, credential_id).jwt
    visitor = sign_in(app, None)
    good = visitor.post("/verify", data={"token": token})
    assert good.status_code == 200 and "✓ Verified" in good.text and "State Academy" in good.text
    head, payload, signature = token.split(".")
    tampered = ".".join(
        [head, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    bad = visitor.post("/verify", files={"file": ("c.jwt", tampered.encode(), "text/plain")})
    assert bad.status_code == 422 and "Does not verify" in bad.text
    assert visitor.post("/verify", data={"token": ""}).status_code == 422
    refused = client.post(f"/certificates/{credential_id}/revoke", data={"csrf": csrf(client)})
    assert refused.status_code == 400 and "reason" in refused.text
    revoked = client.post(
        f"/certificates/{credential_id}/revoke",
        data={"reason": "issued in error", "csrf": csrf(client)},
    )
    assert revoked.status_code == 303
    again = visitor.post("/api/v1/verify", json={"token": token}).json()
    assert again["ok"] is False and any("revoked: issued in error" in f for f in again["failures"])
    assert sign_in(app, "coord").get(f"/certificates/{credential_id}").status_code == 404
    assert sign_in(app, "bcoord").get(f"/certificates/{credential_id}").status_code == 200
