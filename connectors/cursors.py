"""Cursors as small typed values, each with a version that is read before anything else.

The sync runner stores a cursor as the JSON a connector's checkpoint carries; the connector
turns it back into its own cursor class with `from_json`. A cursor of another version (say,
saved by a later release) is refused with the way out: a full read saves a new one. When a
shape changes, its class's VERSION goes up and its `from_json` learns to read the older one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from onemind.errors import ConfigurationError


def unreadable(source: str, problem: str) -> ConfigurationError:
    """The error for a saved cursor that cannot be resumed from, saying what to run instead."""
    return ConfigurationError(
        f"source {source!r}: its saved cursor {problem}; run `onemind sync --full {source}` "
        "to read the source whole and save a new cursor"
    )


def versioned(source: str, raw: Any, version: int) -> Mapping[str, Any] | None:
    """The saved cursor when it has `version` (one saved without a version is version 1),
    None when there is none.

    Raises:
        ConfigurationError: it is not a JSON object, or has another version.
    """
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise unreadable(source, f"is not a JSON object: {raw!r}")
    found = raw.get("version", 1)
    if type(found) is int and found == version:
        return raw
    later = type(found) is int and found > version
    raise unreadable(
        source,
        f"has version {found!r}, "
        + ("saved by a later release" if later else "which this release does not read")
        + f" (it reads version {version})",
    )


def text(source: str, body: Mapping[str, Any], name: str) -> str | None:
    """A text field of a saved cursor (None when absent).

    Raises:
        ConfigurationError: the field is there but not text.
    """
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise unreadable(source, f"has {name} = {value!r}, not text")


def instant(source: str, body: Mapping[str, Any], name: str) -> str | None:
    """An ISO 8601 time field of a saved cursor, kept as the text it was saved as.

    Raises:
        ConfigurationError: the field is there but not an ISO 8601 time.
    """
    value = text(source, body, name)
    if value:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise unreadable(source, f"has {name} = {value!r}, not an ISO 8601 time") from None
    return value


def listed(source: str, body: Mapping[str, Any], name: str) -> list[Any]:
    """A list field of a saved cursor (empty when absent).

    Raises:
        ConfigurationError: the field is there but not a list.
    """
    value = body.get(name, [])
    if isinstance(value, list):
        return value
    raise unreadable(source, f"has {name} = {value!r}, not a list")


@dataclass(frozen=True)
class FileCursor:
    """A file source's cursor: the SHA-256 of the file as last read whole."""

    sha256: str | None
    VERSION: ClassVar[int] = 1

    def to_json(self) -> dict[str, Any]:
        return {"version": self.VERSION, "sha256": self.sha256}

    @classmethod
    def from_json(cls, source: str, raw: Any) -> FileCursor | None:
        """The cursor saved for `source`, if any.

        Raises:
            ConfigurationError: it cannot be read (another version, or a field of a wrong type).
        """
        body = versioned(source, raw, cls.VERSION)
        return None if body is None else cls(text(source, body, "sha256"))
