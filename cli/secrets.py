"""`onemind secrets encrypt`: make the `enc:` values a configuration file may hold."""

from __future__ import annotations

import click

from onemind.cli.options import examples


@click.group(epilog=examples('printf %s "$LRS_PASSWORD" | onemind secrets encrypt'))
def secrets() -> None:
    """Make enc: values for the configuration file."""


@secrets.command(epilog=examples('printf %s "$LRS_PASSWORD" | onemind secrets encrypt'))
def encrypt() -> None:
    """Read a secret on standard input and print its enc: value (key in $ONEMIND_SECRET_KEY)."""
    from onemind.config.secrets import encrypt_stream

    click.echo(encrypt_stream(click.get_text_stream("stdin")))
