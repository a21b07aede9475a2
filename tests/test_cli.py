"""The command line as a user meets it: the demo, the JSON contract, one-line errors."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cli_run import run_in

AS_OF = "2026-11-26"
SPEC_KEYS = {
    "agency",
    "as_of",
    "program",
    "sworn_total",
    "sworn_crisis",
    "sworn_trained",
    "nonsworn_selected_total",
    "nonsworn_trained",
    "requirements",
    "status",
    "deadline",
}


def onemind(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`onemind ARGS` run in `cwd`, in this process (the demo below starts a real one)."""
    return run_in(cwd, *args, env={"ONEMIND_CONFIG": None})


def process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m onemind ARGS` run in `cwd`, as its own process."""
    env = {k: v for k, v in os.environ.items() if k != "ONEMIND_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "onemind", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    result = process("demo", "--dir", str(directory), "--as-of", AS_OF, cwd=directory)
    assert result.returncode == 0, result.stderr
    assert "One Mind Pledge coverage" in result.stdout
    return directory


def test_demo_writes_the_coverage_json_the_coverage_command_prints(demo: Path) -> None:
    written = json.loads((demo / "coverage.json").read_text())
    result = onemind(
        "--config", str(demo / "onemind.toml"), "coverage", "--json", "--as-of", AS_OF, cwd=demo
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == written
    assert len(printed) >= 3
    for report in printed:
        assert set(report) >= SPEC_KEYS
        assert set(report["requirements"]) == {"partnership", "policy", "crisis_20", "all_trained"}
        assert report["as_of"] == AS_OF


# The demo's figures at AS_OF, worked out from demo/data without the coverage code (a throwaway
# script that reads the three files with csv/json and the spec's rules):
# - people are their roster email; a record names them by employee id (any agency's: training
#   follows the person, e.g. keisha.green moved Shelbyville → Springfield) or by email;
# - completions.csv: 2 of its 718 rows count for nobody (hours "eight", completed_on 2026-13-45)
#   and one names no one; statements.json: 153 statements plus one without a verb, of which only
#   `completed`/`passed` count, not 5 `completed` with success false, not the 3 voided ones
#   (SPD-0029's CIT, Emily Adams' and Ana Sullivan's CRIT), not `attempted`/`experienced`;
# - the built-in title rules decide: refreshers and "Crisis Negotiation" never count, CIT and CRIT
#   (40 h) are crisis tier, MHFA (7.5-8 h) mh tier for 3 years unless expires_on says otherwise,
#   "CIT for Telecommunicators" (16 h) mh tier for non-sworn staff only;
# - population: hired on/before AS_OF and not separated before it; non-sworn staff count when
#   selected is true, or when it is blank and they are dispatchers, telecommunicators or call
#   takers (Shelbyville's blank Telecommunicators and Call Taker count, its Evidence Technician
#   does not); Shelbyville's one-mind-2016 program counts only MHFA as "trained";
# - status: due = pledged_on + deadline_months; not complete (each misses a requirement below),
#   so overdue past the due date, else the gaps now vs 90 days before (2026-08-28) project when
#   training ends: (untrained people, crisis officers short of ceil(20 % of sworn)).
#
# agency          sworn crisis trained | non-sworn trained | gaps now / 90 d ago | due, status
# springfield-pd    140     38     133 |        12      11 | (8,0) / (28,0)  | 2027-03-01, on-track
#                                                                  (training ends 2027-01-01)
# shelbyville-pd     90     15      41 |         8       5 | (52,3) / (55,3) | 2026-09-01, overdue
# ogdenville-so      60     13      48 |         6       5 | (13,0) / (26,2) | 2028-06-01, on-track
#                                                                  (training ends 2027-02-24)
# north-haverbrook   25      1       2 |         3       1 | (25,4) / (25,4) | 2027-07-15, at-risk
#                                                                  (no progress: never ends)
BY_HAND = {
    "springfield-pd": (140, 38, 133, 12, 11, "on-track", "2027-03-01"),
    "shelbyville-pd": (90, 15, 41, 8, 5, "overdue", "2026-09-01"),
    "ogdenville-so": (60, 13, 48, 6, 5, "on-track", "2028-06-01"),
    "north-haverbrook-pd": (25, 1, 2, 3, 1, "at-risk", "2027-07-15"),
}
REQUIREMENTS_BY_HAND = {
    "springfield-pd": {"partnership": True, "policy": True, "crisis_20": True},
    "shelbyville-pd": {"partnership": True, "policy": False, "crisis_20": False},
    "ogdenville-so": {"partnership": False, "policy": True, "crisis_20": True},
    "north-haverbrook-pd": {"partnership": False, "policy": False, "crisis_20": False},
}


def test_demo_figures_match_the_ones_worked_out_by_hand(demo: Path) -> None:
    reports = json.loads((demo / "coverage.json").read_text())
    figures = {
        r["agency"]: (
            r["sworn_total"],
            r["sworn_crisis"],
            r["sworn_trained"],
            r["nonsworn_selected_total"],
            r["nonsworn_trained"],
            r["status"],
            r["deadline"],
        )
        for r in reports
    }
    assert figures == BY_HAND
    for report in reports:
        assert report["requirements"] == {
            **REQUIREMENTS_BY_HAND[report["agency"]],
            "all_trained": False,
        }


def test_demo_rerun_gives_the_same_figures(demo: Path) -> None:
    before = (demo / "coverage.json").read_text()
    result = onemind("demo", "--dir", str(demo), "--as-of", AS_OF, cwd=demo)
    assert result.returncode == 0, result.stderr
    assert (demo / "coverage.json").read_text() == before


def test_explanation_agrees_with_the_counts(demo: Path) -> None:
    config = str(demo / "onemind.toml")
    reports = json.loads(
        onemind("--config", config, "coverage", "--json", "--as-of", AS_OF, cwd=demo).stdout
    )
    for report in reports:
        result = onemind(
            "--config",
            config,
            "coverage",
            "--agency",
            report["agency"],
            "--explain",
            "--json",
            "--as-of",
            AS_OF,
            cwd=demo,
        )
        people = json.loads(result.stdout)
        sworn = [p for p in people if p["role"] == "sworn"]
        others = [p for p in people if p["role"] != "sworn"]
        assert len(sworn) == report["sworn_total"]
        assert sum(p["trained"] for p in sworn) == report["sworn_trained"]
        assert sum(p["crisis"] for p in sworn) == report["sworn_crisis"]
        assert len(others) == report["nonsworn_selected_total"]
        assert sum(p["trained"] for p in others) == report["nonsworn_trained"]


def test_missing_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = onemind("coverage", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: onemind.toml: configuration file not found")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["coverage", "sync", "runs", "mapping list"])
def test_uninitialised_database_says_what_to_do_and_leaves_no_file(
    tmp_path: Path, command: str
) -> None:
    (tmp_path / "onemind.toml").write_text('[store]\nurl = "sqlite:///fresh.db"\n')
    result = onemind(*command.split(), cwd=tmp_path)
    assert result.returncode == 1
    assert f"no database at {tmp_path / 'fresh.db'}: run 'onemind init'" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "onemind.toml"]


def test_init_creates_the_database_the_other_commands_need(tmp_path: Path) -> None:
    (tmp_path / "onemind.toml").write_text('[store]\nurl = "sqlite:///fresh.db"\n')
    assert onemind("init", cwd=tmp_path).returncode == 0
    assert onemind("coverage", "--json", cwd=tmp_path).stdout.strip() == "[]"
    assert onemind("init", cwd=tmp_path).returncode == 0
    assert onemind("coverage", "--json", cwd=tmp_path).stdout.strip() == "[]"


def test_bad_as_of_and_unknown_agency(demo: Path) -> None:
    config = str(demo / "onemind.toml")
    bad_date = onemind("--config", config, "coverage", "--as-of", "26/11/2026", cwd=demo)
    assert bad_date.returncode == 2 and "is not a date" in bad_date.stderr
    unknown = onemind("--config", config, "coverage", "--agency", "nope", cwd=demo)
    assert unknown.returncode == 2 and "no agency 'nope'" in unknown.stderr


def test_unknown_source_name_fails_cleanly(demo: Path) -> None:
    result = onemind("--config", str(demo / "onemind.toml"), "sync", "nope", cwd=demo)
    assert result.returncode == 2
    assert "no source 'nope' in [[sources]]" in result.stderr


def test_sync_json_gives_each_source_and_what_the_sync_changed(demo: Path) -> None:
    config = demo / "onemind.toml"
    result = onemind(
        "--config", str(config), "sync", "--full", "--json", "--as-of", AS_OF, cwd=demo
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["ok"] is True and outcome["stopped"] is False
    configured = [s["name"] for s in tomllib.loads(config.read_text())["sources"]]
    assert sorted(s["source"] for s in outcome["sources"]) == sorted(configured)
    for source in outcome["sources"]:
        assert source["status"] == "succeeded" and source["error"] is None
        assert source["fetched"] > 0 and source["new"] == 0 and source["run_id"] > 0
        assert {"updated", "voided", "quarantined", "skipped"} <= set(source)
    assert isinstance(outcome["unmatched"], int)
    assert outcome["status_changes"] == []
    assert outcome["certificates"] == {"issued": [], "revoked": []}


def explain(demo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = str(demo / "onemind.toml")
    command = ["coverage", "--agency", "springfield-pd", "--explain", "--as-of", AS_OF, *args]
    return onemind("--config", config, *command, cwd=demo)


def test_explain_shows_only_who_the_filter_asks_for(demo: Path) -> None:
    everyone = json.loads(explain(demo, "--json").stdout)
    missing = json.loads(explain(demo, "--json", "--who", "not-counted").stdout)
    counted = json.loads(explain(demo, "--json", "--who", "counted").stdout)
    assert missing == [p for p in everyone if not p["trained"]] and missing
    assert counted == [p for p in everyone if p["trained"]] and counted
    alone = onemind(
        "--config", str(demo / "onemind.toml"), "coverage", "--who", "counted", cwd=demo
    )
    assert alone.returncode == 2 and "--who needs --explain" in alone.stderr


def test_explain_piped_is_plain_lines_per_person_and_record(demo: Path) -> None:
    missing = json.loads(explain(demo, "--json", "--who", "not-counted").stdout)
    piped = explain(demo, "--who", "not-counted")
    assert piped.returncode == 0, piped.stderr
    people = [line for line in piped.stdout.splitlines() if not line.startswith("  ")]
    records = [line for line in piped.stdout.splitlines() if line.startswith("  ")]
    assert len(people) == len(missing)
    assert all("; trained no" in line for line in people)
    assert len(records) == sum(max(1, len(p["credentials"])) for p in missing)
    assert not set("┏━┃│╭─") & set(piped.stdout)
    assert explain(demo, "--who", "not-counted", "--format", "text").stdout == piped.stdout
    table = explain(demo, "--who", "not-counted", "--format", "table").stdout
    assert "Who counts, and why" in table and set("┃│") & set(table)


def test_serve_logs_each_job_at_info_as_json_to_a_private_file(demo: Path) -> None:
    log = demo / "logs" / "serve.log"
    command = ["--config", str(demo / "onemind.toml"), "serve", "--now", "--log-format", "json"]
    process = subprocess.Popen(
        [sys.executable, "-m", "onemind", *command, "--log-file", str(log)],
        cwd=demo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    expected = {"sync:agency-rosters", "sync:academy-completions", "sync:state-lrs-export"}
    deadline = time.monotonic() + 90
    finished: set[str] = set()
    lines: list[dict[str, Any]] = []
    while finished != expected and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        finished = {line["job"] for line in lines if re.search(r" in \d+\.\d s$", line["message"])}
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert finished == expected
    assert err == "" and out.rstrip().endswith("stopped")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    started = [line["job"] for line in lines if line["message"] == "job started"]
    assert sorted(started) == sorted(expected)
