"""A small synced world for the web tests: two agencies, an unmapped crisis course, credentials,
one user per role, and a test client that signs in like a browser (cookie and CSRF token)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Integer, select, text
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.store.db import transaction
from onemind.store.models import Attestation, Base, Credential, Employment, MappingRule
from onemind.sync.runner import SyncRunner
from onemind.web.accounts import add_user
from onemind.web.app import create_app

AS_OF = date(2026, 11, 26)
PASSWORD = "correct horse battery"
USERS = {
    "admin": ("admin", []),
    "academy": ("academy", []),
    "viewer": ("viewer", []),
    "coord": ("agency", ["a-pd"]),
    "bcoord": ("agency", ["b-pd"]),
}
ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cat,Kim,cat@a.example,false,Dispatcher,,2020-01-01,
a-pd,4,Dan,Fox,dan@a.example,true,Officer,,2020-01-01,
b-pd,1,Eve,Orr,eve@b.example,true,Officer,,2020-01-01,
b-pd,2,Fay,Poe,fay@b.example,true,Officer,,2020-01-01,
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
,ann@a.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,bob@a.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,
,cat@a.example,CIT-TC,CIT for Telecommunicators,,16,2024-01-01,
,dan@a.example,SCIA,State Crisis Academy,,40,2024-06-01,
,eve@b.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,fay@b.example,MHFA-PS,Mental Health First Aid for Public Safety,,8,2025-01-01,
"""


def make_settings(folder: Path) -> Settings:
    (folder / "roster.csv").write_text(ROSTER)
    (folder / "completions.csv").write_text(COMPLETIONS)
    pledge = {"pledged_on": "2025-01-15", "deadline_months": 36}
    raw = {
        "agencies": [
            {
                "id": "a-pd",
                "name": "Springfield Police Department",
                **pledge,
                "partnership_on": "2025-04-01",
                "policy_on": "2025-06-01",
            },
            {
                "id": "b-pd",
                "name": "Shelbyville Police Department",
                **pledge,
                "partnership_on": "2025-04-01",
            },
        ],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {"name": "academy", "kind": "csv", "role": "completions", "path": "completions.csv"},
        ],
        "certificates": {
            "issuer_id": "https://academy.example",
            "issuer_name": "State Academy",
            "key_passphrase": "env:KEY_PASSPHRASE",
        },
    }
    return parse_settings(raw, folder / "onemind.toml", environ={"KEY_PASSPHRASE": "s3cret"})


Rows = dict[str, list[dict[str, Any]]]
# The world's rows per backend and clock, taken from the first store it was built in: syncing it
# and hashing five passwords costs seconds, writing the rows back a few milliseconds.
_BUILT: dict[tuple[str, datetime], Rows] = {}


def build(folder: Path, sessions: sessionmaker[Session], now: datetime) -> FastAPI:
    """Sync the world (or write back the rows of an earlier build), add the users, make the app."""
    settings = make_settings(folder)
    engine = sessions.kw["bind"]
    key = (engine.dialect.name, now)
    if key in _BUILT:
        restore(engine, _BUILT[key])
    else:
        assert SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF).ok
        with transaction(sessions) as session:
            for name, (role, agencies) in USERS.items():
                add_user(session, name, PASSWORD, role, agencies, "test", now)
        _BUILT[key] = capture(engine)
    return create_app(sessions, settings, lambda: now, folder / "evidence")


def capture(engine: Engine) -> Rows:
    """Every row of the store's tables."""
    with engine.connect() as connection:
        return {
            table.name: [dict(row) for row in connection.execute(table.select()).mappings()]
            for table in Base.metadata.sorted_tables
        }


def restore(engine: Engine, rows: Rows) -> None:
    """Write `rows` into an empty store, with its id sequences where a fresh build leaves them."""
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if rows[table.name]:
                connection.execute(table.insert(), rows[table.name])
        if engine.dialect.name != "postgresql":
            return
        for table in Base.metadata.sorted_tables:
            keys = list(table.primary_key)
            if len(keys) == 1 and isinstance(keys[0].type, Integer) and rows[table.name]:
                column = keys[0].name
                connection.execute(  # NULL, and no change, for a key without a sequence
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                        f"(SELECT max({column}) FROM {table.name}))"
                    )
                )


CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def csrf(client: TestClient) -> str:
    """The form token of the client's session, as a page gives it."""
    found = CSRF.search(client.get("/verify").text)
    assert found is not None
    return found.group(1)


def sign_in(app: FastAPI, username: str | None) -> TestClient:
    """A client signed in as `username` (None: a visitor)."""
    client = TestClient(app, follow_redirects=False)
    if username is None:
        return client
    form = {"username": username, "password": PASSWORD, "csrf": csrf(client), "next": "/"}
    response = client.post("/login", data=form)
    assert response.status_code == 303, response.text
    return client


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def ids_of(sessions: sessionmaker[Session], agency: str) -> dict[str, str]:
    """Path parameters naming things of `agency`: itself, an attestation, a credential."""
    with sessions() as session:
        attestation = session.scalar(
            select(Attestation.id).where(Attestation.agency_id == agency).order_by(Attestation.id)
        )
        staff = select(Employment.person_id).where(Employment.agency_id == agency)
        credential = session.scalar(
            select(Credential.id).where(Credential.person_id.in_(staff)).order_by(Credential.id)
        )
        rule = session.scalar(select(MappingRule.id).order_by(MappingRule.id))
    return {
        "agency_id": agency,
        "attestation_id": str(attestation),
        "credential_id": str(credential),
        "rule_id": str(rule),
        "username": "bcoord",  # an account: only admins manage them, whatever its agency
    }


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for clients that talk real HTTP."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
