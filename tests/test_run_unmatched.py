"""Each run records how many completions of its own source no person is linked to, whether one
source holds every completion (counted on an index) or several do (counted by source)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_sync import COMPLETIONS, COMPLETIONS_HEADER, ROSTER, make_settings, run

from onemind.store.models import Source, SyncRun

OTHER_SOURCE = """
[[sources]]
name = "academy"
kind = "csv"
role = "completions"
path = "academy.csv"
"""
ACADEMY = (
    COMPLETIONS_HEADER
    + """,ghost@a.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,ghoul@a.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
,bob@a.example,CIT-40,Crisis Intervention Team (CIT) Basic 40-Hour,,40,2024-01-01,
"""
)


def unmatched_by_source(sessions: sessionmaker[Session]) -> dict[str, list[int | None]]:
    with sessions() as session:
        rows = session.execute(
            select(Source.name, SyncRun.unmatched)
            .join(Source, Source.id == SyncRun.source_id)
            .order_by(SyncRun.id)
        )
        found: dict[str, list[int | None]] = {}
        for name, unmatched in rows:
            found.setdefault(name, []).append(unmatched)
    return found


def test_one_source_holding_every_completion(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    assert run(make_settings(tmp_path), sessions, now).unmatched == 1
    assert unmatched_by_source(sessions) == {"roster": [0], "completions": [1]}


def test_several_sources_holding_completions(
    tmp_path: Path, sessions: sessionmaker[Session], now: datetime
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    (tmp_path / "academy.csv").write_text(ACADEMY)
    settings = make_settings(tmp_path, OTHER_SOURCE)
    assert run(settings, sessions, now).unmatched == 3
    assert unmatched_by_source(sessions) == {"roster": [0], "completions": [1], "academy": [2]}
