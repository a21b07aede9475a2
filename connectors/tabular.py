"""Roster and completion files in CSV or XLSX, with a configurable column map."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Collection, Iterator
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from onemind.config.model import TabularSourceConfig
from onemind.config.sources import ROLE_COLUMNS
from onemind.connectors import agency_rows, people_rows
from onemind.connectors.base import CheckResult, Connector, DefersParsing, run_checks
from onemind.connectors.cursors import FileCursor
from onemind.connectors.fields import (
    parse_bool,
    parse_date,
    parse_hours,
    parse_optional_date,
    text,
)
from onemind.connectors.sheets import (
    UNREADABLE_XLSX,
    Cells,
    cells_of,
    csv_rows,
    file_digest,
    row_reader,
    xlsx_rows,
)
from onemind.domain.records import (
    Checkpoint,
    CompletionRow,
    ListingEnd,
    PullItem,
    Rejected,
    RosterRow,
    UnparsedRow,
    parsed,
)
from onemind.errors import ConfigurationError, SourceError

log = logging.getLogger(__name__)

UNIT = "\x1f"
"""Joins a row's cells into the text its digest is taken of."""

ROW_DIGEST_VERSION = 1
"""Raised whenever a roster or completion row's parsing changes what the same cells give."""
VALUES_REMEMBERED = 1 << 16
"""Distinct cell values whose parsed date or hours a connector keeps. A file repeats its
dates and hours on row after row (a completions file of a million rows holds a few thousand
dates), and parsing one costs ten times a lookup; the bound holds a file of timestamps, each
distinct, to about 17 MB a cache."""
KEYED_BY = {
    "roster": people_rows.ROSTER_KEYED_BY,
    "completions": people_rows.COMPLETION_KEYED_BY,
}
REQUIRED = {
    "roster": ("employee_id", "first_name", "last_name", "sworn", "hired_on"),
    "completions": ("course_id", "completed_on"),
    "agencies": ("id", "name"),
    "attestations": ("kind", "attested_on"),
}


