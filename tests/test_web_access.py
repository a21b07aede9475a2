"""Who may open what: every route declares a policy and a scope check, and the whole route table
is walked with each role, so a new route without them fails here."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_world import PASSWORD, USERS, build, csrf, ids_of, sign_in

from onemind.store.models import AuditEntry, LoginAttempt
from onemind.web import api
from onemind.web.access import COOKIE, SCOPES, Policy
from onemind.web.pages import auth, certificates

PUBLIC = auth.PUBLIC | certificates.PUBLIC | api.PUBLIC
SCOPED_ROLE_USER = "coord"  # an agency user of a-pd; the walk names b-pd's things


@pytest.fixture
def app(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> FastAPI:
    return build(tmp_path, sessions, now)


def routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute)]


def calls(route: APIRoute) -> list[Any]:
    """Every dependency the route solves, depth first."""
    found, todo = [], list(route.dependant.dependencies)
    while todo:
        dependency = todo.pop()
        found.append(dependency.call)
        todo.extend(dependency.dependencies)
    return found


def policy_of(route: APIRoute) -> Policy | None:
    policies = [c for c in calls(route) if isinstance(c, Policy)]
    assert len(policies) <= 1, f"{route.path} declares several policies"
    return policies[0] if policies else None


def test_every_route_declares_a_policy_and_its_scope_checks(app: FastAPI) -> None:
    for route in routes(app):
        if route.path in PUBLIC:
            assert policy_of(route) is None
            continue
        assert policy_of(route) is not None, f"{route.path} declares no policy"
        for name in re.findall(r"{(\w+)}", route.path):
            if name in SCOPES:
                assert SCOPES[name] in calls(route), f"{route.path}: {name} not scope-checked"


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: ids[m.group(1)], path)


def expected(route: APIRoute, method: str, role: str | None) -> set[int]:
    """The statuses `role` may get from the route when it names another agency's things."""
    policy = policy_of(route)
    api_route = route.path.startswith("/api/")
    if policy is None:
        return {200, 400, 422}
    if role is None:
        return {401} if api_route else {303}
    if role not in policy.roles:
        return {403}
    scoped = any(name in SCOPES for name in re.findall(r"{(\w+)}", route.path))
    if role == "agency" and scoped:
        return {404}
    if method == "GET":
        return {200}
    return {200, 201, 303, 400}  # a POST without its form or body is refused as bad input


@pytest.mark.parametrize("username", [None, *USERS])
def test_route_table_with_each_role(
    app: FastAPI, sessions: sessionmaker[Session], username: str | None
) -> None:
    client = sign_in(app, username)
    token = csrf(client)
    ids = ids_of(sessions, "b-pd")
    role = USERS[username][0] if username else None
    for route in routes(app):
        if route.path == "/logout":
            continue
        for method in sorted(route.methods):
            response = client.request(
                method, fill(route.path, ids), headers={"X-CSRF-Token": token}
            )
            want = expected(route, method, role)
            assert response.status_code in want, (
                f"{username} {method} {route.path}: {response.status_code} not in {want}: "
                f"{response.text[:300]}"
            )
            assert "Traceback" not in response.text


def test_agency_user_sees_only_their_agencies(app: FastAPI) -> None:
    client = sign_in(app, "coord")
    assert client.get("/agencies/a-pd").status_code == 200
    for path in ("/agencies/b-pd", "/agencies/nowhere", "/api/v1/agencies/b-pd"):
        assert client.get(path).status_code == 404
    listed = client.get("/api/v1/agencies").json()
    assert [a["agency"] for a in listed["agencies"]] == ["a-pd"]
    assert "Shelbyville" not in client.get("/").text
    assert client.get("/certificates?agency=b-pd").status_code == 404


def test_session_cookie_is_signed_http_only_and_same_site(app: FastAPI) -> None:
    client = sign_in(app, None)
    csrf(client)
    form = {"username": "admin", "password": PASSWORD, "csrf": csrf(client)}
    response = client.post("/login", data=form)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure
    forged = client.cookies[COOKIE][:-3] + "xyz"
    client.cookies.set(COOKIE, forged)
    assert client.get("/").status_code == 303


def test_cookie_is_secure_over_https(app: FastAPI) -> None:
    client = sign_in(app, None)
    client.base_url = client.base_url.copy_with(scheme="https")
    response = client.get("https://testserver/login")
    assert "Secure" in response.headers["set-cookie"]


def test_state_changing_requests_need_the_csrf_token(app: FastAPI) -> None:
    client = sign_in(app, "admin")
    form = {"kind": "policy", "attested_on": "2026-01-01"}
    refused = client.post("/agencies/b-pd/attestations", data=form)
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    refused = client.post("/agencies/b-pd/attestations", data={**form, "csrf": "wrong"})
    assert refused.status_code == 403
    accepted = client.post("/agencies/b-pd/attestations", data={**form, "csrf": csrf(client)})
    assert accepted.status_code == 303


def test_sign_in_is_throttled_and_audited(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    client = sign_in(app, None)
    bad = {"username": "admin", "password": "not the password", "csrf": csrf(client)}
    statuses = [client.post("/login", data=bad).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    good = {"username": "admin", "password": PASSWORD, "csrf": csrf(client)}
    throttled = client.post("/login", data=good)
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    assert sign_in(app, "viewer").get("/").status_code == 200  # others are not held up
    with sessions() as session:
        failed = session.scalars(select(LoginAttempt).where(LoginAttempt.succeeded.is_(False)))
        assert len(list(failed)) == 5  # the refused ones were not even tried
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "viewer"))
        assert "user.sign-in" in list(actions)


def test_unknown_user_and_wrong_password_read_the_same(app: FastAPI) -> None:
    client = sign_in(app, None)
    answers = [
        client.post("/login", data={"username": name, "password": "x" * 12, "csrf": csrf(client)})
        for name in ("admin", "nobody")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    assert all("Wrong username or password." in a.text for a in answers)


def test_login_redirects_only_within_the_site(app: FastAPI) -> None:
    client = sign_in(app, None)
    form = {"username": "admin", "password": PASSWORD, "csrf": csrf(client)}
    response = client.post("/login", data={**form, "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(app: FastAPI) -> None:
    client = sign_in(app, "viewer")
    assert client.post("/logout", data={"csrf": csrf(client)}).status_code == 303
    assert client.get("/").status_code == 303


def test_api_tokens_act_as_their_user(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    from onemind.store.db import transaction
    from onemind.web.accounts import new_token

    with transaction(sessions) as session:
        token = new_token(session, "coord", "script", "test", app.state.now())
    client = sign_in(app, None)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).json()["agencies"] == ["a-pd"]
    assert client.get("/api/v1/agencies/b-pd", headers=bearer).status_code == 404
    assert client.get("/api/v1/agencies/a-pd", headers=bearer).json()["agency"] == "a-pd"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    docs = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/agencies/{agency_id}" in docs["paths"]
