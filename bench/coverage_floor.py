"""The floor of bench/coverage.py: one hand-written aggregate query, the same on both backends,
giving every agency's head counts at a date and at the start of its rate window; what the
recompute's figures need, nothing more."""

from __future__ import annotations

from datetime import date
from typing import Any

from hubdata import AS_OF
from sqlalchemy import text
from sqlalchemy.orm import Session

from onemind.domain.programs import IN_SCOPE_POSITIONS, PROGRAMS, Counts
from onemind.store import coverage

DAYS = ("d", "w")  # the query's parameters: the date, and the start of its rate window
Figures = dict[str, tuple[Counts, Counts]]


def _held(day: str, tier: str, sworn_use: bool) -> str:
    """The person holds a `tier` credential valid at `:day` (one a sworn officer may use)."""
    population = " AND g.population = 'all'" if sworn_use else ""
    return (
        f"MAX(CASE WHEN c.completed_on <= :{day} AND g.tier = '{tier}'{population} "
        f"AND (c.valid_until IS NULL OR c.valid_until > :{day}) THEN 1 ELSE 0 END)"
    )


def _trained(day: str, who: str) -> str:
    """Trained under the agency's own program at `:day`."""
    arms = " ".join(
        f"WHEN '{p.id}' THEN "
        + " OR ".join(f"cred.{tier}_{who}_{day} = 1" for tier in sorted(p.trained_tiers))
        for p in PROGRAMS.values()
    )
    return f"CASE pop.program {arms} ELSE FALSE END"


def floor_sql() -> str:
    """One aggregate in SQL both backends run: every agency's counts at `:d` and at `:w`."""
    flags = ",\n    ".join(
        f"{_held(day, tier, who == 's')} AS {tier}_{who}_{day}"
        for day in DAYS
        for tier in ("crisis", "mh")
        for who in ("s", "n")
    )
    scope = " OR ".join(f"e.position_key LIKE '%-{p}-%'" for p in IN_SCOPE_POSITIONS)
    counts = ",\n  ".join(
        f"SUM(CASE WHEN pop.sworn = 1 AND cred.crisis_s_{day} = 1 THEN 1 ELSE 0 END) "
        f"AS sworn_crisis_{day},\n  "
        f"SUM(CASE WHEN pop.sworn = 1 AND {_trained(day, 's')} THEN 1 ELSE 0 END) "
        f"AS sworn_trained_{day},\n  "
        f"SUM(CASE WHEN pop.sworn = 0 AND {_trained(day, 'n')} THEN 1 ELSE 0 END) "
        f"AS nonsworn_trained_{day}"
        for day in DAYS
    )
    return f"""WITH cred AS (
  SELECT c.person_id,
    {flags}
  FROM completion c
  JOIN category g ON g.id = c.category_id
  WHERE c.person_id IS NOT NULL AND NOT c.voided AND c.completed_on <= :d
  GROUP BY c.person_id
), pop AS (
  SELECT e.agency_id, a.program, e.person_id, MAX(CASE WHEN e.sworn THEN 1 ELSE 0 END) AS sworn
  FROM employment e JOIN agency a ON a.id = e.agency_id
  WHERE e.hired_on <= :d AND (e.separated_on IS NULL OR e.separated_on >= :d)
    AND (e.sworn OR e.selected OR (e.selected IS NULL AND ({scope})))
  GROUP BY e.agency_id, a.program, e.person_id
)
SELECT pop.agency_id, SUM(pop.sworn) AS sworn_total, SUM(1 - pop.sworn) AS nonsworn_total,
  {counts}
FROM pop LEFT JOIN cred ON cred.person_id = pop.person_id
GROUP BY pop.agency_id"""


def floor(session: Session, day: date = AS_OF) -> Figures:
    """Every agency's counts at `day` and at the start of its rate window."""
    coverage.settle_planner(session)  # the same PostgreSQL settings as the recompute's
    rows = session.execute(text(floor_sql()), {"d": day, "w": coverage.window_start(day)})
    return {
        r["agency_id"]: (_counts(r, "d"), _counts(r, "w"))  # type: ignore[misc]
        for r in rows.mappings()
    }


def _counts(row: Any, day: str) -> Counts:
    return Counts(
        int(row["sworn_total"]),
        int(row[f"sworn_crisis_{day}"]),
        int(row[f"sworn_trained_{day}"]),
        int(row["nonsworn_total"]),
        int(row[f"nonsworn_trained_{day}"]),
    )