class TabularConnector(Connector, DefersParsing):
    """Reads a whole file each time it changes; unsorted, so it checkpoints only at the end."""

    def __init__(self, config: TabularSourceConfig) -> None:
        self.config = config
        self.name = config.name
        self.path = Path(config.path)
        self.columns = {f: config.columns.get(f, f) for f in ROLE_COLUMNS[config.role]}
        self.signature = ""
        self.fields: tuple[str, ...] = ()
        self._key_cells: Callable[[Cells], Cells] = tuple
        # typed: 1, 1.0 and True are one key untyped, and do not parse alike
        remember = lru_cache(maxsize=VALUES_REMEMBERED, typed=True)
        self._parse_date = remember(partial(parse_date, fmt=config.date_format))
        self._parse_optional_date = remember(partial(parse_optional_date, fmt=config.date_format))
        self._parse_hours = remember(parse_hours)
        self.parse = {
            "roster": partial(people_rows.roster_entry, self),
            "completions": partial(people_rows.completion, self),
            "agencies": partial(agency_rows.agency_entry, self),
            "attestations": partial(agency_rows.attestation_entry, self),
        }[config.role]

    def check(self) -> CheckResult:
        return run_checks(("file", self._readable), ("columns", self._columns_found))

    def _readable(self) -> str:
        """Raises: ConfigurationError (no such file), SourceError (unreadable or empty)."""
        if not self.path.is_file():
            raise ConfigurationError(f"source {self.name!r}: file {self.path} does not exist")
        header = next(self._rows(), None)
        if header is None:
            raise SourceError(f"source {self.name!r}: {self.path} is empty")
        if isinstance(header[1], csv.Error):
            raise SourceError(f"source {self.name!r}: {self.path}: unreadable header: {header[1]}")
        return f"{self.path} can be read"

    def _columns_found(self) -> str:
        """Raises: ConfigurationError naming the columns the header lacks."""
        _, header = next(self._rows())
        positions = self._header_map(header)
        self._count_only(header)
        return "reads columns " + ", ".join(self.columns[f] for f in positions)

    def size_hint(self) -> int | None:
        if self.config.kind == "xlsx" or not self.path.is_file():
            return None
        with self.path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        for item in self.pull_rows(cursor):
            yield parsed(item)

    def pull_rows(self, cursor: dict[str, Any] | None) -> Iterator[PullItem | UnparsedRow]:
        """As `pull`; a roster row that names its employee comes unparsed, as a `RosterRow`,
        and a completion row that can be keyed as a `CompletionRow`."""
        self._readable()
        digest = file_digest(self.path)
        if FileCursor.from_json(self.name, cursor) == FileCursor(digest):
            return
        rows = self._rows()
        _, header = next(rows)
        positions = self._header_map(header)
        counts = self._count_only(header)
        read = row_reader(positions, self.config.kind == "csv")
        self.fields = tuple(positions)
        self.signature = self._signature(positions)
        self._key_cells = cells_of(self.fields, KEYED_BY.get(self.config.role, ()))
        parse = {"roster": self._roster_row, "completions": self._completion_row}.get(
            self.config.role, self._parsed
        )
        name, skipped, stated = self.path.name, 0, 0
        for line, cells in rows:
            location = f"{name}:{line}"
            if isinstance(cells, csv.Error):
                stated += 1
                yield Rejected(location, f"unreadable row: {cells}")
                continue
            values = read(cells)
            if not any(values) and not any(text(c) for c in cells):
                continue
            stated += 1
            if not counts(cells):
                skipped += 1
                continue
            yield parse(values, location)
        if skipped:
            column = self.config.count_only.column if self.config.count_only else ""
            log.info(
                "skipped %d row(s) of %s: their %s does not count", skipped, self.path.name, column
            )
        if self.config.role == "agencies":
            if not stated:
                raise SourceError(
                    f"source {self.name!r}: {self.path} lists no agency, only its header: "
                    "nothing was changed (an agency leaves when its row is removed; an empty "
                    "export would otherwise mark every agency of the file inactive)"
                )
            yield ListingEnd(self.name, self.path.name)
        yield Checkpoint(FileCursor(digest).to_json())

    def _parsed(self, row: Cells, location: str, *taken: Any) -> PullItem:
        """The row's record, or the reason it cannot be read; `taken`, what keying the row
        took already (a row's digest, a completion's key and date), is handed to the parser
        not to be taken again."""
        values = dict(zip(self.fields, row, strict=True))
        try:
            return self.parse(values, location, *taken)
        except ValueError as exc:
            return Rejected(location, str(exc), self._payload(values))

    def _roster_row(self, row: Cells, location: str) -> PullItem | RosterRow:
        """The row keyed and digested, its parsing left for later (a row without an employee
        id has no key: it is parsed now, and rejected)."""
        employee_id, agency_cell = self._key_cells(row)
        employee_id = text(employee_id)
        if not employee_id:
            return self._parsed(row, location)
        agency = self._agency(agency_cell)
        digest = self._digest(row)
        parse = partial(self._parsed, row, location, digest)
        return RosterRow(
            people_rows.roster_key(agency, employee_id), location, agency, digest, parse
        )

    def _completion_row(self, row: Cells, location: str) -> PullItem | CompletionRow:
        """The row keyed and digested, its parsing left for later (a row that cannot be keyed
        is parsed now, and rejected)."""
        try:
            keyed = people_rows.completion_key(self, *self._key_cells(row))
        except ValueError:
            return self._parsed(row, location)
        digest = self._digest(row)
        parse = partial(self._parsed, row, location, digest, keyed)
        return CompletionRow(keyed[0], location, digest, parse)

    def _signature(self, positions: dict[str, int]) -> str:
        """What besides its cells decides what a row gives: the fields read, the source's
        agency and date format (and a completion's provider), and the parsing's version."""
        config = self.config
        fields = tuple(positions)
        signature = f"{ROW_DIGEST_VERSION}|{config.agency!r}|{config.date_format!r}|{fields!r}"
        if config.role == "completions":  # a completion without one takes the source's
            signature += f"|{config.provider!r}"
        return signature + "\x1e"

    def _digest(self, cells: Collection[Any]) -> str:
        """The row's cells (as read for its fields, in their order) and the signature, as a
        digest: a row that gives the same digest gives the same record."""
        try:
            joined = UNIT.join(cells)
        except TypeError:  # cells of a workbook: dates, numbers
            joined = repr(tuple(cells))
        else:
            if joined.count(UNIT) != len(cells) - 1:  # a cell holds the separator
                joined = repr(tuple(cells))
        return hashlib.blake2b((self.signature + joined).encode(), digest_size=16).hexdigest()

    def _count_only(self, header: list[Any]) -> Callable[[list[Any]], bool]:
        """Whether a row counts, by the value of the `count_only` column (all count without one)."""
        rule = self.config.count_only
        if rule is None:
            return lambda cells: True
        names = [text(h).strip().lower() for h in header]
        if rule.column.lower() not in names:
            raise ConfigurationError(
                f"source {self.name!r}: {self.path.name} lacks column {rule.column} (count_only)"
            )
        index = names.index(rule.column.lower())
        wanted = {v.strip().lower() for v in rule.values}
        return lambda cells: index < len(cells) and text(cells[index]).lower() in wanted

    def _header_map(self, header: list[Any]) -> dict[str, int]:
        names = [text(h).strip() for h in header]
        self._check_header(names)
        lookup = {n.lower(): i for i, n in enumerate(names)}
        positions = {f: lookup[c.lower()] for f, c in self.columns.items() if c.lower() in lookup}
        missing = [self.columns[f] for f in REQUIRED[self.config.role] if f not in positions]
        needs_agency = self.config.role in ("roster", "attestations")
        if needs_agency and "agency" not in positions and not self.config.agency:
            missing.append(self.columns["agency"] + " (or set agency = … on the source)")
        if self.config.role == "completions" and not {"employee_id", "email"} & set(positions):
            missing.append(f"{self.columns['employee_id']} or {self.columns['email']}")
        if missing:
            raise ConfigurationError(
                f"source {self.name!r}: {self.path.name} lacks column(s) "
                f"{', '.join(missing)}; found: {', '.join(names)}"
            )
        return positions

    def _check_header(self, names: list[str]) -> None:
        """Refuse a header that holds NULs (UTF-16 read as UTF-8) or repeats a column this
        source reads (which of the two is meant would be a guess).

        Raises:
            ConfigurationError: naming the file, and the column repeated.
        """
        if any("\x00" in n for n in names):
            raise ConfigurationError(
                f"source {self.name!r}: the header of {self.path.name} holds NUL characters; "
                'is the file UTF-16? (set encoding = "utf-16" on the source)'
            )
        read = {c.lower() for c in self.columns.values()}
        if self.config.count_only is not None:
            read.add(self.config.count_only.column.lower())
        seen: set[str] = set()
        for name in names:
            if name.lower() in read and name.lower() in seen:
                raise ConfigurationError(
                    f"source {self.name!r}: {self.path.name} has the column {name!r} "
                    "more than once; rename or remove one"
                )
            seen.add(name.lower())

    def _rows(self) -> Iterator[tuple[int, list[Any] | csv.Error]]:
        """The file's rows with their line numbers; a row the CSV reader cannot read is its
        error, and the rows after it are read on.

        Raises:
            SourceError: the file cannot be read at all (missing, wrong encoding, not XLSX).
        """
        try:
            if self.config.kind == "xlsx":
                yield from xlsx_rows(self.path, self.config.sheet)
            else:
                yield from csv_rows(self.path, self.config.encoding, self.config.delimiter)
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: {exc}") from exc
        except UNREADABLE_XLSX as exc:
            raise SourceError(
                f"source {self.name!r}: cannot read {self.path}: not a readable XLSX workbook "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def _date(self, value: object, field: str) -> date:
        try:
            return self._parse_date(value)
        except ValueError as exc:
            raise ValueError(f"{self.columns[field]}: {exc}") from None

    def _optional_date(self, value: object, field: str) -> date | None:
        try:
            return self._parse_optional_date(value)
        except ValueError as exc:
            raise ValueError(f"{self.columns[field]}: {exc}") from None

    def _bool(self, value: object, field: str, default: bool | None = None) -> bool:
        try:
            return parse_bool(value, default)
        except ValueError as exc:
            raise ValueError(f"{self.columns[field]}: {exc}") from None

    def _selected(self, value: object) -> bool | None:
        """The roster's `selected` flag; blank leaves the decision to the person's position."""
        return self._bool(value, "selected") if text(value) else None

    def _required(self, values: dict[str, Any], field: str) -> str:
        value = text(values.get(field))
        if not value:
            raise ValueError(f"{self.columns[field]}: missing")
        return value

    def _payload(self, values: dict[str, Any]) -> dict[str, str]:
        """The row as text, kept with its record: a CSV row's cells are text already."""
        if self.config.kind == "csv":
            return values
        return {k: text(v) for k, v in values.items()}

    def _agency(self, cell: object) -> str:
        """The row's agency, from its cell, else the source's (`agency = …`), else empty."""
        return text(cell) or self.config.agency or ""
