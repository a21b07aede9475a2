"""Every date option is one type: a `date` inside, DATE in help, its own name in each error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from onemind.cli import cli

DATE_OPTIONS = [
    ("sync", "--as-of"),
    ("coverage", "--as-of"),
    ("demo", "--as-of"),
    ("report", "--as-of"),
    ("mapping import", "--as-of"),
    ("mapping explain", "--as-of"),
    ("mapping approve", "--as-of"),
    ("mapping add", "--from"),
    ("mapping add", "--until"),
    ("mapping edit", "--from"),
    ("mapping edit", "--until"),
    ("mapping retire", "--as-of"),
]

COMMANDS = {  # the arguments each command needs besides the date
    "mapping explain": ["someone"],
    "mapping approve": ["1", "--category", "cit", "--reason", "r"],
    "mapping add": ["--title-pattern", "crisis", "--category", "cit", "--reason", "r"],
    "mapping edit": ["1", "--reason", "r"],
    "mapping retire": ["1", "--reason", "r"],
}


def find(command: str) -> click.Command:
    found: click.Command = cli
    for part in command.split():
        assert isinstance(found, click.Group)
        found = found.commands[part]
    return found


def option(command: str, name: str) -> click.Option:
    params = find(command).params
    return next(p for p in params if isinstance(p, click.Option) and name in p.opts)


@pytest.mark.parametrize(("command", "name"), DATE_OPTIONS)
def test_date_option_converts_and_shows_as_date(command: str, name: str) -> None:
    param = option(command, name)
    assert param.type.convert("2026-11-26", param, None) == date(2026, 11, 26)
    assert param.make_metavar(click.Context(cli)) == "DATE"


@pytest.mark.parametrize(("command", "name"), DATE_OPTIONS)
def test_bad_date_names_its_option(command: str, name: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: []\n")
    needed = [str(rules)] if command == "mapping import" else COMMANDS.get(command, [])
    # the command alone: the group would configure this process's logging
    result = CliRunner().invoke(find(command), [*needed, name, "26/11/2026"])
    assert result.exit_code == 2
    assert f"Invalid value for '{name}': '26/11/2026' is not a date (YYYY-MM-DD)" in result.output


def test_an_impossible_month_names_the_option() -> None:
    result = CliRunner().invoke(
        find("mapping add"), [*COMMANDS["mapping add"], "--from", "2025-13-01"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--from': '2025-13-01' is not a date (YYYY-MM-DD)" in result.output
