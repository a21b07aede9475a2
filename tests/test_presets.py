"""Vendor-export presets for csv/xlsx sources: built-in ones, user-defined ones, their checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from onemind.config import TabularSourceConfig, load_settings, parse_settings
from onemind.config.presets import BUILT_IN
from onemind.connectors.tabular import TabularConnector
from onemind.domain.records import Checkpoint, CompletionRecord, Rejected
from onemind.errors import ConfigurationError

VECTOR = """First Name,Last Name,Employee ID,Credential,Start Date,Expiration Date,Credential Number,Days to Expiration,Notes,Status
Ann,Lee,SPD-0101,Mental Health First Aid,03/15/2024,03/15/2027,MH-88121,475,,Active
Bo,Ray,SPD-0102,Crisis Intervention Team (CIT),01/10/2019,01/10/2022,CIT-1201,-1450,Lapsed,Expired
Cy,Orr,SPD-0103,Crisis Intervention Team (CIT),11/02/2025,,CIT-1300,,Awaiting roster,Pending Approval
Di,Fox,SPD-0104,Mental Health First Aid,02/30/2025,02/30/2028,MH-90001,,,active
Ed,Kim,SPD-0105,Mental Health First Aid,06/01/2024,06/01/2027,MH-90002,,Duplicate,Rejected
"""


def source(tmp_path: Path, text: str, **settings: Any) -> TabularConnector:
    path = tmp_path / "export.csv"
    path.write_text(text)
    return TabularConnector(TabularSourceConfig(name="vendor", kind="csv", path=path, **settings))


def test_vector_credentials_count_active_and_expired_and_skip_pending_and_rejected(
    tmp_path: Path,
) -> None:
    items = list(source(tmp_path, VECTOR, preset="vector-credentials").pull(None))
    found = [i for i in items if isinstance(i, CompletionRecord)]
    assert [(r.employee_id, r.course_key, r.completed_on, r.expires_on) for r in found] == [
        ("SPD-0101", "Mental Health First Aid", date(2024, 3, 15), date(2027, 3, 15)),
        ("SPD-0102", "Crisis Intervention Team (CIT)", date(2019, 1, 10), date(2022, 1, 10)),
    ]
    assert found[0].course_title == "Mental Health First Aid"
    assert found[0].provider == "Vector Solutions"
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [(r.location, r.reason) for r in rejected] == [
        ("export.csv:5", "Start Date: '02/30/2025' is not a date (%m/%d/%Y)")
    ]
    assert isinstance(items[-1], Checkpoint)


def test_the_sources_own_settings_win_over_the_presets(tmp_path: Path) -> None:
    text = VECTOR.replace("Employee ID", "Badge").replace("/", "-")
    items = list(
        source(
            tmp_path,
            text,
            preset="vector-credentials",
            columns={"employee_id": "Badge"},
            date_format="%m-%d-%Y",
            provider="TargetSolutions",
            count_only={"column": "Status", "values": ["active"]},
        ).pull(None)
    )
    found = [i for i in items if isinstance(i, CompletionRecord)]
    assert [(r.employee_id, r.completed_on, r.provider) for r in found] == [
        ("SPD-0101", date(2024, 3, 15), "TargetSolutions")
    ]


def test_an_export_without_the_status_column_is_a_configuration_error(tmp_path: Path) -> None:
    text = "\n".join(line.rsplit(",", 1)[0] for line in VECTOR.splitlines()) + "\n"
    [problem] = source(tmp_path, text, preset="vector-credentials").check().problems
    assert problem.endswith("lacks column Status (count_only)")


@pytest.mark.parametrize(
    ("preset", "header", "row", "expected"),
    [
        (
            "training-history",
            "Employee ID,Last Name,Course ID,Course Title,Hours,Completion Date,Provider",
            "SPD-0101,Lee,LE-CIT-40,Crisis Intervention Team,40,04/22/2025,State Academy",
            ("SPD-0101", None, "LE-CIT-40", "Crisis Intervention Team", 40.0, date(2025, 4, 22)),
        ),
        (
            "mhfa-roster",
            "First Name,Last Name,Email,Course Type,Completion Date,Expiration Date",
            "Ann,Lee,ann.lee@springfield.example,Mental Health First Aid for Public Safety,"
            "09/09/2025,09/09/2028",
            (
                None,
                "ann.lee@springfield.example",
                "Mental Health First Aid for Public Safety",
                "Mental Health First Aid for Public Safety",
                None,
                date(2025, 9, 9),
            ),
        ),
    ],
)
def test_training_history_and_mhfa_roster_presets(
    tmp_path: Path, preset: str, header: str, row: str, expected: tuple[Any, ...]
) -> None:
    record = next(iter(source(tmp_path, f"{header}\n{row}\n", preset=preset).pull(None)))
    assert isinstance(record, CompletionRecord)
    got = (
        record.employee_id,
        record.email,
        record.course_key,
        record.course_title,
        record.hours,
        record.completed_on,
    )
    assert got == expected


def test_presets_work_for_xlsx_exports_too(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["Employee ID", "Credential", "Start Date", "Expiration Date", "Status"])
    book.active.append(["SPD-0101", "CRIT", "05/05/2025", None, "Current"])
    path = tmp_path / "vector.xlsx"
    book.save(path)
    config = TabularSourceConfig(name="v", kind="xlsx", path=path, preset="vector-credentials")
    record = next(iter(TabularConnector(config).pull(None)))
    assert isinstance(record, CompletionRecord)
    assert (record.course_key, record.completed_on, record.expires_on) == (
        "CRIT",
        date(2025, 5, 5),
        None,
    )


CONFIG = """
[[agencies]]
id = "springfield-pd"
name = "Springfield Police Department"

