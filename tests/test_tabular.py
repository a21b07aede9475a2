"""CSV and XLSX sources: column maps, parsing, and a clear reason for every bad row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from onemind.config import TabularSourceConfig
from onemind.connectors.tabular import TabularConnector
from onemind.domain.records import (
    Checkpoint,
    CompletionRecord,
    CompletionRow,
    Rejected,
    RosterEntry,
    RosterRow,
)
from onemind.errors import ConfigurationError

ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,7,Ann,Lee,Ann.Lee@A.example,true,Officer,,2020-01-02,
a-pd,8,Bo,Ray,,false,Dispatcher,yes,2021-03-04,2025-01-01
a-pd,9,Cy,Orr,,maybe,Officer,,2020-01-01,
a-pd,10,Di,Fox,,true,Officer,,2020-01-01,2019-01-01
"""


def connector(tmp_path: Path, text: str, role: str = "roster", **extra: object) -> TabularConnector:
    path = tmp_path / "file.csv"
    path.write_text(text)
    config = TabularSourceConfig(name="src", kind="csv", role=role, path=path, **extra)
    return TabularConnector(config)


def test_roster_rows_parse_and_bad_rows_are_rejected_with_line_and_field(tmp_path: Path) -> None:
    items = list(connector(tmp_path, ROSTER).pull(None))
    entries = [i for i in items if isinstance(i, RosterEntry)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [e.employee_id for e in entries] == ["7", "8"]
    ann, bo = entries
    assert (ann.sworn, ann.hired_on, ann.separated_on, ann.email) == (
        True,
        date(2020, 1, 2),
        None,
        "Ann.Lee@A.example",
    )
    assert (bo.sworn, bo.selected, bo.separated_on) == (False, True, date(2025, 1, 1))
    assert [(r.location, r.reason) for r in rejected] == [
        ("file.csv:4", "sworn: 'maybe' is not true/false"),
        ("file.csv:5", "separated_on: 2019-01-01 is before hired_on 2020-01-01"),
    ]
    assert isinstance(items[-1], Checkpoint)


@pytest.mark.parametrize(
    ("cell", "selected"),
    [("", None), ("  ", None), ("false", False), ("no", False), ("0", False), ("yes", True)],
)
def test_a_blank_selected_is_told_apart_from_an_explicit_false(
    tmp_path: Path, cell: str, selected: bool | None
) -> None:
    text = ROSTER.splitlines()[0] + f"\na-pd,8,Bo,Ray,,false,Dispatcher,{cell},2021-03-04,\n"
    [entry, _] = list(connector(tmp_path, text).pull(None))
    assert isinstance(entry, RosterEntry)
    assert entry.selected is selected


def test_unchanged_file_yields_nothing(tmp_path: Path) -> None:
    source = connector(tmp_path, ROSTER)
    checkpoint = list(source.pull(None))[-1]
    assert isinstance(checkpoint, Checkpoint)
    assert list(source.pull(checkpoint.cursor)) == []


def test_column_map_and_date_format(tmp_path: Path) -> None:
    text = "Badge,Mail,Course,Title,Done\n42,,C1,Adult Mental Health First Aid,03/15/2024\n"
    source = connector(
        tmp_path,
        text,
        role="completions",
        date_format="%m/%d/%Y",
        columns={
            "employee_id": "Badge",
            "email": "Mail",
            "course_id": "Course",
            "course_title": "Title",
            "completed_on": "Done",
        },
    )
    record = next(iter(source.pull(None)))
    assert isinstance(record, CompletionRecord)
    assert (record.employee_id, record.course_key, record.completed_on) == (
        "42",
        "C1",
        date(2024, 3, 15),
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("1,,C,T,,eight,2024-01-01,", "hours: 'eight' is not a number of hours"),
        ("1,,C,T,,8,2026-13-45,", "completed_on: '2026-13-45' is not a date (YYYY-MM-DD)"),
        (",,C,T,,8,2024-01-01,", "employee_id/email: neither identifies the person"),
        ("1,,,T,,8,2024-01-01,", "course_id: missing"),
        ("1,,C,T,,8,2024-01-01,soon", "expires_on: 'soon' is not a date (YYYY-MM-DD)"),
    ],
)
def test_completion_row_reasons(tmp_path: Path, row: str, reason: str) -> None:
    header = "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
    items = list(connector(tmp_path, header + row + "\n", role="completions").pull(None))
    assert items[0] == Rejected("file.csv:2", reason, items[0].payload)


