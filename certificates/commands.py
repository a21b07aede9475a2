"""`onemind certificates …`: list, show, verify, revoke and export credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from onemind.certificates import issuer
from onemind.certificates.verify import verify as verify_token
from onemind.config.model import CertificatesConfig, Settings
from onemind.errors import ConfigurationError
from onemind.store.db import open_store
from onemind.store.models import Credential, CredentialPush, Source
from onemind.views import plain, safe


def _config(settings: Settings) -> CertificatesConfig:
    if settings.certificates is None:
        raise ConfigurationError(
            "certificates are not configured: add a [certificates] section "
            '(issuer_id, issuer_name, key_passphrase = "env:…")'
        )
    return settings.certificates


@click.group()
def certificates() -> None:
    """Open Badges 3.0 credentials for people and agencies."""


@certificates.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", type=click.Choice(["active", "revoked"]))
@click.pass_obj
def list_credentials(ctx: Any, as_json: bool, status: str | None) -> None:
    """Every credential with its state and push-back state."""
    sessions = open_store(ctx.settings().store.url)
    with sessions() as session:
        query = select(Credential).order_by(Credential.issued_at, Credential.id)
        if status:
            query = query.where(Credential.status == status)
        rows = [_summary(session, c) for c in session.scalars(query)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Credentials")
    for column in ("id", "kind", "holder", "tier/category", "valid", "status", "pushed"):
        table.add_column(column)
    for row in rows:
        valid = f"{row['valid_from']} → {row['valid_until'] or '…'}"
        pushed = ", ".join(f"{p['source']}:{p['action']}:{p['status']}" for p in row["pushes"])
        table.add_row(
            row["id"],
            row["kind"],
            safe(str(row["holder"])),
            f"{row['tier'] or ''} {row['category'] or ''}",
            valid,
            row["status"],
            safe(pushed) or "—",
        )
    Console().print(table)


def _summary(session: Any, credential: Credential) -> dict[str, Any]:
    pushes = session.execute(
        select(
            Source.name,
            CredentialPush.action,
            CredentialPush.status,
            CredentialPush.attempts,
            CredentialPush.last_error,
        )
        .join(Source, Source.id == CredentialPush.source_id)
        .where(CredentialPush.credential_id == credential.id)
    )
    return {
        "id": credential.id,
        "kind": credential.kind,
        "holder": credential.person_id
        if credential.kind == issuer.PERSON
        else credential.agency_id,
        "tier": credential.tier,
        "category": credential.category_id,
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": credential.valid_until.isoformat() if credential.valid_until else None,
        "issued_at": credential.issued_at.isoformat(),
        "status": credential.status,
        "revoked_reason": credential.revoked_reason,
        "pushes": [
            {"source": s, "action": a, "status": st, "attempts": n, "error": e}
            for s, a, st, n, e in pushes
        ],
    }


@certificates.command()
@click.argument("credential_id")
@click.pass_obj
def show(ctx: Any, credential_id: str) -> None:
    """The credential's JSON (decoded from its signed JWT) and its state."""
    from onemind.certificates import jose

    sessions = open_store(ctx.settings().store.url)
    with sessions() as session:
        credential = _find(session, credential_id)
        summary = _summary(session, credential)
        payload = jose.parse(credential.jwt).payload
    click.echo(json.dumps({"state": summary, "credential": payload}, indent=2))


def _find(session: Any, credential_id: str) -> Credential:
    candidates = [credential_id, f"urn:uuid:{credential_id}"]
    found = session.scalar(select(Credential).where(Credential.id.in_(candidates)))
    if found is None:
        raise ConfigurationError(f"no credential {credential_id!r}")
    return found


@certificates.command()
@click.argument("credential_id")
@click.option("--reason", required=True)
@click.pass_obj
def revoke(ctx: Any, credential_id: str, reason: str) -> None:
    """Revoke a credential (kept, marked, with the reason) and withdraw it from its sources."""
    from onemind.certificates.outbox import deliver
    from onemind.connectors.registry import build_connector

    settings = ctx.settings()
    _config(settings)
    sessions = open_store(settings.store.url)
    with sessions.begin() as session:
        credential = _find(session, credential_id)
        if credential.status == "revoked":
            raise ConfigurationError(f"{credential.id} is already revoked")
        issuer.revoke(session, credential, reason, os.environ.get("ONEMIND_USER", "cli"), ctx.now())
    delivered = deliver(sessions, settings, build_connector, ctx.now)
    click.echo(f"revoked {credential.id}; {delivered} source(s) told")


@certificates.command(name="export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def export_command(ctx: Any, directory: Path) -> None:
    """Write every credential as <id>.jwt/.json/.pdf with jwks.json and revocations.json."""
    from onemind.certificates import files

    settings = ctx.settings()
    config = _config(settings)
    sessions = open_store(settings.store.url)
    with sessions() as session:
        count = files.export(session, config, directory)
    click.echo(
        f"{count} credential(s), {files.JWKS_FILE} and {files.REVOCATIONS_FILE} written "
        f"to {directory}"
    )


@certificates.command(name="verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Issuer keys (default: jwks.json beside FILE).",
)
@click.option(
    "--revocations",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Revocation list (default: revocations.json beside FILE).",
)
def verify(file: Path, jwks_file: Path | None, revocations: Path | None) -> None:
    """Check a credential offline; exit 1 and say exactly what failed if it does not hold."""
    from onemind.certificates.files import JWKS_FILE, REVOCATIONS_FILE

    keys_path = jwks_file or file.parent / JWKS_FILE
    if not keys_path.exists():
        raise ConfigurationError(f"no JWKS: give --jwks (looked for {keys_path})")
    revoked_path = revocations or file.parent / REVOCATIONS_FILE
    listing = json.loads(revoked_path.read_text()) if revoked_path.exists() else None
    verdict = verify_token(file.read_text(), json.loads(keys_path.read_text()), listing)
    for check in verdict.checks:
        click.echo(f"ok: {plain(check)}")
    for failure in verdict.failures:
        click.echo(f"FAILED: {plain(failure)}", err=True)
    if not verdict.ok:
        raise SystemExit(1)
    click.echo(f"valid: {verdict.credential_id}")
