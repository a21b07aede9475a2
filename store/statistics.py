"""PostgreSQL's statistics of the tables a sync changed much, refreshed when it ends.

Autovacuum analyses a table once a tenth of it changed, but only on its next round, a minute or
more later. What runs right after a sync (its own linking and recompute, then the reports a
nightly job sends at once) would be planned on the statistics from before the load: for tables
never analysed, the planner's guess of a few rows. One agency's report (300 people, a fresh
store) then took 70 ms of queries instead of 4 ms: a nested loop ran a person's aggregate once
per employment. SQLite keeps no statistics unless asked and plans by its indexes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

SHARE = 0.1
"""A table is analysed once a sync wrote more rows than this share of those it held at its
last analysis (autovacuum's default `autovacuum_analyze_scale_factor`)."""


def refresh_statistics(session: Session, written: Mapping[str, int]) -> list[str]:
    """ANALYZE each table of `written` (rows written to it, by name) never analysed, or
    written more than SHARE of; the tables analysed, by name."""
    if session.get_bind().dialect.name != "postgresql" or not any(written.values()):
        return []
    held = session.execute(
        text(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relname = ANY(:names)"
            " AND relnamespace = current_schema()::regnamespace"
        ),
        {"names": [name for name, count in written.items() if count]},
    )
    stale = sorted(name for name, rows in held if rows < 0 or written[name] > SHARE * rows)
    analyze(session, stale)
    return stale


def analyze(session: Session, tables: Sequence[str]) -> None:
    """PostgreSQL: refresh the statistics of `tables`, in the open transaction (whose own
    rows ANALYZE counts); SQLite: nothing."""
    if tables and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(tables)}"))
