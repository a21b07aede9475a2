"""`onemind users …`: accounts from the command line, and what the web does with them."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from cli_run import onemind
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_world import USERS, build, csrf, sign_in

from onemind.store.db import transaction
from onemind.store.models import AuditEntry, User, WebSecret
from onemind.web import accounts
from onemind.web.accounts import AccountError, SignInRefused

CONFIG = """
[store]
url = "sqlite:///{db}"

[[agencies]]
id = "a-pd"
name = "A Police Department"
"""


def test_cli_adds_lists_disables_and_issues_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "onemind.toml"
    config.write_text(CONFIG.format(db=tmp_path / "onemind.db"))
    monkeypatch.setenv("ONEMIND_USER", "installer")

    def run(*args: str, given: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        return onemind(capsys, "--config", str(config), *args)

    assert run("init")[0] == 0
    assert (
        run("users", "add", "root", "--role", "admin", "--password-stdin", given="s3cret-enough\n")[
            0
        ]
        == 0
    )
    code, _, err = run(
        "users", "add", "c", "--role", "agency", "--password-stdin", given="long enough pw\n"
    )
    assert code == 2 and "needs at least one --agency" in err
    added = run(
        "users",
        "add",
        "c",
        "--role",
        "agency",
        "--agency",
        "a-pd",
        "--password-stdin",
        given="long enough pw\n",
    )
    assert added[0] == 0
    listed = json.loads(run("users", "list", "--json")[1])
    assert [(u["username"], u["role"], u["agencies"], u["active"]) for u in listed] == [
        ("c", "agency", ["a-pd"], True),
        ("root", "admin", [], True),
    ]
    code, token, _ = run("users", "token", "c", "--name", "export")
    assert code == 0 and token.startswith("om_")
    assert run("users", "set-password", "c", "--password-stdin", given="short\n")[0] == 2
    assert run("users", "disable", "c")[0] == 0
    assert "c  agency [a-pd]  disabled" in run("users", "list")[1]
    code, _, err = run("users", "disable", "nobody")
    assert code == 2 and "no user 'nobody'" in err


@pytest.mark.parametrize(
    ("username", "password", "role", "agencies", "message"),
    [
        ("a b", "long enough pw", "admin", [], "no spaces"),
        ("x", "short", "admin", [], "at least 10 characters"),
        ("x", "long enough pw", "boss", [], "role 'boss'"),
        ("x", "long enough pw", "agency", [], "needs at least one --agency"),
        ("x", "long enough pw", "viewer", ["a-pd"], "only agency users"),
        ("x", "long enough pw", "agency", ["nowhere"], "unknown agency nowhere"),
    ],
)
def test_bad_accounts_are_refused_with_the_reason(
    sessions: sessionmaker[Session],
    now: datetime,
    username: str,
    password: str,
    role: str,
    agencies: list[str],
    message: str,
) -> None:
    with pytest.raises(AccountError, match=message), transaction(sessions) as session:
        accounts.add_user(session, username, password, role, agencies, "test", now)


def test_password_change_and_disable_end_access(
    sessions: sessionmaker[Session], now: datetime
) -> None:
    with transaction(sessions) as session:
        user = accounts.add_user(session, "ann", "first password", "viewer", [], "boss", now)
        version = user.session_version
        token = accounts.new_token(session, "ann", "script", "boss", now)
        assert accounts.user_for_token(session, token, now) is not None
        accounts.set_password(session, "ann", "second password", "boss", now)
        assert user.session_version == version + 1
        assert accounts.sign_in(session, "ann", "second password", "1.2.3.4", now).id == user.id
        with pytest.raises(SignInRefused):
            accounts.sign_in(session, "ann", "first password", "1.2.3.4", now)
        accounts.disable(session, "ann", "boss", now)
        assert accounts.user_for_token(session, token, now) is None
        with pytest.raises(SignInRefused):
            accounts.sign_in(session, "ann", "second password", "1.2.3.4", now)
    with sessions() as session:
        stored = session.scalar(select(User).where(User.username == "ann"))
        assert stored is not None and stored.password_hash.startswith("$argon2")
        assert token not in str(session.execute(select(accounts.ApiToken.token_hash)).all())
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "boss"))
        assert set(actions) >= {"user.add", "user.token", "user.set-password", "user.disable"}


def test_two_processes_starting_at_once_make_one_cookie_key(
    sessions: sessionmaker[Session],
) -> None:
    """The second app starts while the first has made its key and not yet committed: it waits
    and takes the same key (a look-up then insert would find nothing, then collide)."""
    first_made = threading.Event()
    keys: dict[str, str] = {}
    errors: list[BaseException] = []

    def start(name: str) -> None:
        try:
            if name == "second":
                assert first_made.wait(30)
            with transaction(sessions) as session:
                keys[name] = accounts.secret_key(session)
                if name == "first":
                    first_made.set()
                    time.sleep(0.5)  # hold the new row uncommitted while the second one starts
        except BaseException as exc:
            errors.append(exc)
            first_made.set()

    threads = [threading.Thread(target=start, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert keys["first"] == keys["second"] and len(keys["first"]) > 40
    with sessions() as session:
        assert session.scalars(select(WebSecret.value)).all() == [keys["first"]]


def signs_in(client: TestClient, username: str, password: str) -> int:
    form = {"username": username, "password": password, "csrf": csrf(client)}
    return client.post("/login", data=form).status_code


def test_admin_adds_resets_and_disables_users_from_the_page(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    app = build(tmp_path, sessions, now)
    admin = sign_in(app, "admin")
    page = admin.get("/users")
    assert page.status_code == 200 and '<a href="/users">Users</a>' in page.text
    for name, (role, agencies) in USERS.items():
        row = page.text[page.text.index(f'id="user-{name}"') :].split("</tr>")[0]
        assert f"<td>{role}</td>" in row and ", ".join(agencies or ["all (by role)"]) in row
    assert 'href="/users"' not in sign_in(app, "academy").get("/").text
    token = csrf(admin)
    form = {"username": "newbie", "role": "agency", "agencies": "a-pd, b-pd", "csrf": token}
    refused = admin.post("/users", data={**form, "agencies": "a-pd nowhere", "password": "short"})
    assert refused.status_code == 400
    assert "at least 10 characters" in refused.text and "unknown agency nowhere" in refused.text
    assert 'value="a-pd nowhere"' in refused.text  # the form comes back as it was filled
    assert admin.post("/users", data={**form, "password": "first password"}).status_code == 303
    newbie = TestClient(app, follow_redirects=False)
    assert signs_in(newbie, "newbie", "first password") == 303
    assert newbie.get("/agencies/b-pd").status_code == 200
    assert newbie.get("/users").status_code == 403
    assert admin.post("/users/newbie/password", data={"password": "x"}).status_code == 403
    reset = admin.post("/users/newbie/password", data={"password": "new password", "csrf": token})
    assert reset.status_code == 303
    assert newbie.get("/").status_code == 303  # the old session ended
    assert signs_in(newbie, "newbie", "first password") == 401
    assert signs_in(newbie, "newbie", "new password") == 303
    assert admin.post("/users/newbie/disable", data={"csrf": token}).status_code == 303
    assert newbie.get("/").status_code == 303
    assert "disabled" in admin.get("/users").text.split('id="user-newbie"')[1].split("</tr>")[0]
    itself = admin.post("/users/admin/disable", data={"csrf": token})
    assert itself.status_code == 400 and "your own account" in itself.text
    assert admin.post("/users/nobody/disable", data={"csrf": token}).status_code == 404
    with sessions() as session:
        done = session.execute(
            select(AuditEntry.action, AuditEntry.target).where(AuditEntry.actor == "admin")
        ).all()
    assert {("user.add", "user newbie"), ("user.disable", "user newbie")} <= set(done)
    assert ("user.set-password", "user newbie") in set(done)
