"""Agency reports and the hub summary: their figures, escaping, and delivery by real SMTP."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import logging
import socket
import subprocess
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cli_run import run_in
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS, ROSTER_HEADER

from onemind.config import Settings, parse_settings
from onemind.reports.delivery import deliver_agency
from onemind.reports.rendered import render_agency, render_hub
from onemind.store.db import make_engine, session_factory, transaction, upgrade
from onemind.store.history import source_health
from onemind.store.models import ReportArchive, Source, SyncRun
from onemind.sync.runner import SyncRunner
from onemind.sync.scheduler import Service

AS_OF = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGENCY = "A <Police> & $x$ Department"
ROSTER = (
    ROSTER_HEADER
    + """a-pd,1,Ann,Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,Bob,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,Cat,Kim,cat@a.example,false,Dispatcher,,2020-01-01,
a-pd,4,Zoë,Łukasiewicz,dan@a.example,true,Officer,,2020-01-01,
a-pd,5,=1+2,<script>alert(1)</script>,eve@a.example,true,Officer,,2020-01-01,
"""
)
USER, PASSWORD = "reports", "s3cret"


class Inbox:
    """An aiosmtpd handler and authenticator that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(USER)
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on the loopback interface, with AUTH over plain text for the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox, auth_require_tls=False
    )
    controller.start()
    yield inbox, port
    controller.stop()


def config(folder: Path, port: int) -> str:
    return f"""
[store]
url = "sqlite:///onemind.db"

[smtp]
host = "127.0.0.1"
port = {port}
starttls = false
allow_plaintext_auth = true
username = "{USER}"
password = "env:ONEMIND_TEST_SMTP_PASSWORD"
sender = "One Mind <reports@academy.example>"

[[agencies]]
id = "a-pd"
name = "{AGENCY}"
pledged_on = 2025-01-01
report_to = ["chief@a.example", "training@a.example"]

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "{folder / "roster.csv"}"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "{folder / "completions.csv"}"
"""


def settings_for(folder: Path, port: int = 2525) -> Settings:
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (folder / "completions.csv").write_text(COMPLETIONS, encoding="utf-8")
    environ = {"ONEMIND_TEST_SMTP_PASSWORD": PASSWORD}
    return parse_settings(tomllib.loads(config(folder, port)), folder / "onemind.toml", environ)


@pytest.fixture
def synced(tmp_path: Path, sessions: sessionmaker[Session], now: datetime) -> Settings:
    settings = settings_for(tmp_path)
    assert SyncRunner(settings, sessions, lambda: now).run(as_of=AS_OF).ok
    return settings


def parts(message: EmailMessage) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and not part.get_filename():
            found[kind] = part.get_content()
        elif kind == "image/png":
            found["cid"] = part["Content-ID"]
        elif kind in ("application/pdf", "text/csv"):
            found[kind] = (part.get_filename(), part.get_payload(decode=True))
    return found


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def squeezed(text: str) -> str:
    """The text without whitespace: a PDF wraps lines wherever its columns end."""
    return "".join(text.split())


