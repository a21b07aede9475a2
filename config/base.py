"""What every part of the configuration shares: strictness, names, schedules, time zones.

Values are converted here, once: a time zone becomes a `ZoneInfo`, a schedule is a checked
crontab expression, so that the rest of the code never parses or re-checks them.
"""

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from onemind.domain.cron import crontab_trigger

SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
DISPLAY_NAME = re.compile(r"[^\x00-\x1f\x7f,;:<>@\"\\]*")
UTC_ZONE = ZoneInfo("UTC")


class Strict(BaseModel):
    """Unknown keys rejected, values frozen. Validators are built when first used (validating
    `Settings` builds its whole tree once), not one per class as each is declared.

    The configuration's modules do without `from __future__ import annotations`, so that
    pydantic takes each annotation as it is rather than parsing it from its text at start-up.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True
    )


def valid_cron(value: str) -> str:
    """A 5-field crontab expression, e.g. '0 2 * * *' (weekdays as in crontab: 0 is Sunday)."""
    try:
        crontab_trigger(value, UTC_ZONE)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a 5-field cron expression ({exc})") from None
    return value


def as_zone(value: Any) -> ZoneInfo:
    """An IANA time zone name turned into a `ZoneInfo`."""
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')"
        ) from None


def one_address(value: str) -> str:
    """One e-mail address, bare or as `Name <address>`: no list, no quoting, no line break.

    Raises:
        ValueError: anything else, since a comma or a line break would add recipients or headers.
    """
    name, bracketed, rest = value.partition("<")
    if bracketed:
        valid = DISPLAY_NAME.fullmatch(name) and ADDRESS.fullmatch(rest.removesuffix(">"))
        valid = valid and rest.endswith(">")
    else:
        valid = ADDRESS.fullmatch(value)
    if not valid:
        raise ValueError(
            f"{value!r} is not one e-mail address (write 'name@example.org' or "
            "'Name <name@example.org>', one per entry)"
        )
    return value


Zone = Annotated[ZoneInfo, BeforeValidator(as_zone), PlainSerializer(lambda zone: zone.key)]
Cron = Annotated[str, AfterValidator(valid_cron)]
EmailAddress = Annotated[str, AfterValidator(one_address)]
