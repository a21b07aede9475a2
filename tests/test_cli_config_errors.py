"""What a user sees when a secret is unset, an id is mistyped or a source fails: one line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import onemind

CONFIG = """\
[store]
url = "sqlite:///onemind.db"

[[agencies]]
id = "springfield-pd"
name = "Springfield Police Department"

[[sources]]
name = "springfield-roster"
kind = "csv"
role = "roster"
path = "missing.csv"
agency = "springfield-pd"

[[sources]]
name = "academy-moodle"
kind = "moodle"
base_url = "https://moodle.academy.example"
token = "env:MOODLE_TOKEN"
course_ids = [12]
"""


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOODLE_TOKEN", raising=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("unset-secret")
    (directory / "onemind.toml").write_text(CONFIG)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MOODLE_TOKEN", raising=False)
        result = onemind("init", cwd=directory)
    assert result.returncode == 0, result.stderr
    return directory


def test_commands_that_do_not_use_a_source_need_not_its_secret(folder: Path) -> None:
    for command in (["mapping", "list"], ["coverage", "--json"], ["runs"]):
        result = onemind(*command, cwd=folder)
        assert result.returncode == 0, (command, result.stderr)
        assert "MOODLE_TOKEN" not in result.stderr


def test_syncing_the_source_names_its_unset_secret_once(folder: Path) -> None:
    result = onemind("sync", "academy-moodle", cwd=folder)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: sources['academy-moodle'].token: environment variable MOODLE_TOKEN is not set"
    ]
    assert "MOODLE_TOKEN" not in result.stdout


def test_a_failed_source_is_reported_in_one_line(folder: Path) -> None:
    result = onemind("sync", "springfield-roster", cwd=folder)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).count("does not exist") == 1
    assert result.stderr.strip() == (
        f"error: source 'springfield-roster': file {folder.resolve() / 'missing.csv'} does not "
        "exist"
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ["sync", "springfield-rooster"],
            "error: no source 'springfield-rooster' in [[sources]] (did you mean "
            "'springfield-roster'?); known: academy-moodle, springfield-roster",
        ),
        (
            ["coverage", "--agency", "springfield"],
            "error: no agency 'springfield' in the store (did you mean 'springfield-pd'?); "
            "known: springfield-pd",
        ),
    ],
    ids=["source", "agency"],
)
def test_an_unknown_id_lists_the_known_ones(
    folder: Path, command: list[str], expected: str
) -> None:
    result = onemind(*command, cwd=folder)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(expected)
