"""The built-in training categories of SPEC §3: each points at a tier and a population."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

CRISIS = "crisis"
MH = "mh"
EVERYONE = "all"
NONSWORN_ONLY = "nonsworn"


@dataclass(frozen=True, slots=True)
class CategoryDef:
    id: str
    label: str
    tier: str
    population: str = EVERYONE
    validity_months: int | None = None


BUILT_IN = (
    CategoryDef("cit", "Crisis Intervention Team (CIT), 40 hours", CRISIS),
    CategoryDef("crit", "Crisis Response and Intervention Training (CRIT)", CRISIS),
    CategoryDef("crisis-equivalent", "Approved crisis-intervention equivalent", CRISIS),
    CategoryDef("mhfa", "Mental Health First Aid (Public Safety or Adult)", MH, validity_months=36),
    CategoryDef("mhfa-equivalent", "Approved MHFA equivalent", MH),
    CategoryDef("dispatch-crisis", "CIT for telecommunicators", MH, NONSWORN_ONLY),
)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (29 Feb + 12 → 28 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    if day.day <= 28:  # every month has the day: no calendar needed (a hub asks 18,000 times)
        return date(year, month, day.day)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(
    completed_on: date, expires_on: date | None, validity_months: int | None
) -> date | None:
    """First day a credential no longer counts: the record's expiry, else the category's term."""
    if expires_on is not None:
        return expires_on
    if validity_months is None:
        return None
    return add_months(completed_on, validity_months)
