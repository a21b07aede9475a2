"""Generate the bundled demo data (roster, completions, xAPI statements) into demo/data/.

Run it where onemind is installed: `python -m onemind.demo.make_data`.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

from onemind.demo.people import (
    AGENCIES,
    DISPATCH,
    ROSTER_FIELDS,
    AgencySpec,
    NameBook,
    Person,
    build_people,
    roster_row,
)
from onemind.demo.statements import all_statements
from onemind.demo.trainings import (
    COMPLETION_FIELDS,
    QUALIFYING,
    RECENT_FROM,
    TODAY,
    Training,
    all_trainings,
    completion_rows,
)

SEED = 2026
OUT_DIR = Path(__file__).resolve().parent / "data"


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    """Writes rows under a header, with Unix line endings."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def in_scope(person: Person) -> bool:
    """A civilian counts if flagged selected, or unflagged in a dispatch position."""
    return person.selected == "true" or (person.selected == "" and person.position in DISPATCH)


def intended(people: list[Person], spec: AgencySpec) -> tuple[int, int, int, int, int]:
    """The coverage the data is built to produce today: sworn, crisis, trained, civilians."""
    active = [p for p in people if p.agency is spec and p.separated_on is None]
    sworn = [p for p in active if p.sworn]
    scope = [p for p in active if not p.sworn and in_scope(p)]
    crisis = sum(p.plan == "crisis" for p in sworn)
    trained = sum(p.plan in ("crisis", "mh") for p in sworn)
    return len(sworn), crisis, trained, len(scope), sum(p.plan == "mh" for p in scope)


def print_summary(
    people: list[Person], trainings: list[Training], rows: int, statements: int
) -> None:
    """Rows per file, then per agency: roster size and the coverage the data should yield."""
    print(f"demo data for {TODAY} written to {OUT_DIR}")
    print(f"  roster.csv       {len(people):4d} rows")
    print(f"  completions.csv  {rows:4d} rows (3 malformed, 4 for people on no roster)")
    print(f"  statements.json  {statements:4d} statements (3 voiding, 1 malformed)")
    recent = Counter(
        t.person.agency.id
        for t in trainings
        if t.course in QUALIFYING and t.completed_on >= RECENT_FROM
    )
    print("  agency               roster  sworn crisis trained  civ civ-trained  recent")
    for spec in AGENCIES:
        size = sum(p.agency is spec for p in people)
        sworn, crisis, trained, civ, civ_trained = intended(people, spec)
        print(
            f"  {spec.id:20s} {size:6d} {sworn:6d} {crisis:6d} {trained:7d} {civ:4d}"
            f" {civ_trained:11d} {recent[spec.id]:7d}"
        )


def main() -> None:
    """Builds the people, their training and the three files, then prints a summary."""
    rng = random.Random(SEED)
    names = NameBook(rng)
    people = build_people(rng, names)
    trainings = all_trainings(rng, people)
    rows = completion_rows(rng, names, people, trainings)
    statements = all_statements(rng, people, trainings)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(OUT_DIR / "roster.csv", ROSTER_FIELDS, [roster_row(p) for p in people])
    write_csv(OUT_DIR / "completions.csv", COMPLETION_FIELDS, rows)
    text = json.dumps(statements, indent=2, ensure_ascii=False) + "\n"
    (OUT_DIR / "statements.json").write_text(text, encoding="utf-8")
    print_summary(people, trainings, len(rows), len(statements))


if __name__ == "__main__":
    main()
