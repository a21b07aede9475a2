"""`onemind certificates …`: list, show, verify, revoke and export credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from onemind.cli.context import Context
from onemind.cli.options import examples
from onemind.domain.text import plain
from onemind.errors import ConfigurationError


@click.group(
    epilog=examples("onemind certificates list", "onemind certificates export ./credentials")
)
def certificates() -> None:
    """Open Badges 3.0 credentials for people and agencies."""


@certificates.command(
    name="list",
    epilog=examples(
        "onemind certificates list --agency springfield-pd --tier crisis",
        "onemind certificates list --person jane.doe@springfield.gov --json",
        "onemind certificates list --state revoked",
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as a JSON array.")
@click.option("--state", "--status", type=click.Choice(["active", "revoked"]), help="Only these.")
@click.option("--agency", metavar="ID", help="Only this agency's and its people's credentials.")
@click.option("--person", metavar="EMAIL_OR_EMPLOYEE_ID", help="Only this person's credentials.")
@click.option("--tier", type=click.Choice(["crisis", "mh"]), help="Only credentials of this tier.")
@click.pass_obj
def list_credentials(
    ctx: Context,
    as_json: bool,
    state: str | None,
    agency: str | None,
    person: str | None,
    tier: str | None,
) -> None:
    """The credentials, by issue date then holder, with their holder's name and agencies (which
    the credentials themselves never carry), state and push-back state."""
    from onemind.certificates.listing import NOT_CONFIGURED, Filters, summaries

    if ctx.settings().certificates is None:
        click.echo(f"note: {NOT_CONFIGURED}", err=True)
    with ctx.sessions()() as session:
        rows = summaries(session, Filters(state, agency, person, tier))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif rows:
        _credential_table(rows)
    else:
        click.echo("no credentials" + (" match" if state or agency or person or tier else ""))


def _credential_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from onemind.cli.views import safe

    table = Table(title="Credentials")
    for column in ("issued", "holder", "agency", "tier/category", "valid", "status", "pushed"):
        table.add_column(column)
    table.add_column("id", overflow="fold")
    for row in rows:
        valid = f"{row['valid_from']} → {row['valid_until'] or '…'}"
        pushed = ", ".join(f"{p['source']}:{p['action']}:{p['status']}" for p in row["pushes"])
        table.add_row(
            row["issued_at"][:10],
            safe(row["name"]),
            safe(", ".join(row["agencies"])),
            f"{row['tier'] or ''} {row['category'] or ''}",
            valid,
            row["status"],
            safe(pushed) or "—",
            row["id"],
        )
    Console().print(table)


@certificates.command(epilog=examples("onemind certificates show urn:uuid:…"))
@click.argument("credential_id")
@click.pass_obj
def show(ctx: Context, credential_id: str) -> None:
    """The credential's JSON (decoded from its signed JWT) and its state."""
    from onemind.certificates import jose
    from onemind.certificates.listing import find, summary

    with ctx.sessions()() as session:
        credential = find(session, credential_id)
        state = summary(session, credential)
        payload = jose.parse(credential.jwt).payload
    click.echo(json.dumps({"state": state, "credential": payload}, indent=2))


@certificates.command(
    epilog=examples('onemind certificates revoke urn:uuid:… --reason "issued in error"')
)
@click.argument("credential_id")
@click.option("--reason", required=True, help="Why, as the revocation list records it.")
@click.pass_obj
def revoke(ctx: Context, credential_id: str, reason: str) -> None:
    """Revoke a credential (kept, marked, with the reason) and withdraw it from its sources."""
    from onemind.certificates import issuer
    from onemind.certificates.listing import find, require_config
    from onemind.certificates.outbox import pushing_sources
    from onemind.pipeline.recompute import deliver_pushes

    settings = ctx.settings()
    require_config(settings)
    sessions = ctx.sessions()
    with sessions.begin() as session:
        credential = find(session, credential_id)
        if credential.status == "revoked":
            raise ConfigurationError(f"{credential.id} is already revoked")
        actor = os.environ.get("ONEMIND_USER", "cli")
        issuer.revoke(session, credential, reason, actor, ctx.now(), pushing_sources(settings))
    delivered = deliver_pushes(sessions, settings, ctx.now)
    click.echo(f"revoked {credential.id}; {delivered} source(s) told")


@certificates.command(name="export", epilog=examples("onemind certificates export ./credentials"))
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def export_command(ctx: Context, directory: Path) -> None:
    """Write every credential as <id>.jwt/.json/.pdf with jwks.json and revocations.json."""
    from onemind.certificates import files
    from onemind.certificates.listing import require_config
    from onemind.cli.progress import progress_bar

    config = require_config(ctx.settings())
    with ctx.sessions()() as session, progress_bar("exporting credentials") as progress:
        count = files.export(session, config, directory, progress)
    click.echo(
        f"{count} credential(s), {files.JWKS_FILE} and {files.REVOCATIONS_FILE} written "
        f"to {directory}"
    )


@certificates.command(
    name="verify", epilog=examples("onemind certificates verify ./credentials/urn_uuid_….jwt")
)
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
    from onemind.certificates.verify import verify as verify_token

    keys_path = jwks_file or file.parent / JWKS_FILE
    if not keys_path.exists():
        raise ConfigurationError(f"no JWKS: give --jwks (looked for {keys_path})")
    revoked_path = revocations or file.parent / REVOCATIONS_FILE
    listing = json.loads(revoked_path.read_text()) if revoked_path.exists() else None
    verdict = verify_token(_token(file), json.loads(keys_path.read_text()), listing)
    for check in verdict.checks:
        click.echo(f"ok: {plain(check)}")
    for failure in verdict.failures:
        click.echo(f"FAILED: {plain(failure)}", err=True)
    if not verdict.ok:
        raise SystemExit(1)
    click.echo(f"valid: {verdict.credential_id}")


def _token(file: Path) -> str:
    """The compact JWS in FILE; a credential's decoded `.json` is pointed to its `.jwt`.

    Raises:
        ConfigurationError: FILE holds the decoded JSON, which carries no signature.
    """
    text = file.read_text(encoding="utf-8")
    if not text.lstrip().startswith("{"):
        return text
    signed = file.with_suffix(".jwt")
    where = (
        f"verify {signed} beside it"
        if signed.exists()
        else "verify the .jwt file `onemind certificates export` wrote with it"
    )
    raise ConfigurationError(
        f"{file.name} is a credential's decoded JSON, which carries no signature: {where}"
    )
