"""Every CSV the project writes is inert in a spreadsheet: no cell starts a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import Settings, parse_settings
from onemind.domain.text import from_spreadsheet_cell, spreadsheet_cell
from onemind.mapping import exchange
from onemind.mapping.changes import RuleSpec, add_rule
from onemind.reports.rendered import render_agency, render_hub
from onemind.sync.runner import SyncRunner

AS_OF = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
LINK = '=HYPERLINK("http://evil.example/x")'
ROSTER = f"""agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,"{LINK.replace('"', '""')}",Lee,ann@a.example,true,Officer,,2020-01-01,
a-pd,2,+1+1,Ray,bob@a.example,true,Officer,,2020-01-01,
a-pd,3,@SUM(A1),Kim,cat@a.example,true,Officer,,2020-01-01,
a-pd,4,-2+3,Orr,dan@a.example,true,Officer,,2020-01-01,
a-pd,5,"\t=1",Fox,eve@a.example,true,Officer,,2020-01-01,
a-pd,6,\uff1d1+1,Wu,fay@a.example,true,Officer,,2020-01-01,
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
,ann@a.example,"=1+1",Course,State POST,8,2024-03-01,
"""


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        (LINK, "'" + LINK),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff20x", "'\uff20x"),
        ("'=1", "''=1"),
        ("'quoted'", "''quoted'"),
        ("SCIA-40", "SCIA-40"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_formula_starts_are_quoted_and_the_quote_comes_off_again(text: str, cell: str) -> None:
    assert spreadsheet_cell(text) == cell
    assert from_spreadsheet_cell(cell) == text


@pytest.mark.parametrize("cell", ["'plain", "'", "'1", "plain"])
def test_a_hand_written_quote_before_ordinary_text_is_kept(cell: str) -> None:
    assert from_spreadsheet_cell(cell) == cell


@given(st.text())
def test_every_text_comes_back_and_no_cell_starts_a_formula(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert not cell.startswith(STARTS)
    assert from_spreadsheet_cell(cell) == text


def inert(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows and all(not cell.startswith(STARTS) for row in rows for cell in row)
    return rows


@pytest.fixture
def synced(tmp_path: Path, sessions: sessionmaker[Session]) -> Settings:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "completions.csv").write_text(COMPLETIONS, encoding="utf-8")
    raw = {
        "agencies": [{"id": "a-pd", "name": LINK, "pledged_on": date(2025, 1, 1)}],
        "sources": [
            {"name": "roster", "kind": "csv", "role": "roster", "path": "roster.csv"},
            {"name": "academy", "kind": "csv", "role": "completions", "path": "completions.csv"},
        ],
    }
    settings = parse_settings(raw, tmp_path / "onemind.toml")
    assert SyncRunner(settings, sessions, lambda: NOW).run(as_of=AS_OF).ok
    return settings


def test_the_report_csvs_are_inert(synced: Settings, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        people = render_agency(session, synced, "a-pd", AS_OF, NOW).csv
        agencies = render_hub(session, synced, AS_OF, NOW).csv
    names = [row[1] for row in inert(people or "")[1:]]
    assert sorted(names) == sorted(
        ["'" + LINK + " Lee", "'+1+1 Ray", "'@SUM(A1) Kim", "'-2+3 Orr", "'=1 Fox", "'\uff1d1+1 Wu"]
    )
    assert inert(agencies or "")[1][1] == "'" + LINK


def test_the_mapping_export_is_inert_and_imports_back_unchanged(
    synced: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    hostile = RuleSpec("course_key", "=1+1", None, "-1+1 because", "@staff", priority=-5)
    with sessions.begin() as session:
        add_rule(session, hostile, NOW, AS_OF)
        exported = exchange.export_rules(session)
    text = exchange.dump(exported, "csv")
    rows = [dict(zip(exchange.FIELDS, row, strict=True)) for row in inert(text)[1:]]
    row = next(r for r in rows if r["match"] == "course_key" and r["author"] == "'@staff")
    assert (row["pattern"], row["priority"], row["reason"]) == ("'=1+1", "'-5", "'-1+1 because")
    path = tmp_path / "rules.csv"
    path.write_text(text, encoding="utf-8")
    with sessions.begin() as session:
        again = exchange.import_rules(session, exchange.load(path), "rules.csv", "x", NOW, AS_OF)
    assert (again.added, again.conflicts) == ([], [])
    assert again.unchanged == len(exported)
