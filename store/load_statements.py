"""The statements a load's writer runs for every batch, built once: the bulk inserts of raw
rows and completions (compiled per database), and the rewrite of a changed completion."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Dialect

from onemind.store.bulk import BulkInsert
from onemind.store.classify import CLASSIFIED, UNCLASSIFIED
from onemind.store.models import Completion, RawRecord

COMPLETION_COLUMNS = (
    "agency_hint",
    "employee_id",
    "email",
    "mbox_sha1sum",
    "account",
    "course_key",
    "course_title",
    "activity_type",
    "provider",
    "hours",
    "completed_on",
    "expires_on",
)


REVISED = ("b_raw_record_id", *(f"b_{name}" for name in COMPLETION_COLUMNS))
"""The parameters of REVISE: the completion's raw record, then its COMPLETION_COLUMNS."""
REVISE = (
    update(Completion.__table__)
    .where(Completion.__table__.c.raw_record_id == bindparam("b_raw_record_id"))
    .values(
        {name: bindparam(f"b_{name}") for name in COMPLETION_COLUMNS}
        | dict.fromkeys(("person_id", *UNCLASSIFIED))
    )
)
"""A changed completion rewritten from its record, its person and classification forgotten
(`link_completions` and `classify_pending` decide them again)."""


@dataclass(frozen=True)
class Statements:
    raw: BulkInsert
    completion: BulkInsert


@cache
def statements(dialect: Dialect) -> Statements:
    """The load's inserts, compiled once per database."""
    return Statements(
        raw=BulkInsert(
            RawRecord.__table__,
            ("id", "external_id", "location", "payload_hash", "batch_row"),
            dialect,
            fixed=(
                *("source_id", "kind", "first_seen", "last_seen", "first_run_id", "last_run_id"),
                *("batch_id", "payload"),
            ),
        ),
        completion=BulkInsert(
            Completion.__table__,
            # ids from the table's own default: nothing reads a new completion's id back
            ("raw_record_id", "person_id", *COMPLETION_COLUMNS, *CLASSIFIED),
            dialect,
            fixed=("source_id", "voided", "classified_at"),
        ),
    )
