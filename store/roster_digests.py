"""The digests of a roster source's stored rows, held in memory for one run.

A nightly roster file is mostly what the store holds: each row's digest (see
`RosterEntry.digest`) found here is a row set aside without a query of its own. The digests
are read once, at the run's first batch, into sorted arrays of 64-bit halves: 25 bytes a
stored row (20 MB for 800,000 people), against a query per batch that probes every key
(most of a re-sync's time). What the run does to them is kept beside them: which rows it set
aside (so that a later row of the same key is a repeat) and which it wrote (so that a later
row saying what was stored before is not taken as unchanged).
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from typing import Any

from sqlalchemy import Connection

READ = (
    "SELECT payload_hash, id FROM raw_record WHERE source_id = {mark} AND kind = 'roster'"
    " AND length(payload_hash) = 32 ORDER BY payload_hash{order}"
)
READ_POSTGRES = READ.format(mark="%s", order=' COLLATE "C"')
READ_SQLITE = READ.format(mark="?", order="")
LOW = (1 << 64) - 1
CHUNK = 50_000
"""Rows read at a time: the digests are packed as they come, never all held as text."""


class StoredDigests:
    """The digests of a source's stored roster rows, their raw record ids, and what this run
    did with them."""

    def __init__(self) -> None:
        self.loaded = False
        self.high = array("Q")
        self.low = array("Q")
        self.raw_ids = array("q")
        self.seen = bytearray()
        self.written: set[int] = set()
        self.seen_unlisted: set[int] = set()  # set aside, their digest not one listed here

    def load(self, connection: Connection, source_id: int) -> None:
        """Read the source's digests in their order (once: later calls do nothing)."""
        if self.loaded:
            return
        self.loaded = True
        postgres = connection.dialect.name == "postgresql"
        packed = array("Q")
        driver: Any = connection.connection.driver_connection
        cursor = driver.cursor(name="roster_digests") if postgres else driver.cursor()
        try:
            cursor.execute(READ_POSTGRES if postgres else READ_SQLITE, (source_id,))
            while rows := cursor.fetchmany(CHUNK):
                packed.frombytes(bytes.fromhex("".join(digest for digest, _ in rows)))
                self.raw_ids.extend(raw_id for _, raw_id in rows)
        finally:
            cursor.close()
        if sys.byteorder == "little":  # the halves as numbers, ordered as the hex text is
            packed.byteswap()
        self.high, self.low = packed[0::2], packed[1::2]
        self.seen = bytearray(len(self.raw_ids))

    def find(self, digest: str | None) -> int:
        """Where `digest` is among the stored ones, or -1."""
        if digest is None or len(digest) != 32:
            return -1
        try:
            number = int(digest, 16)
        except ValueError:
            return -1
        high, low = number >> 64, number & LOW
        index = bisect_left(self.high, high)
        while index < len(self.high) and self.high[index] == high:
            if self.low[index] == low:
                return index
            index += 1
        return -1

    def set_aside(self, digest: str | None) -> int | None:
        """The stored row this digest says is unchanged, not yet written by this run: its
        index, or None."""
        index = self.find(digest)
        if index < 0 or self.raw_ids[index] in self.written:
            return None
        return index

    def mark_seen(self, digest: str, raw_id: int) -> None:
        """This run set aside the stored row of this digest."""
        index = self.find(digest)
        if index < 0:
            self.seen_unlisted.add(raw_id)
        else:
            self.seen[index] = 1

    def was_seen(self, digest: str, raw_id: int) -> bool:
        """Whether this run set aside the stored row of this digest."""
        index = self.find(digest)
        return raw_id in self.seen_unlisted if index < 0 else bool(self.seen[index])
