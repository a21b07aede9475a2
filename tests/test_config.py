"""Configuration: validated once, every problem named, secrets never plaintext."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from onemind.config import config_path, load_settings, parse_settings
from onemind.config.secrets import encrypt, resolve
from onemind.errors import ConfigurationError

MINIMAL = """
[store]
url = "sqlite:///onemind.db"

[[agencies]]
id = "springfield-pd"
name = "Springfield Police Department"
pledged_on = 2025-01-15
deadline_months = 36

[[sources]]
name = "springfield-roster"
kind = "csv"
role = "roster"
path = "rosters/springfield.csv"
agency = "springfield-pd"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onemind.toml"
    path.write_text(text)
    return path


def test_minimal_file_loads_with_types_and_absolute_paths(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL))
    agency = settings.agencies[0]
    assert agency.program == "one-mind"
    assert agency.pledged_on.isoformat() == "2025-01-15"
    source = settings.source("springfield-roster")
    assert source.path == tmp_path.resolve() / "rosters" / "springfield.csv"
    assert settings.store.url.get() == f"sqlite:///{tmp_path.resolve() / 'onemind.db'}"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL.replace("deadline_months = 36", 'deadline_months = 48\ncolour = "red"')
    text += '\n[[sources]]\nname = "x"\nkind = "ftp"\n'
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, text))
    message = str(caught.value)
    assert message.splitlines()[1:] == [
        "  - line 9: agencies['springfield-pd'].deadline_months: Input should be less than or "
        "equal to 36",
        "  - line 10: agencies['springfield-pd'].colour: unknown key",
        "  - line 21: sources['x'].kind: unknown kind 'ftp'; the kinds are canvas, csv, moodle, "
        "xapi, xapi-file, xlsx",
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '[[sources]]\nname = "r2"\nkind = "csv"\nrole = "roster"\npath = "a.csv"\nagency = "nope"',
            "line 23: sources['r2'].agency: agency 'nope' is not in [[agencies]]; known: "
            "springfield-pd",
        ),
        (
            '[[sources]]\nname = "springfield-roster"\nkind = "csv"\nrole = "roster"\npath = "a.csv"',
            "line 19: sources['springfield-roster'].name: this name is given to an earlier source",
        ),
        (
            '[[sources]]\nname = "c"\nkind = "csv"\nrole = "completions"\npath = "a.csv"\n'
            'columns = {course = "Course"}',
            "columns: course not among the completions fields",
        ),
        (
            '[[sources]]\nname = "c"\nkind = "csv"\nrole = "roster"\npath = "a.csv"\n'
            'schedule = "nightly"',
            "5-field cron",
        ),
    ],
    ids=["unknown-agency", "duplicate-source", "unknown-column", "bad-cron"],
)
def test_cross_checks(tmp_path: Path, snippet: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match="problem") as caught:
        load_settings(write(tmp_path, MINIMAL + "\n" + snippet))
    assert expected in str(caught.value)


def test_missing_file_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_settings(tmp_path / "absent.toml")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings(write(tmp_path, "[store\n"))


def test_config_path_precedence(tmp_path: Path) -> None:
    assert config_path("given.toml", {"ONEMIND_CONFIG": "env.toml"}) == Path("given.toml")
    assert config_path(None, {"ONEMIND_CONFIG": "env.toml"}) == Path("env.toml")
    assert config_path(None, {}) == Path("onemind.toml")


def test_plaintext_secret_is_refused_and_env_reference_resolved(tmp_path: Path) -> None:
    raw = {"agencies": [], "sources": [], "store": {"url": "sqlite://"}}
    raw_with_secret = {**raw, "smtp": {"password": "hunter2"}}
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(raw_with_secret, tmp_path / "x.toml", environ={})
    assert "smtp.password: secrets must be" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_secret_references() -> None:
    secret = resolve("env:LRS_PASSWORD", {"LRS_PASSWORD": "s3cret"})
    assert secret.get() == "s3cret"
    assert "s3cret" not in repr(secret) and "s3cret" not in str(secret)
    with pytest.raises(ValueError, match="LRS_PASSWORD is not set"):
        resolve("env:LRS_PASSWORD", {})
    key = Fernet.generate_key().decode()
    token = encrypt("s3cret", key)
    assert resolve(token, {"ONEMIND_SECRET_KEY": key}).get() == "s3cret"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        resolve(token, {"ONEMIND_SECRET_KEY": Fernet.generate_key().decode()})


MOODLE = """
[[sources]]
name = "academy-moodle"
kind = "moodle"
base_url = "https://moodle.academy.example"
token = "{token}"
course_ids = [12]
"""


def test_a_source_secret_is_read_when_first_used(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    text = MINIMAL + MOODLE.format(token="env:MOODLE_TOKEN")
    settings = load_settings(write(tmp_path, text), environ)
    token = settings.source("academy-moodle").token  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError) as caught:
        token.get()
    assert str(caught.value) == (
        "sources['academy-moodle'].token: environment variable MOODLE_TOKEN is not set"
    )
    environ["MOODLE_TOKEN"] = "t0ken"
    assert token.get() == "t0ken"
    assert "t0ken" not in repr(settings)


def test_a_plaintext_source_secret_is_still_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, MINIMAL + MOODLE.format(token="t0ken")), {})
    assert str(caught.value).splitlines()[1:] == [
        "  - line 22: sources['academy-moodle'].token: secrets must be 'env:NAME' or "
        "'enc:TOKEN' references, not plaintext"
    ]