def test_a_report_sent_to_a_real_smtp_server_arrives_with_its_pdf_and_csv(
    synced: Settings, sessions: sessionmaker[Session], now: datetime, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = synced.model_copy(update={"smtp": synced.smtp.model_copy(update={"port": port})})  # type: ignore[union-attr]
    delivery = deliver_agency(settings, sessions, "a-pd", "on-demand", now, AS_OF)
    assert delivery.sent, delivery.error
    assert inbox.logins == [USER]
    [message] = inbox.messages
    assert message["To"] == "chief@a.example, training@a.example"
    assert message["Subject"] == f"One Mind Pledge coverage: {AGENCY}: at-risk as of 2026-11-26"
    found = parts(message)
    assert found["cid"] == "<trend>" and 'src="cid:trend"' in found["text/html"]

    pdf_name, pdf = found["application/pdf"]
    assert pdf_name == "a-pd-coverage-2026-11-26.pdf"
    text = pdf_text(pdf)
    for figure in (
        AGENCY,
        "Status: at-risk",
        "1 of 4 sworn officers (25.0 %); 1 needed",
        "2 of 4 sworn officers, 1 of 1 selected non-sworn staff",
        "25.0 %",
        "50.0 %",
        "Who still needs training (2)",
        "Zoë",
        "<script>alert(1)</script>",
    ):
        assert squeezed(figure) in squeezed(text), figure

    csv_name, table = found["text/csv"]
    assert csv_name == "a-pd-people-2026-11-26.csv"
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8"))))
    assert sorted((r["name"], r["needs_training"], r["needs_crisis"]) for r in rows) == [
        ("'=1+2 <script>alert(1)</script>", "yes", "no"),
        ("Zoë Łukasiewicz", "yes", "no"),
    ]
    assert (
        rows[0]["needs"] == "mental-health training: MHFA, CIT or CRIT (or an approved equivalent)"
    )

    html = found["text/html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &lt;Police&gt; &amp; $x$ Department" in html
    assert "4</td>" in html and "25.0 %" in html and "at-risk" in html
    with sessions() as session:
        archived = session.scalars(select(ReportArchive)).one()
        assert (archived.reason, archived.status, archived.sent_at) == ("on-demand", "at-risk", now)
        assert archived.pdf == pdf and archived.recipients == [
            "chief@a.example",
            "training@a.example",
        ]


def test_a_refused_login_is_archived_with_its_reason(
    synced: Settings, sessions: sessionmaker[Session], now: datetime, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    wrong = synced.smtp.model_copy(update={"port": port, "username": "intruder"})  # type: ignore[union-attr]
    delivery = deliver_agency(
        synced.model_copy(update={"smtp": wrong}), sessions, "a-pd", "schedule", now, AS_OF
    )
    assert not delivery.sent and "refused the login of 'intruder'" in (delivery.error or "")
    assert inbox.messages == []
    with sessions() as session:
        archived = session.scalars(select(ReportArchive)).one()
        assert archived.sent_at is None and "refused the login" in (archived.error or "")


def test_a_status_change_sends_the_report_once(
    synced: Settings, engine: Engine, sessions: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = synced.model_copy(update={"smtp": synced.smtp.model_copy(update={"port": port})})  # type: ignore[union-attr]
    clock = {"now": datetime(2027, 3, 1, 8, 0, tzinfo=UTC)}
    service = Service(settings, engine, lambda: clock["now"])
    assert service.sync("completions").changes == []
    assert inbox.messages == []

    clock["now"] = datetime(2028, 1, 3, 8, 0, tzinfo=UTC)  # past the deadline of 2028-01-01
    outcome = service.sync("completions")
    assert [(c.before, c.after) for c in outcome.changes] == [("at-risk", "overdue")]
    [message] = inbox.messages
    assert message["Subject"].startswith("Status changed from at-risk to overdue: ")
    assert "overdue" in pdf_text(parts(message)["application/pdf"][1])

    clock["now"] += timedelta(days=1)
    service.sync("completions")
    assert len(inbox.messages) == 1
    with sessions() as session:
        assert [r.reason for r in session.scalars(select(ReportArchive))] == ["status-change"]


def fail(sessions: sessionmaker[Session], source: str, *nights: tuple[str, str]) -> None:
    with transaction(sessions) as session:
        source_id = session.scalars(select(Source.id).where(Source.name == source)).one()
        for started, status in nights:
            at = datetime.fromisoformat(started).replace(tzinfo=UTC)
            session.add(
                SyncRun(
                    source_id=source_id,
                    started_at=at,
                    finished_at=at,
                    status=status,
                    error=f"{status} at {started}" if status != "succeeded" else None,
                )
            )


@pytest.mark.parametrize(
    ("runs", "nights"),
    [
        (
            [
                ("2026-11-27T08:00", "failed"),
                ("2026-11-28T08:00", "failed"),
                ("2026-11-29T08:00", "abandoned"),
            ],
            3,
        ),
        (
            [
                ("2026-11-27T08:00", "failed"),
                ("2026-11-27T09:00", "failed"),
                ("2026-11-28T08:00", "failed"),
            ],
            2,
        ),
        (
            [
                ("2026-11-27T08:00", "failed"),
                ("2026-11-28T08:00", "succeeded"),
                ("2026-11-29T08:00", "failed"),
            ],
            1,
        ),
        (
            [
                ("2026-11-27T08:00", "failed"),
                ("2026-11-28T08:00", "skipped"),
                ("2026-11-29T08:00", "stopped"),
            ],
            1,
        ),
        (
            [
                ("2026-11-27T08:00", "failed"),
                ("2026-11-28T08:00", "failed"),
                ("2026-11-29T08:00", "succeeded"),
            ],
            0,
        ),
    ],
)
def test_failing_nights_count_each_night_once_since_the_last_success(
    synced: Settings, sessions: sessionmaker[Session], runs: list[tuple[str, str]], nights: int
) -> None:
    fail(sessions, "completions", *runs)
    with sessions() as session:
        [health] = source_health(session, UTC, ["completions"])
    assert health.failing_nights == nights


def test_a_source_failing_three_nights_is_flagged_in_the_report_and_the_log(
    synced: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fail(sessions, "completions", *((f"2026-11-2{d}T08:00", "failed") for d in (7, 8, 9)))
    with sessions() as session:
        rendered = render_agency(session, synced, "a-pd", AS_OF, now)
        hub = render_hub(session, synced, AS_OF, now)
    assert (
        "failing 3 nights in a row: failed at 2026-11-29T08:00"
        in rendered.files["a-pd.html"].decode()
    )
    assert "FAILING 3 nights in a row" in hub.mail_html
    with caplog.at_level(logging.ERROR, logger="onemind.sync.scheduler"):
        Service(synced, engine, lambda: now)._flag_failing("completions")
    assert "source completions has failed 3 nights in a row" in caplog.text


def test_the_hub_summary_lists_every_agency_and_the_review_queue(
    synced: Settings, sessions: sessionmaker[Session], now: datetime
) -> None:
    with sessions() as session:
        hub = render_hub(session, synced, AS_OF, now)
    html = hub.files["hub-summary.html"].decode()
    assert "A &lt;Police&gt; &amp; $x$ Department" in html and "1 at-risk" in html
    assert "Mapping review queue: <b>" in html
    rows = list(csv.DictReader(io.StringIO(hub.files["hub-agencies.csv"].decode())))
    assert [(r["agency"], r["sworn_total"], r["sworn_crisis"], r["status"]) for r in rows] == [
        ("a-pd", "4", "1", "at-risk")
    ]
    assert (rows[0]["partnership"], rows[0]["policy"]) == ("no", "no")


def test_report_command_writes_sends_and_lists(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = settings_for(tmp_path, port)
    (tmp_path / "onemind.toml").write_text(config(tmp_path, port))
    engine = make_engine(settings.store.url)
    upgrade(engine)
    assert SyncRunner(settings, session_factory(engine), lambda: NOW).run(as_of=AS_OF).ok
    engine.dispose()
    config_file = str(tmp_path / "onemind.toml")

    def onemind(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"ONEMIND_TEST_SMTP_PASSWORD": PASSWORD}
        return run_in(tmp_path, "--config", config_file, *args, env=env)

    out = tmp_path / "out"
    sent = onemind(
        "report", "--agency", "a-pd", "--send", "--out", str(out), "--as-of", "2026-11-26"
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("sent report #1 to chief@a.example") and len(inbox.messages) == 1
    assert sorted(p.name for p in out.iterdir()) == ["a-pd-people.csv", "a-pd.html", "a-pd.pdf"]
    assert "1 of 4 sworn officers" in pdf_text((out / "a-pd.pdf").read_bytes())
    listed = onemind("report", "--list")
    assert "a-pd" in listed.stdout and "on-demand" in listed.stdout and "sent" in listed.stdout
    rows = json.loads(onemind("report", "--list", "--json").stdout)
    assert [(r["id"], r["agency"], r["reason"], r["recipients"], r["error"]) for r in rows] == [
        (1, "a-pd", "on-demand", ["chief@a.example", "training@a.example"], None)
    ]
    assert rows[0]["sent_at"] is not None and rows[0]["as_of"] == "2026-11-26"
    unknown = onemind("report", "--agency", "nope")
    assert unknown.returncode == 2 and "no agency 'nope'" in unknown.stderr
