"""One clear line per configuration problem: where (by id and TOML line), what, what was meant.

`tomllib` gives no positions, so `TomlLines` finds them by a light scan of the file: table
headers (`[store]`, `[[sources]]`, `[presets.NAME]`) and `key =` lines. It reads real
configuration files well; a key it cannot place is reported without a line.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel

from onemind.config.names import did_you_mean, listing
from onemind.config.sources import SOURCE_KINDS

Loc = tuple[str | int, ...]
HEADER = re.compile(r"^\[(\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
KEY = re.compile(r"^([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=")
ID_KEYS = {"agencies": "id", "sources": "name"}
INPUT_ONLY = {"StoreConfig": ("password",)}
"""Keys a table accepts that are no field of its model (the store's password joins its URL)."""
PLAIN = {
    "missing": "required key missing",
    "model_type": "should be a table",
    "dict_type": "should be a table",
    "list_type": "should be an array",
}
"""Pydantic's messages, in the words of a TOML file."""


class TomlLines:
    """Where each table and key of a TOML text is, by line number (1-based)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Loc, int] = {}
        table: Loc = ()
        counts: dict[Loc, int] = {}
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if in_string or not stripped or stripped.startswith("#"):
                in_string ^= _opens_string(stripped)
                continue
            header = HEADER.match(stripped)
            if header:
                table = _dotted(header.group(2))
                if header.group(1):
                    counts[table] = counts.get(table, -1) + 1
                    table = (*table, counts[table])
                self.lines.setdefault(table, number)
            elif key := KEY.match(stripped):
                self.lines.setdefault((*table, *_dotted(key.group(1))), number)
            in_string ^= _opens_string(stripped)

    def line(self, loc: Loc) -> int | None:
        """The line of the longest leading part of `loc` found in the file, if any."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def _dotted(name: str) -> Loc:
    return tuple(part.strip() for part in name.split("."))


def _opens_string(line: str) -> bool:
    """Whether a multi-line string starts or ends on this line (an odd count of quotes)."""
    return (line.count('"""') + line.count("'''")) % 2 == 1


def where(loc: Loc, raw: dict[str, Any]) -> str:
    """`agencies['springfield-pd'].deadline_months`: list entries named by their id."""
    text, node = "", raw
    for part in loc:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            name = entry.get(ID_KEYS.get(text, "")) if isinstance(entry, dict) else None
            text += f"[{name!r}]" if isinstance(name, str) and name else f"[{part}]"
            node = entry
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text


def without_tags(loc: Loc) -> Loc:
    """A pydantic location without the `kind` tags a discriminated union adds."""
    return tuple(part for part in loc if not (isinstance(part, str) and part in SOURCE_KINDS))


class Problem(NamedTuple):
    """One problem of a configuration file, at its line when known."""

    line: int | None
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}" if self.line else self.text

    def order(self) -> tuple[int, str]:
        return (self.line or 1 << 30, self.text)


def misspelt(errors: list[Any]) -> list[Any]:
    """Without a "required key missing" when the same table has an unknown key close to it."""
    unknown: dict[Loc, list[str]] = {}
    for error in errors:
        if error["type"] == "extra_forbidden":
            unknown.setdefault(error["loc"][:-1], []).append(str(error["loc"][-1]))
    return [
        e
        for e in errors
        if e["type"] != "missing"
        or not did_you_mean(str(e["loc"][-1]), unknown.get(e["loc"][:-1], ()))
    ]


def describe(error: Any, raw: dict[str, Any], lines: TomlLines, root: type[BaseModel]) -> Problem:
    """One line for one pydantic error: `line 8: agencies['x'].colour: unknown key`."""
    loc: Loc = without_tags(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    kind = error["type"]
    if kind == "extra_forbidden":
        accepted = accepted_keys(root, error["loc"][:-1])
        message = "unknown key" + did_you_mean(str(loc[-1]), accepted)
    elif kind in PLAIN:
        message = PLAIN[kind]
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "kind")
        tag = error.get("ctx", {}).get("tag")
        head = (
            "missing" if tag is None else f"unknown kind {tag!r}{did_you_mean(tag, SOURCE_KINDS)}"
        )
        message = f"{head}; the kinds are {listing(SOURCE_KINDS)}"
    return located(loc, message, raw, lines)


def located(loc: Loc, message: str, raw: dict[str, Any], lines: TomlLines) -> Problem:
    """`line N: where: message`, with whichever of the line and place are known."""
    place = where(loc, raw)
    return Problem(lines.line(loc), f"{place}: {message}" if place else message)


def accepted_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the table at `loc` (a pydantic location, tags included) accepts."""
    annotation: Any = root
    for part in loc:
        annotation = _step(_bare(annotation), part)
        if annotation is None:
            return []
    model = _bare(annotation)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [*model.model_fields, *INPUT_ONLY.get(model.__name__, ())]


def _bare(annotation: Any) -> Any:
    """Without `Annotated[...]` and `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _step(annotation: Any, part: str | int) -> Any:
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return None if field is None else field.annotation
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    if origin in (Union, types.UnionType):
        return next((m for m in get_args(annotation) if part in _kinds(m)), None)
    return None


def _kinds(model: Any) -> tuple[Any, ...]:
    field = getattr(model, "model_fields", {}).get("kind")
    if field is None or get_origin(field.annotation) is not Literal:
        return ()
    return get_args(field.annotation)
