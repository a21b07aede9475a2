"""Migration 0010: a stored false stays false only where the roster row said so."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from onemind.config import parse_settings
from onemind.store.db import alembic_config
from onemind.store.models import Employment
from onemind.sync.runner import SyncRunner

REVISION = "0010"
ROSTER = """agency,employee_id,first_name,last_name,sworn,position,selected,hired_on
a-pd,1,Ann,Lee,false,Dispatcher,,2020-01-01
a-pd,2,Bob,Ray,false,Dispatcher,false,2020-01-01
a-pd,3,Cat,Kim,false,Dispatcher,No,2020-01-01
a-pd,4,Dan,Fox,false,Records Clerk,yes,2020-01-01
a-pd,5,Eve,Orr,true,Officer,,2020-01-01
"""
CONFIG = """
[[agencies]]
id = "a-pd"
name = "A Police Department"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"
"""


def selected_by_id(sessions: sessionmaker[Session]) -> dict[str, bool | None]:
    with sessions() as session:
        rows = session.execute(select(Employment.employee_id, Employment.selected))
        return dict(rows.all())


def test_blank_flags_stored_as_false_become_blank_again(
    tmp_path: Path, engine: Engine, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    settings = parse_settings(tomllib.loads(CONFIG), tmp_path / "onemind.toml")
    assert SyncRunner(settings, sessions, lambda: now).run(as_of=date(2026, 11, 26)).ok
    expected = {"1": None, "2": False, "3": False, "4": True, "5": None}
    assert selected_by_id(sessions) == expected

    config = alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    command.downgrade(config, str(before))
    assert selected_by_id(sessions) == {"1": False, "2": False, "3": False, "4": True, "5": False}
    command.upgrade(config, "head")
    assert selected_by_id(sessions) == expected
