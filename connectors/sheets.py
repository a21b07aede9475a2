"""The rows of a CSV or XLSX file as they are read, with their line numbers, and the file's
digest: what `TabularConnector` reads its records from."""

from __future__ import annotations

import csv
import hashlib
import zlib
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from onemind.errors import ConfigurationError

FIELD_LIMIT = 1 << 22
"""Longest CSV field read, in characters (Python's default is 131,072). A row with a longer
field is quarantined; fields the source maps are held to their column's length anyway.
The limit is process-wide: the csv module has no per-reader setting."""
UNREADABLE_XLSX = (BadZipFile, zlib.error, SyntaxError, KeyError, ValueError, EOFError)
"""What openpyxl raises for a file that is not (or no longer) a workbook: not a zip (a CSV
renamed .xlsx, a truncated file), a damaged member, malformed XML."""
Cells = tuple[Any, ...]
"""A row's cells for the fields a source reads, in their order."""


def row_reader(positions: dict[str, int], text_only: bool) -> Callable[[list[Any]], Cells]:
    """A row's cells for the fields, in the fields' order; a CSV row as long as the header, the
    common case, read at once."""
    indexes = tuple(positions.values())
    width = max(indexes, default=-1) + 1
    picked = itemgetter(*indexes) if len(indexes) > 1 else lambda cells: (cells[indexes[0]],)

    def read(cells: list[Any]) -> Cells:
        if text_only and len(cells) >= width:
            return tuple(map(str.strip, picked(cells)))
        return tuple(cell(cells[i]) if i < len(cells) else "" for i in indexes)

    return read


def cells_of(fields: tuple[str, ...], wanted: tuple[str, ...]) -> Callable[[Cells], Cells]:
    """The cells of the `wanted` fields from a row read for `fields`; empty for a field the
    file lacks."""
    missing = len(fields)
    indexes = tuple(fields.index(f) if f in fields else missing for f in wanted)
    picked = itemgetter(*indexes) if len(indexes) > 1 else lambda row: (row[indexes[0]],)
    if missing in indexes:
        return lambda row: picked((*row, ""))
    return picked


def cell(value: object) -> object:
    """A cell as read: text stripped, empty for a missing value, other types kept for parsing."""
    if type(value) is str:
        return value.strip()
    return "" if value is None else value


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, Any]]:
    """Each row, or the csv.Error that stopped it (the reader goes on at the next line)."""
    csv.field_size_limit(FIELD_LIMIT)
    with path.open(newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        while True:
            try:
                cells: list[Any] | csv.Error = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells = exc
            yield reader.line_num, cells


def xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    """Each row of the sheet. A file that is no workbook raises one of UNREADABLE_XLSX."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ConfigurationError(f"{path.name}: {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ConfigurationError(f"{path.name}: no sheet named {sheet!r}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()
