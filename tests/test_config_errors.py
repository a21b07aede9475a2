"""Configuration problems: one clear line each, with the id, the TOML line and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from onemind.config import load_settings
from onemind.config.problems import TomlLines
from onemind.errors import ConfigurationError

MISTAKES = """\
[store]
url = "env:DATABASE_URL"

[[agencies]]
id = "springfield-pd"
name = "Springfield Police Department"
deadline_month = 24

[[agencies]]
id = "shelbyville-pd"
name = "Shelbyville Police Department"
program = "one-mind-2017"

[[sources]]
name = "springfield-roster"
kind = "cvs"
role = "roster"
path = "roster.csv"

[[sources]]
name = "mhfa"
kind = "csv"
role = "completions"
path = "mhfa.csv"
agency = "springfeld-pd"

[smtp]
host = "mail.example"
sender = "reports@academy.example"
username = "reports"
password = "hunter2"

[certificates]
issuer_id = "https://academy.example"
issuer_name = "Academy"
key_passphrase = "env:KEY_PASSPHRASE"
"""


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "onemind.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path, {} if environ is None else environ)
    first, *rest = str(caught.value).splitlines()
    assert first == f"{path}: {len(rest)} problem(s):"
    return [line.removeprefix("  - ") for line in rest]


def test_each_problem_is_one_line_with_its_id_line_and_suggestion(tmp_path: Path) -> None:
    assert problems(tmp_path, MISTAKES) == [
        "line 2: store.url: environment variable DATABASE_URL is not set",
        "line 7: agencies['springfield-pd'].deadline_month: unknown key "
        "(did you mean 'deadline_months'?)",
        "line 12: agencies['shelbyville-pd'].program: Input should be 'one-mind' or "
        "'one-mind-2016'",
        "line 16: sources['springfield-roster'].kind: unknown kind 'cvs' (did you mean 'csv'?); "
        "the kinds are canvas, csv, moodle, xapi, xapi-file, xlsx",
        "line 31: smtp.password: secrets must be 'env:NAME' or 'enc:TOKEN' references, "
        "not plaintext",
        "line 36: certificates.key_passphrase: environment variable KEY_PASSPHRASE is not set",
    ]


def test_references_are_checked_once_the_tables_are_valid(tmp_path: Path) -> None:
    text = MISTAKES.replace("deadline_month = 24\n", "").replace("cvs", "csv")
    text = text.replace('"one-mind-2017"', '"one-mind"').replace('"hunter2"', '"env:SMTP"')
    text += '\n[[agencies]]\nid = "springfield-pd"\nname = "Again"\n'
    environ = {"DATABASE_URL": "sqlite://", "KEY_PASSPHRASE": "k"}
    assert problems(tmp_path, text, environ) == [
        "line 24: sources['mhfa'].agency: agency 'springfeld-pd' is not in [[agencies]] "
        "(did you mean 'springfield-pd'?); known: shelbyville-pd, springfield-pd",
        "line 38: agencies['springfield-pd'].id: this id is given to an earlier agency too",
    ]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[[sources]]\nname = "x"\nrole = "roster"\npath = "x.csv"', "line 1: sources['x'].kind"),
        (
            '[[sources]]\nname = "x"\nkind = "csv"\npath = "x.csv"\npreset = "vector-credential"',
            "(did you mean 'vector-credentials'?)",
        ),
        (
            "[scheduler]\nworker = 2",
            "line 2: scheduler.worker: unknown key (did you mean 'workers'?)",
        ),
        (
            '[[sources]]\nname = "x"\nkind = "moodle"\nbase_url = "https://m.example"\n'
            'token = "env:T"\ncourse_id = [1]',
            "sources['x'].course_id: unknown key (did you mean 'course_ids'?)",
        ),
        (
            '[presets.mine]\ncount_only = { column = "Status", value = ["ok"] }',
            "line 2: presets.mine.count_only.value: unknown key (did you mean 'values'?)",
        ),
        (
            '[[agencies]]\nid = "a"\nname = "A"\nreport_to = ["a@x.example", "b@x.example, c@x"]',
            "line 4: agencies['a'].report_to[1]: 'b@x.example, c@x' is not one e-mail address",
        ),
        ("agencies = [1]", "line 1: agencies[0]: should be a table"),
    ],
    ids=["no-kind", "preset", "scheduler", "moodle-field", "nested", "list-entry", "not-a-table"],
)
def test_problems_name_the_key_its_line_and_what_was_meant(
    tmp_path: Path, table: str, expected: str
) -> None:
    found = problems(tmp_path, table + "\n", {"T": "t"})
    assert len(found) == 1
    assert expected in found[0]


def test_a_bad_smtp_password_is_one_problem_not_a_missing_pair(tmp_path: Path) -> None:
    found = problems(tmp_path, MISTAKES[MISTAKES.index("[smtp]") : MISTAKES.index("[cert")])
    assert found == [
        "line 5: smtp.password: secrets must be 'env:NAME' or 'enc:TOKEN' references, not plaintext"
    ]


def test_toml_lines_are_found_by_table_and_key() -> None:
    lines = TomlLines(
        '# comment\n[store]\nurl = "x"\n\n[[sources]]\nname = "a"\nverbs = [\n  "v=1",\n]\n'
        'notes = """\nfake = 1\n"""\n[[sources]]\nname = "b"\nschedule.x = 1\n'
        "[presets.mine]\nrole = 'roster'  # trailing\n[presets.mine.count_only]\ncolumn = 'S'\n"
    )
    assert lines.line(("store", "url")) == 3
    assert lines.line(("sources", 0)) == 5
    assert lines.line(("sources", 0, "verbs", 1)) == 7
    assert lines.line(("sources", 0, "fake")) == 5
    assert lines.line(("sources", 1, "name")) == 14
    assert lines.line(("sources", 1, "schedule", "x")) == 15
    assert lines.line(("presets", "mine", "role")) == 17
    assert lines.line(("presets", "mine", "count_only", "column")) == 19
    assert lines.line(("reports",)) is None
