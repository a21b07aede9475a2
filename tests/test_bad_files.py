"""Files that are not what their source says: one clear line naming the file, or one bad row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from onemind.config import TabularSourceConfig, XapiFileSourceConfig
from onemind.connectors import sheets
from onemind.connectors.tabular import TabularConnector
from onemind.connectors.xapi_file import XapiFileConnector
from onemind.domain.records import CompletionRecord, Rejected
from onemind.errors import ConfigurationError, SourceError

HEADER = "employee_id,course_id,course_title,completed_on"
ROWS = "1,CIT-40,Crisis Intervention Team,2024-01-01\n2,MHFA,Mental Health First Aid,2025-01-01\n"
STATEMENT = {
    "id": "0b5e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    "actor": {"mbox": "mailto:ann@a.example"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "https://lms.example/cit"},
    "timestamp": "2025-05-05T12:00:00Z",
}


def source(path: Path, kind: str = "csv", **extra: object) -> TabularConnector:
    config = TabularSourceConfig(name="src", kind=kind, role="completions", path=path, **extra)
    return TabularConnector(config)


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


# --- Repeated header columns ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("employee_id,course_id,course_title,completed_on,completed_on", "completed_on"),
        ("employee_id,Course_ID,course_title,completed_on,course_id", "course_id"),
    ],
)
def test_a_repeated_column_in_a_csv_header_is_refused(
    tmp_path: Path, header: str, column: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{header}\n1,C1,T,2024-01-01,2024-02-02\n")
    with pytest.raises(ConfigurationError, match=rf"export.csv has the column '{column}' more"):
        list(source(path).pull(None))


def test_a_repeated_column_in_an_xlsx_header_is_refused(tmp_path: Path) -> None:
    header = ["employee_id", "course_id", "completed_on", "course_title", "completed_on"]
    path = workbook(tmp_path / "export.xlsx", [header, ["1", "C1", "2024-01-01", "T", "2024-02"]])
    [problem] = source(path, "xlsx").check().problems
    assert re.search(r"export.xlsx has the column 'completed_on'", problem)


def test_a_repeated_column_the_source_does_not_read_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER},Notes,notes\n1,C1,T,2024-01-01,a,b\n")
    [record, _] = list(source(path).pull(None))
    assert isinstance(record, CompletionRecord)


def test_a_utf16_file_read_as_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"{HEADER}\n{ROWS}".encode("utf-16-le"))
    [problem] = source(path).check().problems
    assert re.search(r"export.csv holds NUL characters; is the file", problem)


# --- Files that are not workbooks, statements nested too deeply ------------------------------


def test_a_csv_renamed_xlsx_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text(f"{HEADER}\n{ROWS}")
    with pytest.raises(SourceError, match=r"export.xlsx: not a readable XLSX workbook \(BadZip"):
        list(source(path, "xlsx").pull(None))


def test_a_truncated_xlsx_is_one_clear_error(tmp_path: Path) -> None:
    rows = [HEADER.split(","), *([str(n), "C1", "T", "2024-01-01"] for n in range(500))]
    path = workbook(tmp_path / "export.xlsx", rows)
    path.write_bytes(path.read_bytes()[:-100])
    [problem] = source(path, "xlsx").check().problems
    assert re.search(r"export.xlsx: not a readable XLSX workbook", problem)


def test_an_xlsx_source_pointing_at_a_csv_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER}\n{ROWS}")
    [problem] = source(path, "xlsx").check().problems
    assert re.search(r"export.csv: openpyxl does not support .csv", problem)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def xapi_file(path: Path) -> XapiFileConnector:
    return XapiFileConnector(XapiFileSourceConfig(name="lrs", kind="xapi-file", path=path))


def test_a_statements_file_nested_too_deeply_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "statements.json"
    path.write_text(f"[{json.dumps(STATEMENT)}, {deep(100_000)}]")
    with pytest.raises(SourceError, match=r"statements.json: JSON nested too deeply to read"):
        list(xapi_file(path).pull(None))


def test_a_json_line_nested_too_deeply_is_rejected_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "statements.jsonl"
    path.write_text(f"{deep(100_000)}\n{json.dumps(STATEMENT)}\n")
    rejected, record, _ = list(xapi_file(path).pull(None))
    assert isinstance(rejected, Rejected) and isinstance(record, CompletionRecord)
    assert rejected.location.startswith("statements.jsonl #1")
    assert "JSON nested too deeply" in rejected.payload["value"]


# --- Fields longer than the CSV reader's default limit --------------------------------------


def test_a_field_over_the_default_csv_limit_costs_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    huge = "x" * 131_073
    path.write_text(f"{HEADER},notes\n1,C1,{huge},2024-01-01,\n2,C2,T,2024-01-01,{huge}\n{ROWS}")
    items = list(source(path).pull(None))
    assert [type(i).__name__ for i in items[:-1]] == ["CompletionRecord"] * 4
    assert len(items[0].course_title) == 131_073 and items[1].course_title == "T"


def test_a_field_over_the_reader_limit_is_rejected_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "FIELD_LIMIT", 1000)
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER}\n1,C1,{'x' * 1001},2024-01-01\n{ROWS}")
    items = list(source(path).pull(None))
    assert isinstance(items[0], Rejected)
    assert (items[0].location, items[0].reason) == (
        "export.csv:2",
        "unreadable row: field larger than field limit (1000)",
    )
    assert [r.course_key for r in items[1:-1]] == ["CIT-40", "MHFA"]
