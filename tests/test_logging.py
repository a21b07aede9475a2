"""Log lines carry their context (job, source, run id), as text or JSON, to stderr or a file."""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from test_sync import COMPLETIONS, ROSTER, make_settings

from onemind.sync.logcontext import QUIET, configure, log_context, sync_context
from onemind.sync.scheduler import Service, register, sync_job

log = logging.getLogger("onemind.test")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET}
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in quiet.items():
        logging.getLogger(name).setLevel(value)


def write_lines(path: Path, log_format: str) -> list[str]:
    configure(logging.INFO, log_format, path)
    log.info("before any job")
    with log_context(job="sync:roster"):
        log.info("job started")
        with sync_context("roster", 7):
            log.warning("skipped %d row(s)", 2)
        log.debug("not at INFO")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    return path.read_text(encoding="utf-8").splitlines()


def test_json_lines_carry_time_level_logger_message_and_context(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in write_lines(tmp_path / "onemind.log", "json")]
    assert [{k: v for k, v in line.items() if k != "time"} for line in lines] == [
        {"level": "INFO", "logger": "onemind.test", "message": "before any job"},
        {"level": "INFO", "logger": "onemind.test", "message": "job started", "job": "sync:roster"},
        {
            "level": "WARNING",
            "logger": "onemind.test",
            "message": "skipped 2 row(s)",
            "job": "sync:roster",
            "source": "roster",
            "run_id": 7,
        },
    ]
    assert all(datetime.fromisoformat(line["time"]).utcoffset() is not None for line in lines)


def test_text_lines_name_the_context(tmp_path: Path) -> None:
    lines = write_lines(tmp_path / "onemind.log", "text")
    assert len(lines) == 3
    assert lines[0].endswith(" INFO onemind.test before any job")
    assert lines[2].endswith(
        " WARNING onemind.test [job=sync:roster source=roster run_id=7] skipped 2 row(s)"
    )


def test_the_log_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "onemind.log"
    write_lines(path, "json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    write_lines(path, "json")
    assert len(path.read_text().splitlines()) == 6, "a restart appends"


def test_a_scheduled_sync_logs_its_start_result_and_duration(
    tmp_path: Path, engine: Engine, now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    register(Service(make_settings(tmp_path), engine, lambda: now))
    path = tmp_path / "onemind.log"
    configure(logging.INFO, "json", path)
    try:
        sync_job("roster")
    finally:
        register(None)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    jobs = [line for line in lines if line["logger"] == "onemind.sync.scheduler"]
    assert [line["job"] for line in lines] == ["sync:roster"] * len(lines)
    assert jobs[0]["message"] == "job started" and jobs[0]["level"] == "INFO"
    assert re.fullmatch(
        r"job roster succeeded \(fetched 5, new 5, updated 0, quarantined 0\); 0 unmatched, "
        r"0 status change\(s\), 0 credential\(s\) issued, 0 revoked in \d+\.\d s",
        jobs[-1]["message"],
    )
    runner = [line for line in lines if line["logger"] == "onemind.sync.runner"]
    assert runner and all(line["source"] == "roster" and line["run_id"] > 0 for line in runner)
