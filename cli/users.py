"""`onemind users add | list | disable | set-password | token`: web accounts."""

from __future__ import annotations

import json
import sys

import click

from onemind.cli.context import Context, author
from onemind.cli.options import examples

ROLES = ("admin", "academy", "agency", "viewer")


@click.group(
    epilog=examples(
        "onemind users add admin --role admin",
        "onemind users add coord --role agency --agency springfield-pd",
        "onemind users token coord --name nightly-export",
    )
)
def users() -> None:
    """Web app accounts: admin (everything), academy (mapping, certificates, runs), agency
    (its own agencies; records attestations), viewer (read-only hub)."""


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command(
    name="add",
    epilog=examples(
        "onemind users add admin --role admin",
        "onemind users add coord --role agency --agency springfield-pd --agency ogdenville-so",
    ),
)
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--agency", "agencies", multiple=True, help="An agency the user may see (repeat).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.pass_obj
def add(
    ctx: Context, username: str, role: str, agencies: tuple[str, ...], password_stdin: bool
) -> None:
    """Create an account; asks for the password (at least 10 characters)."""
    from onemind.web.accounts import add_user

    password = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    with ctx.transaction() as session:
        add_user(session, username, password, role, list(agencies), author(), ctx.now())
    click.echo(f"added {username} ({role})")


@users.command(name="list", epilog=examples("onemind users list", "onemind users list --json"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_command(ctx: Context, as_json: bool) -> None:
    """Every account, its role, agencies and whether it is active."""
    from onemind.web.accounts import list_users

    with ctx.transaction() as session:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "agencies": u.agencies,
                "active": u.active,
                "created_at": u.created_at.isoformat(timespec="seconds"),
            }
            for u in list_users(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "active" if row["active"] else "disabled"
        agencies = f" [{', '.join(row['agencies'])}]" if row["agencies"] else ""
        click.echo(f"{row['username']}  {row['role']}{agencies}  {state}")


@users.command(epilog=examples("onemind users disable coord"))
@click.argument("username")
@click.pass_obj
def disable(ctx: Context, username: str) -> None:
    """Stop the account: no sign-in; its sessions and tokens end."""
    from onemind.web.accounts import disable as disable_user

    with ctx.transaction() as session:
        disable_user(session, username, author(), ctx.now())
    click.echo(f"disabled {username}")


@users.command(
    name="set-password",
    epilog=examples(
        "onemind users set-password coord",
        "onemind users set-password coord --password-stdin < password.txt",
    ),
)
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def set_password(ctx: Context, username: str, password_stdin: bool) -> None:
    """A new password; the user's open sessions end."""
    from onemind.web.accounts import set_password as set_user_password

    password = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    with ctx.transaction() as session:
        set_user_password(session, username, password, author(), ctx.now())
    click.echo(f"password of {username} changed")


@users.command(epilog=examples("onemind users token coord --name nightly-export"))
@click.argument("username")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.pass_obj
def token(ctx: Context, username: str, name: str) -> None:
    """A new API token acting as USERNAME, printed once (send it as 'Authorization: Bearer')."""
    from onemind.web.accounts import new_token

    with ctx.transaction() as session:
        secret = new_token(session, username, name, author(), ctx.now())
    click.echo(secret)
