"""Measuring the suggester against a labelled set of course titles (precision, recall)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from onemind.mapping.suggest import NOT_QUALIFYING, suggest


@dataclass(frozen=True)
class Case:
    title: str
    hours: float | None
    provider: str | None
    expected: str
    near_miss: bool


@dataclass(frozen=True)
class Outcome:
    case: Case
    predicted: str | None
    high: bool


def cases(path: Path) -> list[Case]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Case(
                r["title"],
                float(r["hours"]) if r["hours"] else None,
                r["provider"] or None,
                r["expected"],
                r["near_miss"] == "true",
            )
            for r in csv.DictReader(handle)
        ]


def evaluate(items: list[Case]) -> list[Outcome]:
    outcomes = []
    for case in items:
        ranked = suggest(case.title, case.hours, case.provider)
        best = ranked[0] if ranked else None
        outcomes.append(
            Outcome(case, best.category if best else None, bool(best and best.high_confidence))
        )
    return outcomes


def correct(outcome: Outcome) -> bool:
    """Right category; for a course that does not count, no suggestion or 'not-qualifying'."""
    if outcome.case.expected == "none":
        return outcome.predicted in (None, NOT_QUALIFYING)
    return outcome.predicted == outcome.case.expected


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    """Precision over offered top-1 suggestions, recall over courses that count."""
    offered = [o for o in outcomes if o.predicted is not None]
    high = [o for o in offered if o.high]
    positives = [o for o in outcomes if o.case.expected != "none"]
    high_positive = [o for o in high if o.predicted != NOT_QUALIFYING]
    return {
        "cases": len(outcomes),
        "offered": len(offered),
        "top1_precision": sum(map(correct, offered)) / len(offered),
        "top1_recall": sum(map(correct, positives)) / len(positives),
        "high_confidence": len(high),
        "high_confidence_precision": sum(map(correct, high)) / len(high) if high else 1.0,
        "high_confidence_qualifying": len(high_positive),
        "near_miss_high_confidence": sum(
            o.case.near_miss and o.predicted != NOT_QUALIFYING for o in high
        ),
    }
