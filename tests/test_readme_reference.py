"""The configuration reference (docs/configuration.md) against the models: it cannot drift."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from onemind.config.model import Settings
from onemind.config.presets import BUILT_IN
from onemind.config.problems import INPUT_ONLY
from onemind.config.secrets import Secret
from onemind.config.sources import (
    AGENCY_COLUMNS,
    ATTESTATION_COLUMNS,
    COMPLETION_COLUMNS,
    MOODLE_REPORT_COLUMNS,
    ROSTER_COLUMNS,
    SOURCE_CONFIGS,
    SourceBase,
)
from onemind.config.store import StoreConfig

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "configuration.md"
MARKED = re.compile(r"<!-- reference: (?P<name>[^>]+?) -->\n(?P<table>(?:\|.*\n)+)")
INTERNAL = {"Settings": {"base_dir"}}
"""Fields the loader sets, never written in the file."""
COMMON = {*SourceBase.model_fields, "kind"}


def reference_tables() -> dict[str, list[dict[str, str]]]:
    """Each marked table of the reference: its rows, by column header."""
    tables = {}
    for found in MARKED.finditer(REFERENCE.read_text(encoding="utf-8")):
        header, _, *rows = [_cells(line) for line in found["table"].splitlines()]
        tables[found["name"]] = [dict(zip(header, row, strict=True)) for row in rows]
    return tables


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _code(cell: str) -> str | None:
    """The text of a cell that is one code span, else None."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match[1] if match else None


def keys(rows: list[dict[str, str]], column: str = "key") -> list[str]:
    return [_code(row[column]) or row[column] for row in rows]


def models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every model reachable from `annotation`: tables, their nested tables, every source kind."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from models(field.annotation)
    else:
        for argument in get_args(annotation):
            yield from models(argument)


TABLES = reference_tables()
MODELS = {model.__name__: model for model in models(Settings)}


def documented(model: type[BaseModel]) -> set[str]:
    """The keys a model's table takes, as the reference must list them."""
    fields = {*model.model_fields, *INPUT_ONLY.get(model.__name__, ())}
    fields -= INTERNAL.get(model.__name__, set())
    return fields - COMMON if model in SOURCE_CONFIGS else fields


def test_the_readme_links_the_reference() -> None:
    assert "(docs/configuration.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_table_of_the_configuration_is_in_the_reference() -> None:
    assert set(MODELS) <= set(TABLES), set(MODELS) - set(TABLES)
    assert set(keys(TABLES["sources"])) == COMMON


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_table_lists_exactly_the_keys_its_model_takes(name: str) -> None:
    listed = keys(TABLES[name])
    assert len(listed) == len(set(listed)), f"{name}: a key is listed twice"
    assert set(listed) == documented(MODELS[name])


def test_the_store_password_the_reference_lists_is_taken() -> None:
    secret = Secret("pw", "env:PGPASSWORD")
    store = StoreConfig.model_validate({"url": "postgresql://u@db.example/d", "password": secret})
    assert ":pw@db.example" in store.url.get()


def _fields(name: str) -> Iterator[tuple[str, str, FieldInfo]]:
    model = MODELS.get(name)
    fields = dict(SourceBase.model_fields) if name == "sources" else {}
    fields |= model.model_fields if model else {}
    for row in TABLES[name]:
        key = _code(row["key"]) or row["key"]
        if key in fields:
            yield key, row["default"], fields[key]


@pytest.mark.parametrize("name", sorted({*MODELS, "sources"}))
def test_stated_defaults_are_the_models(name: str) -> None:
    for key, cell, field in _fields(name):
        where = f"{name}.{key}: {cell!r}"
        assert cell.startswith("required") == field.is_required(), where
        if cell == "none":
            assert field.default is None, where
        elif (literal := _code(cell)) is not None:
            stated = tomllib.loads(f"value = {literal}")["value"]
            assert stated == _plain(field.get_default(call_default_factory=True)), where


def _plain(value: Any) -> Any:
    """A default as TOML writes it."""
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, Secret):
        return value.get()
    if isinstance(value, Path):
        return str(value)
    return value


def test_column_lists_are_the_fields_read() -> None:
    assert keys(TABLES["roster-columns"], "field") == list(ROSTER_COLUMNS)
    assert keys(TABLES["completion-columns"], "field") == list(COMPLETION_COLUMNS)
    assert keys(TABLES["agency-columns"], "field") == list(AGENCY_COLUMNS)
    assert keys(TABLES["attestation-columns"], "field") == list(ATTESTATION_COLUMNS)
    moodle = TABLES["moodle-report-columns"]
    assert dict(zip(keys(moodle, "field"), keys(moodle, "header"), strict=True)) == (
        MOODLE_REPORT_COLUMNS
    )


def test_built_in_presets_are_listed_with_their_columns() -> None:
    listed = {name.removeprefix("preset "): rows for name, rows in TABLES.items()}
    for name, preset in BUILT_IN.items():
        rows = listed[name]
        assert (
            dict(zip(keys(rows, "field"), keys(rows, "header"), strict=True)) == (preset["columns"])
        )
    assert {n for n in TABLES if n.startswith("preset ")} == {f"preset {n}" for n in BUILT_IN}
