"""A sync ends by refreshing PostgreSQL's statistics of the tables it changed much, so that
what runs next (its recompute, the reports sent after it) is not planned for the tables as they
were before the load."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS_HEADER, ROSTER, make_settings, run

from onemind.store.statistics import refresh_statistics

FILLED = ("raw_record", "person", "person_identifier", "employment", "completion")
"""The tables the roster's and the completions' loads grow."""


def completions(count: int) -> str:
    return COMPLETIONS_HEADER + "".join(
        f"{1 + n % 5},,CIT-40,CIT Basic 40-Hour,,40,2024-01-{1 + n:02d},\n" for n in range(count)
    )


def held(session: Session, table: str) -> tuple[float, int]:
    """PostgreSQL's estimate of the table's rows (-1: never analysed), and its rows."""
    estimate = session.scalar(
        text("SELECT reltuples FROM pg_class WHERE relname = :name"), {"name": table}
    )
    return estimate, session.scalar(text(f"SELECT count(*) FROM {table}"))


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_sync_leaves_the_tables_it_filled_analysed(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(completions(20))
    with sessions() as session:
        assert all(held(session, t)[0] < 0 for t in FILLED)  # emptied: never analysed
    assert run(make_settings(tmp_path), sessions, now).ok
    with sessions() as session:
        estimates = {table: held(session, table) for table in FILLED}
    assert estimates == {
        "raw_record": (25, 25),
        "person": (5, 5),
        "person_identifier": (10, 10),
        "employment": (5, 5),
        "completion": (20, 20),
    }


def test_a_table_is_analysed_once_a_tenth_of_it_was_written(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(completions(20))
    assert run(make_settings(tmp_path), sessions, now).ok
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    with sessions() as session:
        assert refresh_statistics(session, {"completion": 2, "employment": 0}) == []
        analysed = refresh_statistics(session, {"completion": 3, "agency": 0})
        assert analysed == (["completion"] if postgres else [])
