"""`onemind check`: each source's checks, what is missing, and exit 1 when one is not usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from cli_run import onemind
from fixtures.canvas import fake as canvas_fake
from fixtures.moodle import fake as moodle_fake
from lrs_server import LrsServer

ROSTER = "agency,employee_id,first_name,last_name,sworn,hired_on\na-pd,1,Ann,Lee,true,2020-01-01\n"
NO_DATES = "employee_id,course_id\n1,CIT-40\n"
CONFIG = f"""
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

[[sources]]
name = "statements"
kind = "xapi-file"
path = "statements.json"

[[sources]]
name = "moodle"
kind = "moodle"
base_url = "{moodle_fake.BASE}"
token = "env:MOODLE_TOKEN"
course_ids = [12, 15]
max_retries = 0

[[sources]]
name = "canvas"
kind = "canvas"
base_url = "{canvas_fake.BASE}"
token = "env:CANVAS_TOKEN"
course_ids = [101, 102]
max_retries = 0
"""
LRS_SOURCE = """
[[sources]]
name = "lrs"
kind = "xapi"
endpoint = "{endpoint}"
username = "{username}"
password = "env:LRS_PASSWORD"
max_retries = 0
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(NO_DATES)
    path = tmp_path / "onemind.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("MOODLE_TOKEN", moodle_fake.TOKEN)
    monkeypatch.setenv("CANVAS_TOKEN", canvas_fake.TOKEN)
    return path


def checked(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict[str, Any]:
    code, out, _ = onemind(capsys, "--config", str(config), "check", "--json", *args)
    return {"exit": code, **{s["name"]: s for s in json.loads(out)}}


def serve_moodle_and_canvas() -> None:
    moodle_fake.reply("core_webservice_get_site_info", fixture="site_info")
    moodle_fake.reply("core_course_get_courses_by_field", fixture="courses_by_ids")
    people = moodle_fake.body("enrolled_users_12_page1")[:1]
    moodle_fake.reply("core_enrol_get_enrolled_users", people, courseid=12)
    responses.get(f"{canvas_fake.API}/users/self", json=canvas_fake.body("user_self"))
    canvas_fake.course(101)
    responses.get(
        f"{canvas_fake.API}/courses/102", status=404, json=canvas_fake.body("error_not_found")
    )


@responses.activate(assert_all_requests_are_fired=True)
def test_each_source_says_what_works_and_what_is_missing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_moodle_and_canvas()
    found = checked(capsys, config)
    assert found["exit"] == 1
    assert {name: s["ok"] for name, s in found.items() if name != "exit"} == {
        "roster": True,
        "completions": False,
        "statements": False,
        "moodle": True,
        "canvas": False,
    }
    assert [(c["name"], c["status"]) for c in found["roster"]["checks"]] == [
        ("file", "ok"),
        ("columns", "ok"),
    ]
    [problem] = found["completions"]["problems"]
    assert problem.startswith("columns: ") and "lacks column(s) completed_on" in problem
    assert found["statements"]["kind"] == "xapi-file"
    assert "statements.json does not exist" in found["statements"]["problems"][0]
    assert [c["status"] for c in found["moodle"]["checks"]] == ["ok", "ok"]
    assert [c["status"] for c in found["canvas"]["checks"]] == ["ok", "failed"]
    assert "no course 102" in found["canvas"]["problems"][0]


@responses.activate(assert_all_requests_are_fired=True)
def test_the_text_report_marks_each_check(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serve_moodle_and_canvas()
    code, out, _ = onemind(capsys, "--config", str(config), "check")
    assert code == 1
    lines = out.splitlines()
    assert "roster (csv): usable" in lines
    assert "completions (csv): NOT usable" in lines
    assert "  ✓ token: the token is accepted" in lines
    assert any(
        line.startswith("  ✗ courses and permissions: ") and "no course 102" in line
        for line in lines
    )
    assert lines[-1] == "2 of 5 source(s) usable"


def test_a_source_whose_secret_is_not_set_is_reported_not_raised(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANVAS_TOKEN")
    found = checked(capsys, config, "roster", "canvas")
    assert found["exit"] == 1
    assert found["roster"]["ok"]
    assert (found["canvas"]["kind"], found["canvas"]["ok"]) == ("canvas", False)
    [problem] = found["canvas"]["problems"]
    assert (
        problem == "settings: sources['canvas'].token: environment variable CANVAS_TOKEN is not set"
    )


def test_only_the_named_sources_and_exit_0_when_they_are_usable(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = checked(capsys, config, "roster")
    assert set(found) == {"exit", "roster"} and found["exit"] == 0
    code, _, err = onemind(capsys, "--config", str(config), "check", "roster", "nothing")
    assert code == 2 and "no source 'nothing' in [[sources]]" in err


def test_an_lrs_source_against_a_real_lrs(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lrs: LrsServer,
) -> None:
    source = LRS_SOURCE.format(endpoint=lrs.endpoint, username=lrs.username)
    config.write_text(config.read_text() + source)
    monkeypatch.setenv("LRS_PASSWORD", lrs.password)
    found = checked(capsys, config, "lrs")
    assert found["exit"] == 0
    [works] = found["lrs"]["checks"]
    assert works["name"] == "read statements" and works["status"] == "ok"
    monkeypatch.setenv("LRS_PASSWORD", "wrong")
    found = checked(capsys, config, "lrs")
    assert found["exit"] == 1
    assert "refused with 401" in found["lrs"]["problems"][0]
