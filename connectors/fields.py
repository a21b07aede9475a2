"""Parsing of the cell values sources send: dates, booleans, hours. Each raises ValueError."""

from __future__ import annotations

from datetime import date, datetime

TRUE = {"true", "yes", "y", "1", "x", "t"}
FALSE = {"false", "no", "n", "0", "f", ""}


def parse_date(value: object, fmt: str | None = None) -> date:
    """ISO dates (and datetimes), Excel cells, or the source's own `fmt`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        raise ValueError("empty date")
    try:
        if fmt:
            return datetime.strptime(text, fmt).date()
        return date.fromisoformat(text[:10])
    except ValueError:
        expected = fmt or "YYYY-MM-DD"
        raise ValueError(f"{text!r} is not a date ({expected})") from None


def parse_optional_date(value: object, fmt: str | None = None) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_date(value, fmt)


def parse_bool(value: object, default: bool | None = None) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text == "" and default is not None:
        return default
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{value!r} is not true/false")


def parse_hours(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        hours = float(str(value).strip().removesuffix("h").removesuffix("hrs").strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number of hours") from None
    if not 0 <= hours <= 1000:
        raise ValueError(f"{hours} hours is out of range")
    return hours


def text(value: object) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
