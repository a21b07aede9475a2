"""A small hub for the worker tests: agencies, roster and completion files, a configuration, a
real SMTP server that counts what each recipient received (and can misbehave), and real
`onemind worker` processes."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, text

from onemind.store.db import make_engine, upgrade

PG_SERVER = os.environ.get(
    "ONEMIND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("ONEMIND_TEST_REDIS", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("ONEMIND_TEST_RABBITMQ", "amqp://guest@127.0.0.1:5672//")
AGENCIES = [f"pd-{i}" for i in range(4)]
SCHEDULE = "0 6 * * *"
ROSTER_HEADER = (
    "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on\n"
)
COMPLETIONS_HEADER = (
    "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
)
COURSES = [
    ("CIT-40", "Crisis Intervention Team (CIT) Basic 40-Hour", 40),
    ("MHFA-PS", "Mental Health First Aid for Public Safety", 8),
]


def write_world(folder: Path) -> list[str]:
    """Four agencies, each in both roster files (so every status is `overdue` from the first
    roster on: no status-change notices) and in both completion files; the sources' names."""
    rosters: list[list[str]] = [[], []]
    completions: list[list[str]] = [[], []]
    for a, agency in enumerate(AGENCIES):
        for n in range(6):
            mail = f"p{n}@{agency}.example"
            sworn = "false" if n == 5 else "true"
            position = "Dispatcher" if n == 5 else "Officer"
            rosters[n // 3].append(
                f"{agency},{n},P{n},{agency},{mail},{sworn},{position},,2020-01-01,"
            )
            if (n + a) % 3 != 2:
                course, title, hours = COURSES[(n + a) % 2]
                completions[n % 2].append(f",{mail},{course},{title},,{hours},2025-0{a + 1}-1{n},")
    names = []
    for i, rows in enumerate(rosters):
        (folder / f"roster-{i}.csv").write_text(ROSTER_HEADER + "\n".join(rows) + "\n")
        names.append(f"roster-{i}")
    for i, rows in enumerate(completions):
        (folder / f"done-{i}.csv").write_text(COMPLETIONS_HEADER + "\n".join(rows) + "\n")
        names.append(f"done-{i}")
    return names


def config_text(folder: Path, store: str, smtp_port: int, workers: str = "") -> str:
    agencies = "".join(
        f"""
[[agencies]]
id = "{agency}"
name = "Police Department {agency}"
pledged_on = 2020-01-01
report_to = ["chief@{agency}.example", "training@{agency}.example"]
report_schedule = "{SCHEDULE}"
"""
        for agency in AGENCIES
    )
    sources = "".join(
        f"""
[[sources]]
name = "{name}"
kind = "csv"
role = "{"roster" if name.startswith("roster") else "completions"}"
path = "{folder / (name + ".csv")}"
"""
        for name in ("roster-0", "roster-1", "done-0", "done-1")
    )
    return f"""
[store]
url = "{store}"

[certificates]
issuer_id = "https://academy.example"
issuer_name = "State Academy"
algorithm = "EdDSA"
key_passphrase = "env:ONEMIND_TEST_KEY_PASSPHRASE"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
starttls = false
sender = "One Mind <reports@academy.example>"
timeout = 2

[scheduler]
report_claim_ttl_seconds = 30
{workers}
{agencies}
{sources}
"""


def workers_section(broker: str, queue: str) -> str:
    return f"""
[workers]
broker = "{broker}"
queue = "{queue}"
visibility_timeout_seconds = 6
retry_backoff_seconds = 1
max_retries = 20
"""


ENVIRON = {"ONEMIND_TEST_KEY_PASSPHRASE": "correct horse battery staple"}


class Mailbox:
    """An aiosmtpd handler counting what each recipient received; it can refuse recipients,
    hold every RCPT until released, or answer the message too late."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []
        self.refuse: set[str] = set()
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.answer_after = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "450 4.2.1 mailbox busy, try again later"
        if self.hold is not None:
            self.holding.set()
            await asyncio.to_thread(self.hold.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, str(message["Subject"]), str(message["Message-ID"])))
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        return "250 Message accepted for delivery"

    def counts(self) -> Counter[str]:
        """Scheduled reports received, by recipient (status-change notices aside)."""
        return Counter(
            recipient
            for recipient, subject, _ in self.received
            if not subject.startswith("Status changed")
        )

    def doubled(self) -> list[tuple[str, str]]:
        """(recipient, Message-ID) received more than once: a report sent twice."""
        seen = Counter((recipient, message_id) for recipient, _, message_id in self.received)
        return [key for key, count in seen.items() if count > 1]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database."""
    admin = make_engine(PG_SERVER).execution_options(isolation_level="AUTOCOMMIT")
    name = f"onemind_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def require_broker(url: str) -> None:
    """A failure in CI, a skip elsewhere, when the broker does not answer."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the broker {url} is required in CI and is not reachable: {exc}")
        pytest.skip(f"broker {url} not reachable: {exc}")


def forget_queue(url: str, queue: str) -> None:
    """Remove the test queue from the broker (on Redis, Kombu's keys are left behind too)."""
    from kombu import Connection

    with Connection(url) as connection:
        connection.default_channel.queue_delete(queue)
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{queue}:*"))
        if keys:
            client.delete(*keys)
        client.close()


class Worker:
    """One `onemind worker --pool solo` process, its output in a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.handle = log.open("w")
        environ = {**os.environ, **ENVIRON}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "onemind", "--config", str(config), "worker", "--pool", "solo"],
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            env=environ,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        until(lambda: " ready." in self.log.read_text(), timeout, f"worker ready ({self.log})")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self.handle.close()


@contextmanager
def workers(config: Path, folder: Path, count: int) -> Iterator[list[Worker]]:
    started = [Worker(config, folder / f"worker-{i}.log") for i in range(count)]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()


def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()