[presets.county-lms]
columns = {employee_id = "Badge", course_id = "Class", completed_on = "Passed On"}
date_format = "%d.%m.%Y"
count_only = {column = "Result", values = ["Pass"]}

[[sources]]
name = "county"
kind = "csv"
path = "county.csv"
preset = "county-lms"
agency = "springfield-pd"

[[sources]]
name = "vector"
kind = "csv"
path = "vector.csv"
preset = "vector-credentials"
"""


def test_a_user_defined_preset_is_chosen_by_name_in_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "onemind.toml").write_text(CONFIG)
    (tmp_path / "county.csv").write_text(
        "Badge,Class,Passed On,Result\n7,CIT,01.02.2026,Pass\n8,CIT,01.02.2026,Fail\n"
    )
    settings = load_settings(tmp_path / "onemind.toml")
    county, vector = settings.sources
    assert isinstance(county, TabularSourceConfig) and isinstance(vector, TabularSourceConfig)
    assert (county.role, county.date_format) == ("completions", "%d.%m.%Y")
    assert vector.columns == BUILT_IN["vector-credentials"]["columns"]
    records = [i for i in TabularConnector(county).pull(None) if isinstance(i, CompletionRecord)]
    assert [(r.employee_id, r.course_key, r.completed_on) for r in records] == [
        ("7", "CIT", date(2026, 2, 1))
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '[[sources]]\nname = "x"\nkind = "csv"\npath = "x.csv"\npreset = "acadis"',
            "line 1: sources['x']: unknown preset 'acadis' (built in: mhfa-roster, training-history, "
            "vector-credentials; or define [presets.acadis])",
        ),
        (
            '[[sources]]\nname = "x"\nkind = "csv"\nrole = "roster"\npath = "x.csv"\n'
            'preset = "mhfa-roster"',
            "preset 'mhfa-roster' is for completions files, not roster",
        ),
        (
            '[presets.mine]\ncolumns = {badge = "Badge"}\n',
            "presets.mine: columns: badge not among the completions fields",
        ),
        (
            '[presets.mine]\nrole = "completions"\n[[sources]]\nname = "x"\nkind = "csv"\n'
            'role = "roster"\npath = "x.csv"\npreset = "mine"',
            "sources['x']: preset 'mine' is for completions files, not roster",
        ),
    ],
    ids=["unknown", "wrong-role", "bad-user-preset", "user-preset-wrong-role"],
)
def test_preset_mistakes_are_reported_at_load(tmp_path: Path, snippet: str, expected: str) -> None:
    (tmp_path / "onemind.toml").write_text(snippet + "\n")
    with pytest.raises(ConfigurationError, match="problem") as caught:
        load_settings(tmp_path / "onemind.toml")
    assert expected in str(caught.value)


def test_every_built_in_preset_is_a_valid_source_setting(tmp_path: Path) -> None:
    for name in BUILT_IN:
        raw = {"sources": [{"name": "s", "kind": "csv", "path": "x.csv", "preset": name}]}
        settings = parse_settings(raw, tmp_path / "x.toml", environ={})
        assert getattr(settings.sources[0], "preset", None) == name
