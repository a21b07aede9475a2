"""`onemind mapping` as staff meet it: the queue by title, decisions once, imports that say where."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cli_run
import pytest
from test_mapping_decisions import AS_OF, COMPLETIONS, ROSTER

from onemind.pipeline import recompute

CONFIG = """[store]
url = "sqlite:///{db}"

[[agencies]]
id = "a-pd"
name = "A"

[[agencies]]
id = "b-pd"
name = "B"

[[sources]]
name = "roster"
kind = "csv"
role = "roster"
path = "roster.csv"

[[sources]]
name = "academy"
kind = "csv"
role = "completions"
path = "completions.csv"
"""

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def onemind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """`onemind …` in this process against a synced store: (exit code, stdout, stderr)."""
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "completions.csv").write_text(COMPLETIONS)
    config = tmp_path / "onemind.toml"
    config.write_text(CONFIG.format(db=tmp_path / "onemind.db"))

    def run(*args: str) -> tuple[int, str, str]:
        return cli_run.onemind(capsys, "--config", str(config), *args)

    assert run("init")[0] == 0
    assert run("sync", "--as-of", AS_OF.isoformat())[0] == 0
    return run


def rules(onemind: Run) -> list[dict[str, Any]]:
    return json.loads(onemind("mapping", "list", "--json")[1])


def test_queue_rows_are_titles_with_their_keys(
    onemind: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = onemind("mapping", "queue", "--json")
    groups = json.loads(out)
    assert code == 0
    assert [(g["courses"], g["people"]) for g in groups] == [(4, 4), (1, 2), (1, 1), (1, 1)]
    assert sorted(groups[0]["keys"]) == [f"academy:RCRA-{n}" for n in range(1, 5)]
    monkeypatch.setenv("COLUMNS", "200")
    table = onemind("mapping", "queue")[1]
    assert "academy:RCRA-" in table and "+1 more" in table


def test_rejecting_twice_adds_one_rule_and_says_the_second_changed_nothing(
    onemind: Run,
) -> None:
    before = len(rules(onemind))
    first = onemind("mapping", "reject", "--key", "academy:FQ", "--reason", "not CIT")
    again = onemind("mapping", "reject", "--key", "academy:FQ", "--reason", "not CIT")
    assert first[0] == again[0] == 0
    assert len(rules(onemind)) == before + 1
    rule = rules(onemind)[0]["id"]
    assert again[1].strip() == (
        f"mapping.reject: nothing changed (course academy:FQ: rule #{rule} already says "
        "not-qualifying)"
    )


def test_approving_a_title_shows_its_effect_first(onemind: Run) -> None:
    args = ("mapping", "approve", "--title", "regional crisis response academy")
    dry = onemind(*args, "--category", "cit", "--reason", "state CIT", "--dry-run")
    assert dry[0] == 0 and "4 course(s) reclassified" in dry[1]
    assert "a-pd: sworn crisis 0 → 3" in dry[1] and dry[1].endswith("nothing was changed\n")
    assert len(onemind("mapping", "queue", "--json")[1]) > 2
    assert onemind(*args, "--category", "cit", "--reason", "state CIT")[0] == 0
    left = json.loads(onemind("mapping", "queue", "--json")[1])
    assert [g["courses"] for g in left] == [1, 1, 1]


def test_bulk_approval_is_one_transaction_and_one_recomputation(
    onemind: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = recompute.recompute

    def counted(*args: Any, **kwargs: Any) -> recompute.Recomputed:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(recompute, "recompute", counted)
    before = len(rules(onemind))
    code, out, _ = onemind(
        "mapping", "approve", "--all-suggested", "--min-score", "0.9", "--reason", "reviewed"
    )
    assert code == 0, out
    assert len(calls) == 1
    after = rules(onemind)
    added = sorted((r["id"], r["category"]) for r in after[:2])
    assert len(after) == before + 2
    assert [c for _, c in added] == ["crit", "dispatch-crisis"]
    assert out.startswith(f"mapping.approve rule #{added[0][0]}, #{added[1][0]}: 2 course(s)")
    none = onemind("mapping", "approve", "--all-suggested", "--min-score", "1", "--reason", "r")
    assert none[1] == (
        "mapping.approve: nothing changed (no queue title's best suggestion scores 1.0 or more)\n"
    )


def test_min_hours_says_how_many_matching_courses_it_left_out(onemind: Run) -> None:
    code, out, _ = onemind(
        "mapping",
        "add",
        "--title-pattern",
        "crisis.response academy",
        "--category",
        "cit",
        "--min-hours",
        "50",
        "--reason",
        "long courses only",
    )
    assert code == 0
    assert "0 course(s) reclassified" in out
    assert "4 matching course(s) left out: shorter than the minimum hours" in out


def test_a_yaml_typo_names_the_rule_its_line_and_the_key_meant(
    onemind: Run, tmp_path: Path
) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - match: title\n    patern: '\\bcit\\b'\n    category: cit\n")
    code, out, err = onemind("mapping", "import", str(path))
    assert code == 2 and out == ""
    assert "rule 1 of rules.yaml (line 2): unknown key 'patern' (did you mean 'pattern'?)" in err
    assert "rule 1 of rules.yaml (line 2): no 'pattern'" in err


def test_a_bad_category_in_a_csv_names_the_row_and_imports_nothing(
    onemind: Run, tmp_path: Path
) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(
        "match,pattern,category,reason\n"
        "title,regional crisis,crisis-equivalent,state course\n"
        "title,tcit,dispach-crisis,dispatch course\n"
    )
    before = rules(onemind)
    code, _, err = onemind("mapping", "import", str(path))
    assert code == 2
    assert "row 2 of rules.csv (line 3): unknown category 'dispach-crisis'" in err
    assert "(did you mean 'dispatch-crisis'?)" in err
    assert rules(onemind) == before


def test_import_conflicts_print_the_pattern_as_written_and_the_stored_rule(
    onemind: Run, tmp_path: Path
) -> None:
    cit = next(r for r in rules(onemind) if r["pattern"].startswith(r"\bcit\b"))
    path = tmp_path / "rules.csv"
    path.write_text(
        "match,pattern,category,priority\n"
        "title,tcit,dispatch-crisis,100\n"
        f"title,{cit['pattern']},crisis-equivalent,100\n"
    )
    code, out, _ = onemind("mapping", "import", str(path))
    assert code == 0
    assert "added 1 rule(s); 0 already present; 1 conflict(s), kept as stored" in out
    assert (
        f"row 2 of rules.csv (line 3), title '{cit['pattern']}': stored rule #{cit['id']} "
        "yields cit at priority 100, the file says crisis-equivalent at priority 100"
    ) in out
    assert "\\\\b" not in out
