"""What a sync drops is visible: too large a share fails the run, and every dropped or
unmatched record is listed with its reason, file and line."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_run import onemind
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS_HEADER, ROSTER

from onemind.cli import main
from onemind.cli.views import sync_table
from onemind.config import Settings, parse_settings
from onemind.store.dropped import quarantined_records, reason_kind, top_reasons, unmatched_records
from onemind.sync.runner import SyncOutcome, SyncRunner

AS_OF = date(2026, 11, 26)
GOOD = "1,,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,\n"


def bad(count: int) -> str:
    """`count` rows that are quarantined for the same kind of reason (an impossible date)."""
    return "".join(f"{n},,CIT-40,CIT,,40,2026-13-{n:02d},\n" for n in range(1, count + 1))


CONFIG = """
[[agencies]]
id = "a-pd"
name = "A Police Department"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "completions"
kind = "csv"
role = "completions"
path = "completions.csv"
{limit}
"""


def settings(tmp_path: Path, completions: str, limit: str = "") -> Settings:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS_HEADER + completions)
    text = CONFIG.format(limit=limit)
    (tmp_path / "onemind.toml").write_text(text)
    return parse_settings(tomllib.loads(text), tmp_path / "onemind.toml")


def run(config: Settings, sessions: sessionmaker[Session], now: datetime) -> SyncOutcome:
    return SyncRunner(config, sessions, lambda: now).run(as_of=AS_OF)


def test_a_file_whose_rows_are_all_quarantined_fails_with_the_top_reasons(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    outcome = run(settings(tmp_path, bad(3)), sessions, now)
    assert not outcome.ok
    result = {r.source: r for r in outcome.results}["completions"]
    assert result.status == "failed"
    assert result.error == (
        "3 of 3 record(s) quarantined, more than quarantine_limit 50 %; top reasons: "
        "3\u00d7 completed_on: '…' is not a date (YYYY-MM-DD); "
        "see 'onemind quarantine list --source completions'"
    )
    assert result.reasons == [("completed_on: '…' is not a date (YYYY-MM-DD)", 3)]


@pytest.mark.parametrize(
    ("rows", "limit", "ok"),
    [
        (GOOD + bad(1), "", True),  # 1 of 2 is 50 %: not more than the limit
        (GOOD + bad(3), "", False),  # 3 of 4: 75 %
        (GOOD + bad(3), "quarantine_limit = 0.75", True),
        (GOOD + bad(3), "quarantine_limit = 1", True),
        (GOOD + bad(1), "quarantine_limit = 0", False),  # any quarantined record fails
        (GOOD, "quarantine_limit = 0", True),
    ],
)
def test_the_share_quarantined_is_weighed_against_the_source_limit(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    now: datetime,
    rows: str,
    limit: str,
    ok: bool,
) -> None:
    outcome = run(settings(tmp_path, rows, limit), sessions, now)
    assert {r.source: r.ok for r in outcome.results}["completions"] is ok


def test_reasons_are_counted_for_the_latest_run_that_found_them(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    config = settings(tmp_path, GOOD + bad(3), "quarantine_limit = 1")
    first = run(config, sessions, now)
    again = COMPLETIONS_HEADER + GOOD + bad(3) + GOOD.replace("1,,", "2,,")
    (tmp_path / "completions.csv").write_text(again)
    second = run(config, sessions, now)
    [run_id] = [r.run_id for r in second.results if r.source == "completions"]
    assert first.ok and second.ok
    with sessions() as session:
        assert top_reasons(session, run_id) == [("completed_on: '…' is not a date (YYYY-MM-DD)", 3)]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("completed_on: '2026-13-01' is not a date", "completed_on: '…' is not a date"),
        ('sworn: "it\'s" is not true/false', "sworn: '…' is not true/false"),
        (
            "separated_on: 2019-01-01 is before hired_on 2020-01-01",
            "separated_on: … is before hired_on …",
        ),
        ("missing actor", "missing actor"),
    ],
)
def test_reasons_that_differ_only_in_their_values_are_one_kind(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


def test_the_sync_table_shows_each_source_top_reasons(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    rows = GOOD + bad(3) + "1,,CIT-40,CIT,,lots,2024-01-01,\n"
    outcome = run(settings(tmp_path, rows, "quarantine_limit = 1"), sessions, now)
    console = Console(width=200, record=True)
    console.print(sync_table(outcome))
    text = console.export_text()
    assert "3\u00d7 completed_on: '…' is not a date (YYYY-MM-DD)" in text
    assert "1\u00d7 hours: '…' is not a number of hours" in text


def synced(tmp_path: Path, completions: str) -> str:
    config = tmp_path / "onemind.toml"
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS_HEADER + completions)
    store = f'\n[store]\nurl = "sqlite:///{tmp_path / "onemind.db"}"\n'
    config.write_text(CONFIG.format(limit="") + store)
    main(["--config", str(config), "init"])
    return str(config)


def test_sync_exits_1_and_says_why_when_a_file_is_all_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = synced(tmp_path, bad(3))
    code, _, err = onemind(capsys, "--config", config, "sync", "--as-of", AS_OF.isoformat())
    assert code == 1
    assert "error: source 'completions': 3 of 3 record(s) quarantined" in err
    assert "3\u00d7 completed_on: '…' is not a date (YYYY-MM-DD)" in err
    code, out, _ = onemind(capsys, "--config", config, "sync", "--full", "--json")
    [_, completions] = json.loads(out)["sources"]
    assert code == 1 and completions["top_reasons"] == [
        {"reason": "completed_on: '…' is not a date (YYYY-MM-DD)", "count": 3}
    ]


UNMATCHED = ",nobody@a.example,MHFA-PS,Mental Health First Aid,,8,2025-01-01,\n"
MARKUP = "9,,CIT-40,CIT,,40,[bold]13[/bold],\n"
ESCAPE = ",\x1b[31mnobody@a.example,MHFA-PS,Mental Health First Aid,,8,2025-01-01,\n"


def test_quarantine_list_shows_every_dropped_record_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = synced(tmp_path, GOOD + GOOD.replace("1,,", "2,,") + bad(1) + MARKUP)
    code, _, _ = onemind(capsys, "--config", config, "sync", "--as-of", AS_OF.isoformat())
    assert code == 0
    code, out, _ = onemind(capsys, "--config", config, "quarantine", "list", "--json")
    assert code == 0
    found = json.loads(out)
    assert [(r["source"], r["file"], r["line"]) for r in found] == [
        ("completions", "completions.csv", 4),
        ("completions", "completions.csv", 5),
    ]
    assert found[0]["location"] == "completions.csv:4"
    assert found[0]["reason"] == "completed_on: '2026-13-01' is not a date (YYYY-MM-DD)"
    assert isinstance(found[0]["run"], int)
    code, out, _ = onemind(capsys, "--config", config, "quarantine", "list", "--source", "roster")
    assert code == 0 and "completions.csv" not in out
    code, out, _ = onemind(capsys, "--config", config, "quarantine", "list")
    assert code == 0 and "completions.csv:5" in out and "'[bold]13[/bold]' is not a date" in out
    code, _, err = onemind(capsys, "--config", config, "quarantine", "list", "--source", "nope")
    assert code == 2 and "no source 'nope' in the store" in err


def test_unmatched_list_shows_who_the_record_names_and_why_no_one_matched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = synced(tmp_path, GOOD + UNMATCHED + "77,,CIT-40,CIT,,40,2024-01-01,\n" + ESCAPE)
    onemind(capsys, "--config", config, "sync", "--as-of", AS_OF.isoformat())
    code, out, _ = onemind(capsys, "--config", config, "unmatched", "list", "--json")
    assert code == 0
    found: list[dict[str, Any]] = json.loads(out)
    assert [(r["file"], r["line"], r["reason"]) for r in found[:2]] == [
        ("completions.csv", 3, "no one on the roster has email 'nobody@a.example'"),
        ("completions.csv", 4, "no one on the roster has employee id '77'"),
    ]
    assert found[0]["course"] == "MHFA-PS" and found[0]["completed_on"] == "2025-01-01"
    code, out, _ = onemind(capsys, "--config", config, "unmatched", "list")
    assert code == 0 and "nobody@a.example" in out and "completions.csv:4" in out
    assert "\x1b" not in out and "'\\x1b[31mnobody@a.example'" in out


def test_store_queries_on_both_backends(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    run(settings(tmp_path, GOOD + UNMATCHED + bad(1), "quarantine_limit = 1"), sessions, now)
    with sessions() as session:
        [dropped] = quarantined_records(session)
        [unmatched] = unmatched_records(session)
        assert quarantined_records(session, "roster") == []
    assert (dropped.source, dropped.file, dropped.line) == ("completions", "completions.csv", 4)
    assert (unmatched.source, unmatched.email, unmatched.line) == (
        "completions",
        "nobody@a.example",
        3,
    )
