"""Cron expressions as operators write them, turned into APScheduler 3 triggers.

APScheduler 3 numbers weekdays from Monday = 0, crontab from Sunday = 0 (and 7); the fifth field
is translated to weekday names so that "0 6 * * 1" means Monday, as it does in crontab.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # APScheduler loads only when a schedule is read
    from apscheduler.triggers.cron import CronTrigger

NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expr: str, timezone: tzinfo | str) -> CronTrigger:
    """A trigger for a 5-field crontab expression in the given time zone.

    Raises:
        ValueError: the expression is not valid crontab.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{len(fields)} field(s), expected 5 (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday_names(weekday),
        timezone=timezone,
    )


def weekday_names(field: str) -> str:
    """The crontab weekday field as APScheduler weekday names, e.g. '1-5' → 'mon,tue,…,fri'."""
    days: set[int] = set()
    for part in field.lower().split(","):
        days |= _expand(part)
    if days == set(range(7)):
        return "*"
    return ",".join(NAMES[d] for d in sorted(days))


def _expand(part: str) -> set[int]:
    span, _, step_text = part.partition("/")
    step = _number(step_text, "step") if step_text else 1
    if step < 1:
        raise ValueError(f"weekday step {step_text!r} must be at least 1")
    if span == "*":
        first, last = 0, 6
    else:
        low, _, high = span.partition("-")
        first = _day(low)
        last = _day(high) if high else (6 if step_text else first)
    if first > last:
        raise ValueError(f"weekday range {span!r} runs backwards")
    return {d % 7 for d in range(first, last + 1, step)}


def _day(text: str) -> int:
    text = text.strip()
    if text in NAMES:
        return NAMES.index(text)
    day = _number(text, "weekday")
    if not 0 <= day <= 7:
        raise ValueError(f"weekday {text!r} is not 0 to 7 (0 and 7 are Sunday) or sun to sat")
    return day


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number")
    return int(text)
