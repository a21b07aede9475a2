"""A comparable picture of a whole store, for "this changed nothing" assertions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from onemind.store.models import Base

BOOKKEEPING = {
    "sync_run": None,
    "raw_record": {"last_seen", "last_run_id"},
    "source": {"cursor_updated_at"},
    "classification": {"classified_at"},
    "coverage_snapshot": {"computed_at"},
    "course": {"last_seen"},
}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, less the columns that record when a run happened."""
    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            skip = BOOKKEEPING.get(table.name, set())
            if skip is None:
                continue
            columns = [c for c in table.columns if c.name not in skip]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            out[table.name] = [
                tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row)
                for row in rows
            ]
    return out