def test_missing_required_column_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="lacks column"):
        list(connector(tmp_path, "employee_id,first_name\n1,Ann\n").pull(None))


def test_xlsx_roster(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Staff"
    sheet.append(["Employee ID", "First", "Last", "Sworn", "Hired"])
    sheet.append([1001, "Ann", "Lee", True, date(2019, 5, 6)])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    config = TabularSourceConfig(
        name="x",
        kind="xlsx",
        role="roster",
        path=path,
        sheet="Staff",
        agency="a-pd",
        columns={
            "employee_id": "Employee ID",
            "first_name": "First",
            "last_name": "Last",
            "sworn": "Sworn",
            "hired_on": "Hired",
        },
    )
    entry = next(iter(TabularConnector(config).pull(None)))
    assert isinstance(entry, RosterEntry)
    assert (entry.agency, entry.employee_id, entry.hired_on, entry.location) == (
        "a-pd",
        "1001",
        date(2019, 5, 6),
        "roster.xlsx:2",
    )


def test_repeated_dates_and_hours_parse_alike_on_every_row(tmp_path: Path) -> None:
    """A connector remembers the values it parsed: a value seen again gives what it gave, a
    bad one is rejected again, and values Python holds equal but of other types (1, 1.0,
    True in a workbook) are parsed each as itself."""
    book = Workbook()
    sheet = book.active
    sheet.append(["employee_id", "course_id", "hours", "completed_on"])
    for employee, hours, done in [
        ("1", 1, "2024-01-01"),
        ("2", True, "2024-01-01"),
        ("3", 1.0, "2024-01-01"),
        ("4", 1, "2024-13-01"),
        ("5", 1, "2024-13-01"),
        ("6", 1, date(2024, 1, 1)),
    ]:
        sheet.append([employee, "C1", hours, done])
    path = tmp_path / "completions.xlsx"
    book.save(path)
    config = TabularSourceConfig(
        name="x", kind="xlsx", role="completions", path=path, agency="a-pd"
    )
    items = [i for i in TabularConnector(config).pull(None) if not isinstance(i, Checkpoint)]
    got = [
        (i.hours, i.completed_on) if isinstance(i, CompletionRecord) else i.reason for i in items
    ]
    assert got == [
        (1.0, date(2024, 1, 1)),
        "hours: True is not a number of hours",
        (1.0, date(2024, 1, 1)),
        "completed_on: '2024-13-01' is not a date (YYYY-MM-DD)",
        "completed_on: '2024-13-01' is not a date (YYYY-MM-DD)",
        (1.0, date(2024, 1, 1)),
    ]


@pytest.mark.parametrize(
    ("role", "text", "keys"),
    [
        ("roster", "".join(ROSTER.splitlines(keepends=True)[:3]), ["a-pd:7", "a-pd:8"]),
        (
            "roster",
            "employee_id,first_name,last_name,sworn,hired_on,agency\n7,A,L,true,2020-01-02\n",
            ["a-pd:7"],
        ),
        (
            "completions",
            "email,course_id,completed_on,agency\nA@B.example,CIT-40,2024-01-01,b-pd\n",
            ["b-pd:a@b.example:CIT-40:2024-01-01"],
        ),
        (
            "completions",
            "course_id,hours,completed_on,employee_id\nCIT-40,40, 2024-01-01 , 7 \n",
            ["a-pd:7:CIT-40:2024-01-01"],
        ),
        (
            "completions",
            "employee_id,course_id,completed_on,hours\n7,CIT-40,2024-01-01\n",
            ["a-pd:7:CIT-40:2024-01-01"],
        ),
    ],
)
def test_a_row_keyed_unparsed_is_keyed_and_digested_as_its_record(
    tmp_path: Path, role: str, text: str, keys: list[str]
) -> None:
    """A row is keyed and digested from its cells as read, and parsed later: with or without
    the optional columns, in any order, its cells spaced or short of the header, the key is
    the record's and the digest is of the cells its record keeps."""
    source = connector(tmp_path, text, role=role, agency="a-pd")
    rows = [r for r in source.pull_rows(None) if isinstance(r, RosterRow | CompletionRow)]
    assert [r.external_id for r in rows] == keys
    for row in rows:
        record = row.parse()
        assert isinstance(record, RosterEntry | CompletionRecord), record
        assert (record.external_id, record.location) == (row.external_id, row.location)
        assert row.digest == source._digest(list(record.payload.values()))
