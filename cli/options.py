"""Option types shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click


class DateType(click.ParamType):
    """A calendar date written YYYY-MM-DD; a bad value is reported with the option's name."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DATE = DateType()


def as_of_option(help: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--as-of DATE`: the date a command works for (the command defaults it to today)."""
    return click.option("--as-of", type=DATE, help=help)


def examples(*lines: str) -> str:
    """A command's epilog: example invocations, kept on their own lines in `--help`."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)
