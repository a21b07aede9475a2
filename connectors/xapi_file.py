"""Statements exported from an LRS into a file: an array, {"statements": […]}, or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from onemind.config.model import XapiFileSourceConfig
from onemind.connectors.base import CheckResult, Connector, run_checks
from onemind.connectors.cursors import FileCursor
from onemind.connectors.sheets import file_digest
from onemind.connectors.xapi_statements import read_statement, statement_rules
from onemind.domain.records import Checkpoint, PullItem, Rejected
from onemind.errors import ConfigurationError, SourceError

TOO_DEEP = "JSON nested too deeply to read"


class XapiFileConnector(Connector):
    """Reads the whole export when it changes; checkpoints at the end."""

    def __init__(self, config: XapiFileSourceConfig) -> None:
        self.config = config
        self.name = config.name
        self.path = Path(config.path)
        self.rules = statement_rules(config)

    def check(self) -> CheckResult:
        return run_checks(("file", self._found))

    def _found(self) -> str:
        """Raises: ConfigurationError when there is no such file."""
        if not self.path.is_file():
            raise ConfigurationError(f"source {self.name!r}: file {self.path} does not exist")
        return f"{self.path} exists"

    def pull(self, cursor: dict[str, Any] | None) -> Iterator[PullItem]:
        self._found()
        digest = file_digest(self.path)
        if FileCursor.from_json(self.name, cursor) == FileCursor(digest):
            return
        for number, statement in self._statements():
            record = read_statement(statement, self.rules)
            if isinstance(record, Rejected):
                record = Rejected(
                    f"{self.path.name} #{number} ({record.location})", record.reason, record.payload
                )
            if record is not None:
                yield record
        yield Checkpoint(FileCursor(digest).to_json())

    def _statements(self) -> Iterator[tuple[int, Any]]:
        try:
            with self.path.open(encoding="utf-8") as handle:
                if self.path.suffix.lower() in (".jsonl", ".ndjson"):
                    for number, line in enumerate(handle, start=1):
                        if line.strip():
                            yield number, _json_line(line)
                    return
                data = json.load(handle)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: {exc}") from exc
        except RecursionError as exc:
            raise SourceError(f"source {self.name!r}: cannot read {self.path}: {TOO_DEEP}") from exc
        statements = data.get("statements", []) if isinstance(data, dict) else data
        if not isinstance(statements, list):
            raise SourceError(f"source {self.name!r}: {self.path} holds no list of statements")
        yield from enumerate(statements, start=1)


def _json_line(line: str) -> Any:
    """A parsed line, or the parse error as text (which the reader then rejects)."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc}"
    except RecursionError:
        return f"invalid JSON: {TOO_DEEP}"
