"""`onemind secrets encrypt`: make the `enc:` values a configuration file may hold."""

from __future__ import annotations

import click

from onemind.config.secrets import encrypt_stream


@click.group()
def secrets() -> None:
    """Make enc: values for the configuration file."""


@secrets.command()
def encrypt() -> None:
    """Read a secret on standard input and print its enc: value (key in $ONEMIND_SECRET_KEY).

    Example: printf %s "$LRS_PASSWORD" | onemind secrets encrypt
    """
    click.echo(encrypt_stream(click.get_text_stream("stdin")))
