"""Export and import the rule set as CSV or YAML, so academies can share mappings."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from onemind.config.names import did_you_mean
from onemind.domain.text import from_spreadsheet_cell, spreadsheet_cell
from onemind.errors import ConfigurationError
from onemind.mapping.changes import RuleSpec, add_rule, problems
from onemind.store.models import MappingRule, Source

FIELDS = (
    "match",
    "pattern",
    "category",
    "source",
    "min_hours",
    "priority",
    "effective_from",
    "effective_until",
    "author",
    "reason",
    "version",
)


def export_rules(session: Session) -> list[dict[str, Any]]:
    """Every active rule as plain data, sources by name, in a stable order."""
    sources = {i: n for i, n in session.execute(select(Source.id, Source.name))}
    rows = session.scalars(
        select(MappingRule)
        .where(MappingRule.active.is_(True))
        .order_by(MappingRule.priority.desc(), MappingRule.id)
    )
    return [
        {
            "match": r.match,
            "pattern": r.pattern,
            "category": r.category_id,
            "source": sources.get(r.source_id) if r.source_id else None,
            "min_hours": r.min_hours,
            "priority": r.priority,
            "effective_from": r.effective_from,
            "effective_until": r.effective_until,
            "author": r.author,
            "reason": r.reason,
            "version": r.version,
        }
        for r in rows
    ]


def list_rules(session: Session, include_retired: bool = False) -> list[dict[str, Any]]:
    """The rules (active ones, or every version) in evaluation order, as staff read them."""
    query = select(MappingRule, Source.name).outerjoin(Source, Source.id == MappingRule.source_id)
    if not include_retired:
        query = query.where(MappingRule.active.is_(True))
    rows = session.execute(query.order_by(MappingRule.priority.desc(), MappingRule.id)).all()
    return [
        {
            "id": r.id,
            "match": r.match,
            "pattern": r.pattern,
            "source": source,
            "category": r.category_id or "not-qualifying",
            "priority": r.priority,
            "min_hours": r.min_hours,
            "effective_from": _iso(r.effective_from),
            "effective_until": _iso(r.effective_until),
            "version": r.version,
            "active": r.active,
            "author": r.author,
            "reason": r.reason,
        }
        for r, source in rows
    ]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def dump(rules: list[dict[str, Any]], fmt: str) -> str:
    """The rules as YAML, or as CSV whose cells a spreadsheet never runs as formulas."""
    if fmt == "yaml":
        return yaml.safe_dump({"rules": rules}, sort_keys=False, allow_unicode=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for rule in rules:
        writer.writerow(
            {k: "" if rule.get(k) is None else spreadsheet_cell(str(rule[k])) for k in FIELDS}
        )
    return out.getvalue()


REQUIRED = ("match", "pattern", "category")


@dataclass(frozen=True)
class FileRule:
    """A rule as a file gives it, and where: `row 5 of rules.csv (line 6)`."""

    where: str
    raw: dict[str, Any]


def load(path: Path) -> list[FileRule]:
    """Rules from a CSV or YAML file written by `dump` (or by hand in the same shape), each with
    its place in the file; a CSV cell's formula-guarding `'` is taken off again.

    Raises:
        ConfigurationError: the file cannot be read, has no rule list, or a rule has an unknown
            or a missing key (every one is named, with its place and a did-you-mean).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    yaml_file = path.suffix.lower() in (".yaml", ".yml")
    rules = _yaml_rules(path, text) if yaml_file else _csv_rules(path, text)
    wrong = [p for rule in rules for p in _key_problems(rule)]
    if wrong:
        raise ConfigurationError(f"{path.name}: {len(wrong)} problem(s):\n  " + "\n  ".join(wrong))
    return rules


def _yaml_rules(path: Path, text: str) -> list[FileRule]:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not isinstance(root, yaml.MappingNode):
        raise ConfigurationError(f"{path}: expected a 'rules:' list")
    items = next(v for k, v in root.value if k.value == "rules").value
    found = []
    for number, (raw, node) in enumerate(zip(rules, items, strict=True), start=1):
        where = f"rule {number} of {path.name} (line {node.start_mark.line + 1})"
        if not isinstance(raw, dict):
            raise ConfigurationError(f"{where}: expected keys such as match, pattern, category")
        found.append(FileRule(where, raw))
    return found


def _csv_rules(path: Path, text: str) -> list[FileRule]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    wrong = [f"unknown column {c!r}{did_you_mean(c, FIELDS)}" for c in header if c not in FIELDS]
    wrong += [f"no {c!r} column" for c in REQUIRED if c not in header]
    if wrong:
        raise ConfigurationError(f"{path.name} line 1 (the header): " + "; ".join(wrong))
    found = []
    for number, row in enumerate(reader, start=1):
        where = f"row {number} of {path.name} (line {reader.line_num})"
        if None in row:
            raise ConfigurationError(f"{where}: more cells than the header has columns")
        raw = {k: from_spreadsheet_cell(v) for k, v in row.items() if isinstance(v, str) and v}
        found.append(FileRule(where, {"category": None} | raw))
    return found


def _key_problems(rule: FileRule) -> list[str]:
    unknown = [
        f"{rule.where}: unknown key {k!r}{did_you_mean(str(k), FIELDS)}"
        for k in rule.raw
        if k not in FIELDS
    ]
    missing = [
        f"{rule.where}: no {k!r}"
        for k in REQUIRED
        if k not in rule.raw or (k != "category" and rule.raw[k] in (None, ""))
    ]
    return unknown + missing


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)


def import_rules(
    session: Session,
    rules: list[FileRule],
    origin: str,
    author: str,
    now: datetime,
    as_of: date,
) -> ImportReport:
    """Add the rules this store lacks; report, never overwrite, those that disagree.

    Raises:
        ConfigurationError: some rule cannot be stored; every one is named, nothing is added.
    """
    specs = _specs(session, rules, origin, author)
    report = ImportReport()
    stored = {
        (r.match, r.pattern, r.source_id): r
        for r in session.scalars(select(MappingRule).where(MappingRule.active.is_(True)))
    }
    sources = {name: id_ for name, id_ in session.execute(select(Source.name, Source.id))}
    for rule, spec in zip(rules, specs, strict=True):
        mine = stored.get((spec.match, spec.pattern, sources.get(spec.source or "")))
        if mine is None:
            report.added.append(add_rule(session, spec, now, as_of, "mapping.import").rule_id)
        elif _same(mine, spec):
            report.unchanged += 1
        else:
            report.conflicts.append(_conflict(rule, spec, mine))
    return report


def _specs(session: Session, rules: list[FileRule], origin: str, author: str) -> list[RuleSpec]:
    specs, wrong = [], []
    for rule in rules:
        try:
            spec = _spec(rule.raw, origin, author)
        except (TypeError, ValueError) as exc:
            wrong.append(f"{rule.where}: {exc}")
            continue
        wrong.extend(f"{rule.where}: {p}" for p in problems(session, spec))
        specs.append(spec)
    if wrong:
        raise ConfigurationError(
            f"{origin}: {len(wrong)} problem(s), nothing imported:\n  " + "\n  ".join(wrong)
        )
    return specs


def _conflict(rule: FileRule, spec: RuleSpec, mine: MappingRule) -> str:
    return (
        f"{rule.where}, {spec.match} '{spec.pattern}': stored rule #{mine.id} yields "
        f"{mine.category_id or 'not-qualifying'} at priority {mine.priority}, "
        f"the file says {spec.category or 'not-qualifying'} at priority {spec.priority}"
    )


def _spec(raw: dict[str, Any], origin: str, author: str) -> RuleSpec:
    category = raw.get("category") or None
    if category == "not-qualifying":
        category = None
    reason = str(raw.get("reason") or "").strip() or f"imported from {origin}"
    return RuleSpec(
        match=str(raw["match"]),
        pattern=str(raw["pattern"]),
        category=category,
        reason=f"{reason} (imported from {origin}, by {raw.get('author') or 'unknown'})",
        author=author,
        source=raw.get("source") or None,
        min_hours=_number("min_hours", raw.get("min_hours"), float),
        priority=_number("priority", raw.get("priority"), int) or 100,
        effective_from=_date("effective_from", raw.get("effective_from")),
        effective_until=_date("effective_until", raw.get("effective_until")),
    )


def _number(key: str, value: Any, kind: type[float] | type[int]) -> Any:
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key} {value!r} is not a {kind.__name__}") from exc


def _date(key: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{key} {value!r} is not a date (YYYY-MM-DD)") from exc


def _same(mine: MappingRule, spec: RuleSpec) -> bool:
    return (
        mine.category_id == spec.category
        and mine.priority == spec.priority
        and mine.min_hours == spec.min_hours
        and mine.effective_from == spec.effective_from
        and mine.effective_until == spec.effective_until
    )
