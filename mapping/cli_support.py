"""What the mapping commands share: the acting user, dates, and a dry-runnable transaction."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click
from sqlalchemy.orm import Session

from onemind.store.db import open_store


def author() -> str:
    return os.environ.get("ONEMIND_USER") or getpass.getuser()


@contextmanager
def transaction(ctx: Any, dry_run: bool = False) -> Iterator[Session]:
    """A transaction that commits, or rolls back for a dry run."""
    sessions = open_store(ctx.settings().store.url)
    with sessions() as session:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()


def parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
