"""What every part of the configuration shares: strictness, names, schedules, time zones."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def valid_cron(value: str) -> str:
    """A 5-field crontab expression, e.g. '0 2 * * *' (weekdays as in crontab: 0 is Sunday)."""
    from onemind.sync.cron import crontab_trigger

    try:
        crontab_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a 5-field cron expression ({exc})") from None
    return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'America/Chicago')"
        ) from None
    return value
