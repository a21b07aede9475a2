"""Untrusted text made safe: what a terminal, a report or an e-mail may print, and what a CSV
file may hold (a cell a spreadsheet shows as text and never runs as a formula).

Imports nothing of the project.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
QUOTE = "'"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What makes a spreadsheet read a cell as a formula (OWASP's list, and the full-width forms
of = + - @ that some spreadsheets take for their ASCII counterparts)."""


def plain(text: str) -> str:
    """Untrusted text made safe for a terminal: control characters (escape codes) replaced."""
    return CONTROL.sub("?", text)


def spreadsheet_cell(text: str) -> str:
    """`text` with a `'` before a formula start (or before a leading `'`, so that
    `from_spreadsheet_cell` gives back exactly the text it was given)."""
    return QUOTE + text if text.startswith((*FORMULA_START, QUOTE)) else text


def from_spreadsheet_cell(cell: str) -> str:
    """The text `spreadsheet_cell` was given; any other cell as it is."""
    if cell.startswith(QUOTE) and cell[1:].startswith((*FORMULA_START, QUOTE)):
        return cell[1:]
    return cell
