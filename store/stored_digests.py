"""The digests of a file source's stored rows of one kind, held in memory for one run.

A nightly roster or completions file is mostly what the store holds: each row's digest (see
`RosterEntry.digest`) found here is a row set aside without a query of its own. The digests
are read once, at the run's first batch, into arrays of 64-bit halves, as the store gives
them (sorting them in the query cost more than the reading): 33 bytes a stored row, with a
table of 4 bytes for each of about as many values of the high half's leading bits (30 MB for
800,000 people), against a query per batch that probes every key (most of a re-sync's time).
A digest is found through its leading bits: the rows that share them are chained, about one
to compare. What the run does to them is kept beside them: which rows it set
aside (so that a later row of the same key is a repeat) and which it wrote (so that a later
row saying what was stored before is not taken as unchanged).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Container, Sequence
from typing import Any

from sqlalchemy import Connection

READ = (
    "SELECT payload_hash, id FROM raw_record WHERE source_id = {mark} AND kind = {mark}"
    " AND length(payload_hash) = 32"
)
READ_POSTGRES = READ.format(mark="%s")
READ_SQLITE = READ.format(mark="?")
LOW = (1 << 64) - 1
CHUNK = 50_000
"""Rows read at a time: the digests are packed as they come, never all held as text."""


class StoredDigests:
    """The digests of a source's stored rows of `kind` (a raw record's: "roster",
    "completion"), their raw record ids, and what this run did with them."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.loaded = False
        self.high = array("Q")
        self.low = array("Q")
        self.raw_ids = array("q")
        self.heads = array("i", (-1,))  # by leading bits: the last row read that has them
        self.chain = array("i")  # by row: the row read before it with the same leading bits
        self.shift = 64
        self.seen = bytearray()
        self.written: set[int] = set()
        self.seen_unlisted: set[int] = set()  # set aside, their digest not one listed here

    def load(self, connection: Connection, source_id: int) -> None:
        """Read the source's digests (once: later calls do nothing)."""
        if self.loaded:
            return
        self.loaded = True
        postgres = connection.dialect.name == "postgresql"
        packed = array("Q")
        driver: Any = connection.connection.driver_connection
        cursor = driver.cursor(name="stored_digests") if postgres else driver.cursor()
        try:
            cursor.execute(READ_POSTGRES if postgres else READ_SQLITE, (source_id, self.kind))
            while rows := cursor.fetchmany(CHUNK):
                packed.frombytes(bytes.fromhex("".join(digest for digest, _ in rows)))
                self.raw_ids.extend(raw_id for _, raw_id in rows)
        finally:
            cursor.close()
        if sys.byteorder == "little":  # the halves as numbers, as the hex text reads
            packed.byteswap()
        self.high, self.low = packed[0::2], packed[1::2]
        self.seen = bytearray(len(self.raw_ids))
        self._chain()

    def _chain(self) -> None:
        """Chain the rows by the leading bits of their high half, about as many values of
        them as rows."""
        bits = max(len(self.high).bit_length(), 1)
        shift = self.shift = 64 - bits
        heads = self.heads = array("i", (-1,)) * (1 << bits)
        chain = self.chain = array("i", (-1,)) * len(self.high)
        for index, high in enumerate(self.high):
            bucket = high >> shift
            chain[index] = heads[bucket]
            heads[bucket] = index

    def find(self, digest: str | None) -> int:
        """Where `digest` is among the stored ones, or -1."""
        return self.set_aside([digest], ())[0]

    def set_aside(
        self, digests: Sequence[str | None], written: Container[int] | None = None
    ) -> list[int]:
        """For each digest, the stored row it says is unchanged and this run has not written
        (`written`: raw ids, the run's by default): its index, or -1. One call a batch: a
        row's lookup is a few operations, a call more than doubles it."""
        written = self.written if written is None else written
        high_of, low_of, raw_ids = self.high, self.low, self.raw_ids
        heads, chain, shift = self.heads, self.chain, self.shift
        found: list[int] = []
        for digest in digests:
            index = -1
            if digest is not None and len(digest) == 32:
                try:
                    number = int(digest, 16)
                except ValueError:
                    number = -1
                if number >= 0:
                    high, low = number >> 64, number & LOW
                    index = heads[high >> shift]
                    while index >= 0 and (high_of[index] != high or low_of[index] != low):
                        index = chain[index]
                    if index >= 0 and raw_ids[index] in written:
                        index = -1
            found.append(index)
        return found

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
