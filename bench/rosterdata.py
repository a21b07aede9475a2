"""The hub roster of bench/roster.py: the file a first load reads, the same file with 1 % of
its rows changed, and the counts of employments, people and identifiers each calls for."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from hubdata import World, _position, email, employee_id, lateral_employee_id, names, random_day

HEADER = (
    "agency,employee_id,first_name,last_name,email,sworn,position,selected,hired_on,separated_on"
)


def roster_rows(world: World) -> Iterator[list[str]]:
    """One row per employment; a lateral hire's earlier employment ends before the next."""
    rng = random.Random(world.seed + 11)
    for pid, agency in enumerate(world.person_agency, start=1):
        first, last = names(pid)
        mail = email(pid) if rng.random() < 0.9 else ""
        row = _row(rng, world.agencies[agency], employee_id(pid), first, last, mail)
        second = world.laterals.get(pid)
        if second is None:
            yield row
            continue
        left = random_day(rng, date(2019, 6, 1), date(2026, 6, 30))
        row[-1] = left.isoformat()
        yield row
        lateral = _row(rng, world.agencies[second], lateral_employee_id(pid), first, last, mail)
        lateral[-2] = (left + timedelta(days=rng.randint(1, 60))).isoformat()
        lateral[-1] = ""
        yield lateral


def _row(rng: random.Random, agency: str, emp: str, first: str, last: str, mail: str) -> list[str]:
    sworn = rng.random() < 0.85
    position, selected = _position(rng, sworn)
    hired = random_day(rng, date(1992, 1, 1), date(2026, 10, 31))
    separated = ""
    if rng.random() < 0.07:
        separated = random_day(rng, hired, max(hired, date(2026, 11, 20))).isoformat()
    flag = "" if selected is None else str(selected).lower()
    return [
        agency,
        emp,
        first,
        last,
        mail,
        str(sworn).lower(),
        position,
        flag,
        str(hired),
        separated,
    ]


def changed_rows(rows: list[list[str]], share: float, seed: int) -> list[list[str]]:
    """`rows` with `share` of them changed: a third promoted or renamed, a third leaving with
    a date, a sixth given a new address, and as many new hires as a sixth added at the end."""
    rng = random.Random(seed + 12)
    changed = [list(r) for r in rows]
    picks = rng.sample(range(len(rows)), int(len(rows) * share))
    hires = 0
    for n, index in enumerate(picks):
        row = changed[index]
        kind = n % 6
        if kind in (0, 1):
            row[6], row[3] = ("Sergeant", row[3]) if kind == 0 else (row[6], row[3] + "-Hale")
        elif kind in (2, 3):
            row[9] = row[9] or max(date.fromisoformat(row[8]), date(2026, 11, 1)).isoformat()
        elif kind == 4:
            row[4] = f"{row[1].lower()}.new@mail.example"
        else:
            hires += 1
            name, mail = f"Hire{hires}", f"new.hire.{hires}@mail.example"
            hire = ["true", "Patrol Officer", "", "2026-11-02", ""]
            changed.append([row[0], f"N{hires:07d}", "New", name, mail, *hire])
    return changed


def write_roster(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(HEADER + "\n")
        csv.writer(handle).writerows(rows)


def valid_rows(path: Path) -> dict[tuple[str, str], list[str]]:
    """The first row of each (agency, employee id) that the roster rules keep (a row that
    leaves before it was hired is quarantined)."""
    kept: dict[tuple[str, str], list[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if row[9] and row[9] < row[8]:
                continue
            kept.setdefault((row[0], row[1]), row)
    return kept


def expected_first(path: Path) -> tuple[int, int, int]:
    """What a first load of `path` leaves: a row with an address joins whoever holds it (every
    address here is one person's), a row without one is a person of its own."""
    rows = valid_rows(path)
    emails = {r[4].lower() for r in rows.values() if r[4]}
    alone = sum(1 for r in rows.values() if not r[4])
    return len(rows), len(emails) + alone, 2 * len(emails)


def expected_after(first: Path, changed: Path) -> tuple[int, int, int]:
    """What loading `changed` over `first` leaves: new keys are new hires, each a new person
    with a new address; every address ever stated stays claimed."""
    before, after = valid_rows(first), valid_rows(changed)
    _, people, _ = expected_first(first)
    hires = [k for k in after if k not in before]
    emails = {r[4].lower() for rows in (before, after) for r in rows.values() if r[4]}
    return len(before.keys() | after.keys()), people + len(hires), 2 * len(emails)
