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

from onemind.domain.text import from_spreadsheet_cell, spreadsheet_cell
from onemind.errors import ConfigurationError
from onemind.mapping.changes import RuleSpec, add_rule
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


def load(path: Path) -> list[dict[str, Any]]:
    """Rules from a CSV or YAML file written by `dump` (or by hand in the same shape); a CSV
    cell's formula-guarding `'` is taken off again.

    Raises:
        ConfigurationError: the file cannot be read or has no rule list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
        rules = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(rules, list):
            raise ConfigurationError(f"{path}: expected a 'rules:' list")
        return rules
    return [
        {k: from_spreadsheet_cell(v) for k, v in row.items() if isinstance(v, str) and v}
        for row in csv.DictReader(io.StringIO(text))
    ]


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def import_rules(
    session: Session,
    rules: list[dict[str, Any]],
    origin: str,
    author: str,
    now: datetime,
    as_of: date,
) -> ImportReport:
    """Add the rules this store lacks; report, never overwrite, those that disagree."""
    report = ImportReport()
    existing = {(r["match"], r["pattern"], r["source"]): r for r in export_rules(session)}
    for number, raw in enumerate(rules, start=1):
        try:
            spec = _spec(raw, origin, author)
        except (KeyError, TypeError, ValueError) as exc:
            report.invalid.append(f"rule {number}: {exc}")
            continue
        mine = existing.get((spec.match, spec.pattern, spec.source))
        if mine is None:
            report.added.append(add_rule(session, spec, now, as_of, "mapping.import").rule_id)
        elif _same(mine, spec):
            report.unchanged += 1
        else:
            report.conflicts.append(
                f"rule {number} ({spec.match} {spec.pattern!r}): here it yields "
                f"{mine['category'] or 'not-qualifying'} at priority {mine['priority']}, "
                f"the file says {spec.category or 'not-qualifying'} at priority {spec.priority}"
            )
    return report


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
        min_hours=float(raw["min_hours"]) if raw.get("min_hours") not in (None, "") else None,
        priority=int(raw.get("priority") or 100),
        effective_from=_date(raw.get("effective_from")),
        effective_until=_date(raw.get("effective_until")),
    )


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _same(mine: dict[str, Any], spec: RuleSpec) -> bool:
    return (
        mine["category"] == spec.category
        and mine["priority"] == spec.priority
        and mine["min_hours"] == spec.min_hours
        and mine["effective_from"] == spec.effective_from
        and mine["effective_until"] == spec.effective_until
    )
