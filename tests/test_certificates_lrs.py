"""Against the real LRS: a credential is pushed as a statement, and voiding takes it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lrs_server import LrsServer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.cli import main
from onemind.config import parse_settings
from onemind.store.models import Credential, CredentialPush
from onemind.sync.runner import SyncRunner

ACHIEVED = "https://w3id.org/xapi/tla/verbs/achieved"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def test_voiding_in_the_lrs_revokes_the_credential_and_voids_the_pushed_statement(
    tmp_path: Path, fresh_lrs: LrsServer, sessions: sessionmaker[Session]
) -> None:
    (tmp_path / "roster.csv").write_text(
        "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"
        "separated_on\na-pd,1,Ann,Lee,ann@a.test,true,Officer,,2015-01-01,\n"
    )
    raw = {
        "agencies": [{"id": "a-pd", "name": "A PD"}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {
                "name": "lrs",
                "kind": "xapi",
                "endpoint": fresh_lrs.endpoint,
                "username": fresh_lrs.username,
                "password": "env:LRS_PASSWORD",
            },
        ],
        "certificates": {
            "issuer_id": "https://academy.example",
            "issuer_name": "Academy",
            "algorithm": "EdDSA",
            "key_passphrase": "env:KEY_PASSPHRASE",
        },
    }
    settings = parse_settings(
        raw,
        tmp_path / "onemind.toml",
        environ={"LRS_PASSWORD": fresh_lrs.password, "KEY_PASSPHRASE": "k"},
    )
    completed = str(uuid.uuid4())
    at = datetime.now(UTC) - timedelta(minutes=2)
    fresh_lrs.post_statements(
        [
            {
                "id": completed,
                "actor": {"mbox": "mailto:ann@a.test"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {
                    "id": "https://academy.example/cit",
                    "definition": {"name": {"en-US": "Crisis Intervention Team 40-hour"}},
                },
                "timestamp": at.isoformat(),
            }
        ]
    )
    runner = SyncRunner(settings, sessions, lambda: datetime.now(UTC))
    assert runner.run().ok
    with sessions() as session:
        credential = session.scalars(select(Credential)).one()
        push = session.scalars(select(CredentialPush)).one()
    assert (credential.status, push.action, push.status) == ("active", "issue", "done")
    [pushed] = fresh_lrs.get_statements(statementId=push.remote_id)["statements"]
    assert pushed["verb"]["id"] == ACHIEVED
    assert pushed["actor"]["mbox"] == "mailto:ann@a.test"

    fresh_lrs.post_statements(
        [
            {
                "id": str(uuid.uuid4()),
                "actor": {"mbox": "mailto:registrar@a.test"},
                "verb": {"id": VOIDED},
                "object": {"objectType": "StatementRef", "id": completed},
                "timestamp": datetime.now(UTC).isoformat(),
            }
        ]
    )
    assert runner.run().ok
    with sessions() as session:
        credential = session.get_one(Credential, credential.id)
        revoke = session.scalars(
            select(CredentialPush).where(CredentialPush.action == "revoke")
        ).one()
    assert credential.status == "revoked"
    assert credential.revoked_reason == "the record behind it was voided by its source"
    assert revoke.status == "done"
    [voiding] = fresh_lrs.get_statements(statementId=revoke.remote_id)["statements"]
    assert voiding["verb"]["id"] == VOIDED
    assert voiding["object"] == {"objectType": "StatementRef", "id": push.remote_id}


def test_staff_revoking_a_credential_withdraws_it_from_the_lrs(
    tmp_path: Path,
    fresh_lrs: LrsServer,
    engine: Engine,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LRS_PASSWORD", fresh_lrs.password)
    monkeypatch.setenv("KEY_PASSPHRASE", "k")
    (tmp_path / "roster.csv").write_text(
        "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"
        "separated_on\na-pd,1,Ann,Lee,ann@a.test,true,Officer,,2015-01-01,\n"
    )
    config = tmp_path / "onemind.toml"
    config.write_text(
        f"""[store]
url = "{engine.url.render_as_string(hide_password=False)}"

[[agencies]]
id = "a-pd"
name = "A PD"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "lrs"
kind = "xapi"
endpoint = "{fresh_lrs.endpoint}"
username = "{fresh_lrs.username}"
password = "env:LRS_PASSWORD"

[certificates]
issuer_id = "https://academy.example"
issuer_name = "Academy"
algorithm = "EdDSA"
key_passphrase = "env:KEY_PASSPHRASE"
"""
    )
    at = datetime.now(UTC) - timedelta(minutes=2)
    fresh_lrs.post_statements(
        [
            {
                "id": str(uuid.uuid4()),
                "actor": {"mbox": "mailto:ann@a.test"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {
                    "id": "https://academy.example/cit",
                    "definition": {"name": {"en-US": "Crisis Intervention Team 40-hour"}},
                },
                "timestamp": at.isoformat(),
            }
        ]
    )
    main(["--config", str(config), "sync"])
    with sessions() as session:
        credential = session.scalars(select(Credential)).one()
        issued = session.scalars(select(CredentialPush)).one()
    main(["--config", str(config), "certificates", "revoke", credential.id, "--reason", "error"])
    with sessions() as session:
        revoke = session.scalars(
            select(CredentialPush).where(CredentialPush.action == "revoke")
        ).one()
    assert revoke.status == "done"
    [voiding] = fresh_lrs.get_statements(statementId=revoke.remote_id)["statements"]
    assert voiding["object"] == {"objectType": "StatementRef", "id": issued.remote_id}
