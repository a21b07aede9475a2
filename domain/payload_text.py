"""JSON read so that each item of a list keeps its own text, where the store can keep it as is.

Raw payloads are kept as JSON text (store/payloads.py), and the store refuses what no backend
can hold: a NUL character, NaN or an infinite number, nesting MAX_DEPTH deep
(store/screening.py). Walking a parsed payload to rule those out costs more than parsing it,
and encoding it again costs as much; the text the source sent serves for both, cleared while
it is parsed: a NUL can only be written `\\u0000`, NaN and infinities pass the parser's hooks,
and nesting needs as many brackets. A text cleared here holds none of them; an item whose
text is not cleared is screened and encoded from its parsed value, as before.

Imports nothing of the project.
"""

from __future__ import annotations

import json
from math import isfinite
from typing import Any

MAX_DEPTH = 64
"""Payloads nested this deep are refused: no source sends them, and walking them could exhaust
the stack."""
NUL_ESCAPE = "\\u0000"
DELIMITERS = (",", "]")
ITEM_STARTS = ("{", "[", '"')
_space = json.decoder.WHITESPACE.match
_name = json.decoder.scanstring


class _Reader:
    """One JSON text's decoder, counting the NaNs and infinities it meets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.odd = 0
        self.decoder = json.JSONDecoder(parse_float=self._float, parse_constant=self._constant)
        self.nul_free = NUL_ESCAPE not in text

    def _float(self, written: str) -> float:
        value = float(written)
        if not isfinite(value):
            self.odd += 1
        return value

    def _constant(self, written: str) -> float:
        self.odd += 1
        return float(written)

    def skip(self, at: int) -> int:
        return _space(self.text, at).end()

    def expect(self, at: int, what: str, message: str) -> int:
        """The position after `what`, found at `at`.

        Raises:
            json.JSONDecodeError: something else is there.
        """
        if self.text[at : at + 1] != what:
            raise json.JSONDecodeError(message, self.text, at)
        return at + 1

    def value(self, at: int) -> tuple[Any, int]:
        return self.decoder.raw_decode(self.text, at)

    def items(self, at: int) -> tuple[list[Any], list[str | None], int]:
        """The array opening at `at`: its items, their texts, and the position after it."""
        text, scan, nul_free = self.text, self.decoder.scan_once, self.nul_free
        items: list[Any] = []
        texts: list[str | None] = []
        at = self.skip(at + 1)
        if text[at : at + 1] == "]":
            return items, texts, at + 1
        while True:
            odd = self.odd
            try:
                item, end = scan(text, at)
            except StopIteration as stop:
                raise json.JSONDecodeError("Expecting value", text, stop.value) from None
            items.append(item)
            own = text[at:end]
            kept = self.odd == odd and (nul_free or NUL_ESCAPE not in own)
            texts.append(own if kept and own.count("{") + own.count("[") < MAX_DEPTH else None)
            after = text[end : end + 1]
            if after not in DELIMITERS:
                end = _space(text, end).end()
                after = text[end : end + 1]
            if after == "]":
                return items, texts, end + 1
            if after != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, end)
            at = end + 1
            if text[at : at + 1] not in ITEM_STARTS:
                at = _space(text, at).end()

    def members(self, at: int, key: str) -> tuple[dict[str, Any], list[str | None], int]:
        """The object opening at `at`, the texts of the items of its array `key`, and the
        position after it."""
        found: dict[str, Any] = {}
        texts: list[str | None] = []
        at = self.skip(at + 1)
        if self.text[at : at + 1] == "}":
            return found, texts, at + 1
        while True:
            at = self.expect(at, '"', "Expecting property name enclosed in double quotes")
            name, at = _name(self.text, at)
            at = self.skip(self.expect(self.skip(at), ":", "Expecting ':' delimiter"))
            if name == key and self.text[at : at + 1] == "[":
                found[name], texts, at = self.items(at)
            else:
                found[name], at = self.value(at)
                texts = [] if name == key else texts
            at = self.skip(at)
            if self.text[at : at + 1] == "}":
                return found, texts, at + 1
            at = self.skip(self.expect(at, ",", "Expecting ',' delimiter"))


def object_with_texts(text: str, key: str) -> tuple[Any, list[str | None]]:
    """`text` parsed as `json.loads` does; when it is an object whose `key` is an array, also
    each item's own text if the store can keep it as it is, else None (else no texts).

    Raises:
        ValueError: `text` is not JSON (a `json.JSONDecodeError`).
    """
    reader = _Reader(text)
    at = reader.skip(0)
    if text[at : at + 1] != "{":
        return json.loads(text), []
    found, texts, at = reader.members(at, key)
    end = reader.skip(at)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return found, texts
