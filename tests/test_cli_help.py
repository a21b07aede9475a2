"""Every command explains itself: help on each option, examples that name real commands."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from onemind.cli import cli
from onemind.cli.options import DateType


def walk(group: click.Group, path: str = "onemind") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = [(path, group)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += walk(command, f"{path} {name}")
        else:
            found.append((f"{path} {name}", command))
    return found


COMMANDS = walk(cli)
IDS = [path for path, _ in COMMANDS]


def resolves(words: list[str]) -> str:
    """The longest command path an example names, past a pipe and `onemind`'s own options."""
    words = words[words.index("onemind") + 1 :]
    valued = {
        o for p in cli.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts
    }
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in valued else words[1:]
    command: click.Command = cli
    path = ["onemind"]
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return " ".join(path)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_has_help(path: str, command: click.Command) -> None:
    bare = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert bare == [], f"{path}: options without help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_shows_examples_of_itself(path: str, command: click.Command) -> None:
    _, heading, examples = (command.epilog or "").partition("Examples:\n")
    assert heading, f"{path} has no examples"
    lines = [line.split() for line in examples.splitlines() if line.strip()]
    assert lines, f"{path} has no examples"
    for words in lines:
        named = resolves(words)
        assert named.startswith(path) and named != "onemind", f"{' '.join(words)}: not {path}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_dates_are_dates(path: str, command: click.Command) -> None:
    named_like_dates = [
        p
        for p in command.params
        if isinstance(p, click.Option)
        and any(o.endswith(("-of", "-from", "from", "until", "since", "date")) for o in p.opts)
    ]
    for option in named_like_dates:
        assert isinstance(option.type, DateType), f"{path} {option.opts[0]}"


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "onemind", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"onemind, version {version('onemind-sync')}\n"
