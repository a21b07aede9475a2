"""What a source's role decides about its sync, one entry a role: the order sources are synced
in, a batch's size, what a first load builds after it, the writer, and the transactions' size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from onemind.config.model import SourceConfig
from onemind.config.sources import TabularSourceConfig
from onemind.store import deferred_indexes
from onemind.store.agencies import AgencyWriter
from onemind.store.raw_keys import inserts_unlooked
from onemind.store.set_aside import SetAsideWriter
from onemind.store.stored_digests import StoredDigests
from onemind.store.writer import RecordWriter
from onemind.sync.loading import GROWN_TABLES

Writer = Callable[..., RecordWriter]
WriterFactory = Callable[[sessionmaker[Session], SourceConfig], Writer]

BATCH_SIZE = 5000
ROSTER_BATCH_SIZE = 15_000
"""A roster's batch. A nightly roster is mostly rows set aside as they are, cheap enough that a
batch's fixed costs (the lookup, the writes of the few rows changed) would otherwise weigh as
much as they do."""
ROSTER_COMMIT_RECORDS = 60_000
"""A roster load's transaction: four batches. The rows of a roster land all over the indexes
of person, identifier, employment and raw row; each transaction rewrites the index pages it
touched, so fewer transactions write each page fewer times (first load of bench/roster.py's
800,000 people on SQLite: 54 s in transactions of 15,000, 47 s of 60,000, 48 s of 150,000,
peak memory 292, 359, 454 MB; PostgreSQL 110 s and 108 s, the same)."""
ROSTER_PAGE_CACHE_KIB = 262_144
"""SQLite's page cache of a roster load's connection, while it loads: the indexes of raw row,
person, identifier and employment a first load of 800,000 people fills are visited at random
and miss the 64 MB every connection has (first load of 800,000 people in transactions of
15,000 rows: 59 s with it, 54 s with this, peak memory 252 MB, 292 MB; a cache kept for the
whole load, not put back between transactions, gave 54 s with 482 MB)."""
ROSTER_GROWN_TABLES = ("raw_record", "person", "person_identifier", "employment")
"""A roster load's: planned for the near-empty tables of its start, the checks of its
references read whole tables. (The look-ups of a batch's addresses and employments did too,
and still did with these refreshed, 7.0 s and 4.9 s at 800,000 people: they now probe the
unique indexes whatever the statistics say, see `store.roster._probed`.)"""


@dataclass(frozen=True)
class Role:
    """How the sources of one role are synced.

    `load_order`: sources are synced lowest first (agencies before the rosters that name them,
    rosters before the completions and attestations that name their people and agencies).
    `writer` gives, for the source named, what `SourceLoad` makes each transaction's writer
    with; `commit_records` and `page_cache_kib` are `SourceLoad`'s (None: its defaults), and
    `grown` the tables whose statistics a load refreshes as it grows them.
    """

    load_order: int
    batch_size: int
    deferral: deferred_indexes.Deferral | None
    writer: WriterFactory
    page_cache_kib: int | None = None
    commit_records: int | None = None
    grown: tuple[str, ...] = GROWN_TABLES


def _agency_writer(_sessions: sessionmaker[Session], _source: SourceConfig) -> Writer:
    return AgencyWriter


def _roster_writer(_sessions: sessionmaker[Session], _source: SourceConfig) -> Writer:
    """A roster writer with the load's own digests, shared by its transactions."""
    return partial(SetAsideWriter, digests=StoredDigests("roster"))


def _completions_writer(sessions: sessionmaker[Session], source: SourceConfig) -> Writer:
    """A writer told whether it may insert raw rows without looking their keys up; for a
    file, one that sets aside the rows the store holds (with the load's own digests)."""
    with sessions() as session:
        unlooked = inserts_unlooked(session, source.name)
    if isinstance(source, TabularSourceConfig):
        return partial(SetAsideWriter, digests=StoredDigests("completion"), unlooked=unlooked)
    return partial(RecordWriter, unlooked=unlooked)


ROLES: dict[str, Role] = {
    "agencies": Role(0, BATCH_SIZE, None, _agency_writer),
    "roster": Role(
        1,
        ROSTER_BATCH_SIZE,
        deferred_indexes.ROSTER,
        _roster_writer,
        ROSTER_PAGE_CACHE_KIB,
        ROSTER_COMMIT_RECORDS,
        ROSTER_GROWN_TABLES,
    ),
    "completions": Role(2, BATCH_SIZE, deferred_indexes.COMPLETIONS, _completions_writer),
    "attestations": Role(2, BATCH_SIZE, None, _agency_writer),
}


def role_of(config: SourceConfig) -> Role:
    """The role of what the source gives: a file's role; every system (LMS, LRS) gives
    completions."""
    return ROLES[getattr(config, "role", "completions")]
