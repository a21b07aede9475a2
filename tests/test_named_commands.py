"""Every `onemind …` command that a report, an e-mail or a message tells someone to run exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from onemind.cli import cli

PACKAGE = Path(__file__).resolve().parent.parent
SKIPPED = {"tests", "bench", ".venv", ".git", "onemind_sync.egg-info"}
# A command as text shows it: quoted, in backticks or <code>, or after a shell pipe.
NAMED = re.compile(r"""(?:[`'"]|<code>|\| )onemind((?: [a-z][a-z-]*)+)""")


def sources() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*")
        if path.suffix in (".py", ".j2")
        and not SKIPPED.intersection(path.relative_to(PACKAGE).parts)
    )


def named_commands() -> dict[tuple[str, ...], str]:
    """Each command path named in the package's source and templates, with where it is."""
    found: dict[tuple[str, ...], str] = {}
    for path in sources():
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            for match in NAMED.finditer(line):
                found.setdefault(tuple(match.group(1).split()), f"{path.name}:{number}")
    return found


def command_path(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words that name a command; those after a command that has no subcommands are
    its arguments. An unknown subcommand fails the test."""
    group: click.Command = cli
    path: list[str] = []
    for word in words:
        if not isinstance(group, click.Group):
            break
        assert word in group.commands, f"no command 'onemind {' '.join([*path, word])}'"
        group = group.commands[word]
        path.append(word)
    return tuple(path)


def test_the_sources_name_commands() -> None:
    assert {("mapping", "queue"), ("init",), ("demo",)} <= set(named_commands())


@pytest.mark.parametrize(
    ("words", "where"),
    [pytest.param(w, where, id=" ".join(w)) for w, where in sorted(named_commands().items())],
)
def test_each_named_command_exists_and_has_help(words: tuple[str, ...], where: str) -> None:
    path = command_path(words)
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, f"{where}: onemind {' '.join(words)}: {result.output}"
    assert "Usage: " in result.output
