"""`onemind certificates list | verify` for staff: names and agencies shown, filters, hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_certificates_cli import CONFIG, onemind

ROSTER = """agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on
a-pd,1,Zoe,Adams,zoe@a.example,true,Officer,,2015-01-01,
a-pd,2,Ann,Br[red]own,ann@a.example,true,Officer,,2015-01-01,
b-pd,7,Cy,Chen,cy@b.example,true,Officer,,2015-01-01,
"""
COMPLETIONS = """employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on
7,,CIT-40,Crisis Intervention Team (CIT) 40-Hour,,40,2024-01-01,
1,,CIT-40,Crisis Intervention Team (CIT) 40-Hour,,40,2024-01-01,
2,,MHFA-PS,Mental Health First Aid for Public Safety,,8,2024-02-01,
"""
B_PD = '\n[[agencies]]\nid = "b-pd"\nname = "B PD"\n'


def synced(tmp_path: Path, config: str) -> Path:
    (tmp_path / "onemind.toml").write_text(config + B_PD)
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    assert onemind("init", cwd=tmp_path).returncode == 0
    assert onemind("sync", cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced(tmp_path_factory.mktemp("issued"), CONFIG)


def listed(directory: Path, *filters: str) -> list[tuple[str, list[str], str | None, str]]:
    result = onemind("certificates", "list", "--json", *filters, cwd=directory)
    assert result.returncode == 0, result.stderr
    return [(r["name"], r["agencies"], r["tier"], r["status"]) for r in json.loads(result.stdout)]


def test_without_a_certificates_section_list_says_how_to_turn_them_on(tmp_path: Path) -> None:
    config = CONFIG[: CONFIG.index("[certificates]")]
    result = onemind("certificates", "list", cwd=synced(tmp_path, config))
    assert result.returncode == 0
    assert result.stdout == "no credentials\n"
    assert "certificates are not configured: add a [certificates] section" in result.stderr
    assert "then `onemind sync` issues them" in result.stderr


def test_list_names_holders_and_agencies_by_issue_date_then_name(issued: Path) -> None:
    assert listed(issued) == [
        ("Zoe Adams", ["a-pd"], "crisis", "active"),
        ("Ann Br[red]own", ["a-pd"], "mh", "active"),
        ("Cy Chen", ["b-pd"], "crisis", "active"),
    ]
    table = subprocess.run(
        [sys.executable, "-m", "onemind", "certificates", "list"],
        cwd=issued,
        env={**os.environ, "ONEMIND_TEST_KEY": "pass-phrase", "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "Ann Br[red]own" in table, "names are shown as written, never as markup"
    assert table.index("Zoe Adams") < table.index("Ann Br[red]own") < table.index("Cy Chen")


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        (["--agency", "b-pd"], ["Cy Chen"]),
        (["--person", "ANN@a.example"], ["Ann Br[red]own"]),
        (["--person", "7"], ["Cy Chen"]),
        (["--tier", "crisis", "--agency", "a-pd"], ["Zoe Adams"]),
        (["--state", "revoked"], []),
        (["--status", "active", "--tier", "mh"], ["Ann Br[red]own"]),
    ],
)
def test_list_filters(issued: Path, filters: list[str], names: list[str]) -> None:
    assert [name for name, *_ in listed(issued, *filters)] == names


def test_an_unknown_agency_or_person_is_named(issued: Path) -> None:
    agency = onemind("certificates", "list", "--agency", "c-pd", cwd=issued)
    assert agency.returncode == 2
    assert "no agency 'c-pd' in the store" in agency.stderr
    assert "known: a-pd, b-pd" in agency.stderr
    person = onemind("certificates", "list", "--person", "nobody@x.example", cwd=issued)
    assert person.returncode == 2 and "no person with id, email or employee id" in person.stderr


def test_the_credential_itself_stays_anonymous(issued: Path) -> None:
    [row] = json.loads(
        onemind("certificates", "list", "--json", "--person", "zoe@a.example", cwd=issued).stdout
    )
    shown = onemind("certificates", "show", row["id"], cwd=issued)
    signed = json.dumps(json.loads(shown.stdout)["credential"])
    assert json.loads(shown.stdout)["state"]["name"] == "Zoe Adams"
    assert "Zoe" not in signed and "Adams" not in signed and "zoe@a.example" not in signed


def test_verify_points_from_the_json_to_the_jwt_and_takes_a_crlf_jwt(issued: Path) -> None:
    out = issued / "export"
    assert onemind("certificates", "export", str(out), cwd=issued).returncode == 0
    decoded = sorted(
        p for p in out.glob("*.json") if p.name not in ("jwks.json", "revocations.json")
    )[0]
    result = onemind("certificates", "verify", str(decoded), cwd=issued)
    assert result.returncode == 2
    assert (
        f"{decoded.name} is a credential's decoded JSON, which carries no signature: "
        f"verify {decoded.with_suffix('.jwt')} beside it"
    ) in result.stderr
    token = decoded.with_suffix(".jwt")
    token.write_text(token.read_text().strip() + "\r\n")
    good = onemind("certificates", "verify", str(token), cwd=issued)
    assert good.returncode == 0 and "valid: urn:uuid:" in good.stdout
