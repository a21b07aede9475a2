"""The suggester on labelled titles: high confidence means right, near misses never qualify."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from onemind.mapping import evaluation
from onemind.mapping.suggest import NOT_QUALIFYING, MappedTitle, suggest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize("name", ["eval", "holdout"])
def test_high_confidence_suggestions_are_right_and_never_near_misses(name: str) -> None:
    figures = evaluation.figures(
        evaluation.evaluate(evaluation.cases(FIXTURES / f"mapping_{name}.csv"))
    )
    assert figures["cases"] >= 150
    assert figures["high_confidence_precision"] >= 0.95
    assert figures["near_miss_high_confidence"] == 0
    assert figures["top1_recall"] >= 0.85


def comparable(title: str) -> str:
    """A title as a reader tells titles apart: case, spaces and punctuation do not count."""
    return re.sub(r"[\W_]+", "", title.casefold())


def test_the_holdout_shares_no_title_with_the_evaluation_set() -> None:
    seen = {comparable(c.title) for c in evaluation.cases(FIXTURES / "mapping_eval.csv")}
    holdout = [comparable(c.title) for c in evaluation.cases(FIXTURES / "mapping_holdout.csv")]
    assert [t for t in holdout if t in seen] == []
    assert len(set(holdout)) == len(holdout), "no title twice in the holdout either"


@pytest.mark.parametrize(
    ("title", "hours", "category", "high"),
    [
        ("Crisis Intervention Team (CIT) Basic", 40, "cit", True),
        ("C.R.I.T.", 40, "crit", True),
        ("Mental Health First Aid for Public Safety", 8, "mhfa", True),
        ("Youth Mental Health First Aid", 8, "mhfa-equivalent", True),
        ("CIT for Telecommunicators", 16, "dispatch-crisis", True),
        ("CIT Refresher", 4, NOT_QUALIFYING, False),
        ("CRIT Facilitator Training", 24, NOT_QUALIFYING, False),
        (
            "Crisis Intervention Training (State 40-Hour Curriculum)",
            None,
            "crisis-equivalent",
            False,
        ),
    ],
)
def test_top_suggestion(title: str, hours: float | None, category: str, high: bool) -> None:
    best = suggest(title, hours)[0]
    assert (best.category, best.high_confidence) == (category, high)
    assert best.reasons


def test_nothing_fits_gives_no_suggestion() -> None:
    assert suggest("Firearms Qualification", 4) == []


def test_similar_to_an_already_mapped_title() -> None:
    mapped = [MappedTitle("Regional Behavioral Crisis Academy", "crisis-equivalent")]
    best = suggest("Regional Behavioural Crisis Academy 2026", 40, mapped=mapped)[0]
    assert best.category == "crisis-equivalent"
    assert any("similar to mapped course" in r for r in best.reasons)


def test_cli_prints_the_json_contract_without_a_store(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "onemind",
            "mapping",
            "suggest",
            "--title",
            "CIT Basic 40hr",
            "--hours",
            "40",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [first, *_] = json.loads(result.stdout)
    assert set(first) == {"category", "confidence", "high_confidence", "reasons"}
    assert first["category"] == "cit" and 0 <= first["confidence"] <= 1
