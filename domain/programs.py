"""Program definitions (the pledge's rules as data) and the pure functions that apply them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import NamedTuple

from onemind.domain.categories import CRISIS, MH, add_months

IN_SCOPE_POSITIONS = ("dispatcher", "telecommunicator", "call-taker")
RATE_WINDOW_DAYS = 90


@dataclass(frozen=True, slots=True)
class Program:
    """What an agency must show: which tiers make a person trained, and the crisis share."""

    id: str
    title: str
    trained_tiers: frozenset[str]
    crisis_share: Fraction = Fraction(1, 5)
    in_scope_positions: tuple[str, ...] = IN_SCOPE_POSITIONS


PROGRAMS = {
    p.id: p
    for p in (
        Program("one-mind", "One Mind Pledge (current wording)", frozenset({CRISIS, MH})),
        Program("one-mind-2016", "One Mind Pledge (2016 wording)", frozenset({MH})),
    )
}


class Counts(NamedTuple):
    """Head counts of one agency's population at one date, already per the agency's program
    (a tuple: a hub recompute makes two per agency, and a frozen dataclass costs twice as much
    to build)."""

    sworn_total: int = 0
    sworn_crisis: int = 0
    sworn_trained: int = 0
    nonsworn_total: int = 0
    nonsworn_trained: int = 0


def meets_crisis_share(program: Program, crisis: int, total: int) -> bool | None:
    """`crisis / total >= share` in exact integers; None when there is nobody to count."""
    if total == 0:
        return None
    share = program.crisis_share
    return crisis * share.denominator >= total * share.numerator


def crisis_needed(program: Program, total: int) -> int:
    """The fewest crisis-trained officers that satisfy the share (a ceiling)."""
    share = program.crisis_share
    return -(-total * share.numerator // share.denominator)


def all_trained(counts: Counts) -> bool | None:
    if counts.sworn_total == 0:
        return None
    return (
        counts.sworn_trained == counts.sworn_total
        and counts.nonsworn_trained == counts.nonsworn_total
    )


def deadline(pledged_on: date | None, deadline_months: int) -> date | None:
    return None if pledged_on is None else add_months(pledged_on, deadline_months)


def gaps(program: Program, counts: Counts) -> tuple[int, int]:
    """(people still to train at all, officers still to crisis-train)."""
    untrained = (
        counts.sworn_total - counts.sworn_trained + counts.nonsworn_total - counts.nonsworn_trained
    )
    crisis = max(0, crisis_needed(program, counts.sworn_total) - counts.sworn_crisis)
    return untrained, crisis


def projected_completion(program: Program, now: Counts, before: Counts, as_of: date) -> date | None:
    """When training would be done at the net rate of the last 90 days; None if never
    (no net progress, or so slow that the day falls beyond the calendar's last one)."""
    untrained, crisis = gaps(program, now)
    if untrained == crisis == 0:
        return as_of
    if now == before:  # no progress (most agencies, most nights): no need to work it out
        return None
    days = 0
    for gap_now, gap_before in zip((untrained, crisis), gaps(program, before), strict=True):
        if gap_now == 0:
            continue
        progress = gap_before - gap_now
        if progress <= 0:
            return None
        days = max(days, -(-gap_now * RATE_WINDOW_DAYS // progress))
    if days > (date.max - as_of).days:
        return None
    return as_of + timedelta(days=days)


def status(
    complete: bool, as_of: date, due: date | None, projected: date | None, has_sworn: bool
) -> str:
    """complete, overdue, at-risk, on-track — or no-sworn-officers, which none of those fits."""
    if not has_sworn:
        return "no-sworn-officers"
    if complete:
        return "complete"
    if due is not None and as_of > due:
        return "overdue"
    if due is not None and (projected is None or projected > due):
        return "at-risk"
    return "on-track"
