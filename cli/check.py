"""`onemind check`: connect to each source and say what works and what is missing."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from onemind.cli.context import EXIT_FAILED, Context
from onemind.cli.options import examples
from onemind.connectors.base import FAILED, OK, Check, CheckResult
from onemind.domain.text import plain
from onemind.errors import ConfigurationError, OneMindError

if TYPE_CHECKING:
    from onemind.config.model import SourceConfig

MARKS = {OK: click.style("✓", fg="green"), FAILED: click.style("✗", fg="red")}


@dataclass(frozen=True)
class SourceCheck:
    """One source's checks, under its name and kind."""

    name: str
    kind: str
    result: CheckResult

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "ok": self.result.ok,
            "checks": [c.to_json() for c in self.result.checks],
            "problems": self.result.problems,
        }


@click.command(
    name="check",
    epilog=examples(
        "onemind check", "onemind check academy-moodle state-lrs", "onemind check --json"
    ),
)
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object a source.")
@click.pass_obj
def check(ctx: Context, sources: tuple[str, ...], as_json: bool) -> None:
    """Connect to each source (all, or those named) and say what works and which permission,
    field or setting is missing. Exits 1 if any source is not usable."""
    from onemind.config.names import unknown_names

    configured = ctx.settings().sources
    known = [s.name for s in configured]
    unknown = [n for n in sources if n not in known]
    if unknown:
        raise ConfigurationError(unknown_names("source", unknown, known, "in [[sources]]"))
    found = [_checked(s) for s in configured if not sources or s.name in sources]
    if as_json:
        click.echo(json.dumps([f.to_json() for f in found], indent=2))
    else:
        _print(found)
    if not all(f.result.ok for f in found):
        sys.exit(EXIT_FAILED)


def _checked(config: SourceConfig) -> SourceCheck:
    """The connector's checks; a secret it cannot read (`env:` unset) is a failed setting."""
    from onemind.connectors.registry import build_connector

    try:
        connector = build_connector(config)
    except OneMindError as exc:
        return _failed(config, "settings", str(exc))
    try:
        result = connector.check()
    except Exception as exc:  # one source's bug must not hide what the others say
        return _failed(config, "connector", f"unexpected {type(exc).__name__}: {exc}")
    return SourceCheck(config.name, config.kind, result)


def _failed(config: SourceConfig, name: str, message: str) -> SourceCheck:
    return SourceCheck(config.name, config.kind, CheckResult((Check(name, FAILED, message),)))


def _print(found: list[SourceCheck]) -> None:
    for source in found:
        ok = source.result.ok
        verdict = click.style("usable", fg="green") if ok else click.style("NOT usable", fg="red")
        click.echo(f"{plain(source.name)} ({source.kind}): {verdict}")
        for c in source.result.checks:
            mark = MARKS.get(c.status, "-")
            click.echo(f"  {mark} {plain(c.name)}: {plain(c.message)}")
    usable = sum(f.result.ok for f in found)
    click.echo(f"{usable} of {len(found)} source(s) usable")
