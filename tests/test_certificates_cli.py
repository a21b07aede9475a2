"""`onemind certificates` as staff use it: list, export, verify offline, revoke."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cli_run
import jwt

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


def onemind(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return cli_run.run_in(cwd, *args, env={"ONEMIND_TEST_KEY": "pass-phrase"})


def test_export_verify_tamper_revoke(tmp_path: Path) -> None:
    (tmp_path / "onemind.toml").write_text(CONFIG)
    (tmp_path / "roster.csv").write_text(
        "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,"
        "separated_on\na-pd,1,Ann,Lee,ann@a.example,true,Officer,,2015-01-01,\n"
    )
    (tmp_path / "completions.csv").write_text(
        "employee_id,email,course_id,course_title,provider,hours,completed_on,expires_on\n"
        "1,,CIT-40,Crisis Intervention Team (CIT) 40-Hour,,40,2024-01-01,\n"
    )
    assert onemind("init", cwd=tmp_path).returncode == 0
    assert onemind("sync", cwd=tmp_path).returncode == 0
    [credential] = json.loads(onemind("certificates", "list", "--json", cwd=tmp_path).stdout)
    assert (credential["tier"], credential["status"]) == ("crisis", "active")

    out = tmp_path / "export"
    assert onemind("certificates", "export", str(out), cwd=tmp_path).returncode == 0
    token = out / f"{credential['id'].rsplit(':', 1)[-1]}.jwt"
    good = onemind("certificates", "verify", str(token), cwd=tmp_path)
    assert good.returncode == 0 and "valid:" in good.stdout and "ok: signature valid" in good.stdout
    keys = jwt.PyJWKSet.from_json((out / "jwks.json").read_text())
    signed = token.read_text().strip()
    claims = jwt.decode(signed, keys[jwt.get_unverified_header(signed)["kid"]], ["EdDSA"])
    assert claims["jti"] == credential["id"], "an independent library reads the export too"

    header, payload, signature = token.read_text().strip().split(".")
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(".".join([header, payload[:-4] + "AAAA", signature]))
    bad = onemind(
        "certificates", "verify", str(tampered), "--jwks", str(out / "jwks.json"), cwd=tmp_path
    )
    assert bad.returncode == 1 and "FAILED: the signature does not match" in bad.stderr
    assert "ok:" not in bad.stdout, "nothing is said about claims whose signature failed"

    revoked = onemind(
        "certificates", "revoke", credential["id"], "--reason", "issued in error", cwd=tmp_path
    )
    assert revoked.returncode == 0, revoked.stderr
    assert onemind("certificates", "export", str(out), cwd=tmp_path).returncode == 0
    after = onemind("certificates", "verify", str(token), cwd=tmp_path)
    assert after.returncode == 1
    assert "FAILED: revoked: issued in error" in after.stderr
