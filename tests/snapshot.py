"""A comparable picture of a whole store, for "this changed nothing" assertions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Engine, Integer, func, select
from sqlalchemy.orm import Session

from onemind.store.models import Base, RawRecord
from onemind.store.payloads import payloads_of

BOOKKEEPING = {
    "sync_run": None,
    # where a payload is kept depends on how the records were batched: compared as read
    "raw_record": {"last_seen", "last_run_id", "payload", "batch_id", "batch_row"},
    "raw_batch": None,
    "quarantined_record": {"run_id"},  # the latest run that found the problem
    "source": {"cursor_updated_at"},
    "completion": {"classified_at"},
    "coverage_snapshot": {"computed_at"},
    "course": {"last_seen"},
    "sync_lock": None,
    "report_archive": None,
    "apscheduler_jobs": None,
}
# When a row was first written and by which run: equal for equal work only within one process
# and clock. Ignore these too to compare stores filled by different processes (a killed run and
# its rerun against a clean run).
FIRST_WRITTEN = {
    "raw_record": {"first_seen", "first_run_id"},
    "quarantined_record": {"created_at"},
    "person": {"created_at"},
    "course": {"first_seen"},
    "mapping_rule": {"created_at"},
    "audit_log": {"at"},
}


def dump(
    engine: Engine, also_ignore: Mapping[str, set[str]] | None = None, keys: bool = True
) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, less the columns that record when a run happened (and `also_ignore`).
    Without `keys`, less the surrogate keys and the columns referring to them too, rows sorted:
    to compare stores whose sequences were advanced differently (PostgreSQL after a rollback)."""
    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            skip = BOOKKEEPING.get(table.name, set())
            if skip is None:
                continue
            skip = skip | (also_ignore or {}).get(table.name, set())
            columns = [c for c in table.columns if c.name not in skip and (keys or _natural(c))]
            if not columns:  # its keys are all it holds (roster_seen): how many
                out[table.name] = [(connection.scalar(select(func.count()).select_from(table)),)]
                continue
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            out[table.name] = [
                tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in row)
                for row in rows
            ]
            if table.name == "raw_record":
                out[table.name] = _with_payloads(engine, out[table.name])
            if not keys:
                out[table.name].sort(key=repr)
    return out


def _with_payloads(engine: Engine, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Raw records (in id order) each with its payload as read, inline or from its batch."""
    with Session(engine) as session:
        ids = list(session.scalars(select(RawRecord.id).order_by(RawRecord.id)))
        payloads = payloads_of(session, ids)
    return [
        (*row, json.dumps(payloads[raw_id], sort_keys=True))
        for raw_id, row in zip(ids, rows, strict=True)
    ]


def _natural(column: Column[Any]) -> bool:
    """Not a surrogate key, nor a reference to one."""
    return not _surrogate(column) and not any(_surrogate(f.column) for f in column.foreign_keys)


def _surrogate(column: Column[Any]) -> bool:
    return column.primary_key and isinstance(column.type, Integer)
