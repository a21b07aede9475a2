"""`onemind certificates` as staff use it: list, export, verify offline, revoke."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import cli_run
import jwt
import pytest

CONFIG = """
[store]
url = "sqlite:///onemind.db"

[[agencies]]
id = "a-pd"
name = "A PD"

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

[certificates]
issuer_id = "https://academy.example"
issuer_name = "State Academy"
algorithm = "EdDSA"
key_passphrase = "env:ONEMIND_TEST_KEY"
"""


@pytest.fixture
def onemind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """The command line run in this process, in `tmp_path`, with the key's passphrase set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ONEMIND_TEST_KEY", "pass-phrase")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        code, out, err = cli_run.onemind(capsys, *args)
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


def test_export_verify_tamper_revoke(
    tmp_path: Path, onemind: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (tmp_path / "onemind.toml").write_text(CONFIG)
    (tmp_path / "roster.csv").write_text(
        "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"
        "separated_on\na-pd,1,Ann,Lee,ann@a.example,true,Officer,,2015-01-01,\n"
    )
    (tmp_path / "completions.csv").write_text(
        "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
        "1,,CIT-40,Crisis Intervention Team (CIT) 40-Hour,,40,2024-01-01,\n"
    )
    assert onemind("init").returncode == 0
    assert onemind("sync").returncode == 0
    [credential] = json.loads(onemind("certificates", "list", "--json").stdout)
    assert (credential["tier"], credential["status"]) == ("crisis", "active")

    out = tmp_path / "export"
    assert onemind("certificates", "export", str(out)).returncode == 0
    token = out / f"{credential['id'].rsplit(':', 1)[-1]}.jwt"
    good = onemind("certificates", "verify", str(token))
    assert good.returncode == 0 and "valid:" in good.stdout and "ok: signature valid" in good.stdout
    keys = jwt.PyJWKSet.from_json((out / "jwks.json").read_text())
    signed = token.read_text().strip()
    claims = jwt.decode(signed, keys[jwt.get_unverified_header(signed)["kid"]], ["EdDSA"])
    assert claims["jti"] == credential["id"], "an independent library reads the export too"

    header, payload, signature = token.read_text().strip().split(".")
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(".".join([header, payload[:-4] + "AAAA", signature]))
    bad = onemind("certificates", "verify", str(tampered), "--jwks", str(out / "jwks.json"))
    assert bad.returncode == 1 and "FAILED: the signature does not match" in bad.stderr
    assert "ok:" not in bad.stdout, "nothing is said about claims whose signature failed"

    revoked = onemind("certificates", "revoke", credential["id"], "--reason", "issued in error")
    assert revoked.returncode == 0, revoked.stderr
    assert onemind("certificates", "export", str(out)).returncode == 0
    after = onemind("certificates", "verify", str(token))
    assert after.returncode == 1
    assert "FAILED: revoked: issued in error" in after.stderr
