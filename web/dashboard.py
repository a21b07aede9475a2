"""The hub dashboard's table: every agency's newest coverage snapshot (its copy in
`coverage_latest`, not a scan of the history), filtered, sorted and paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from onemind.domain import programs as rules
from onemind.store.models import SHARES, Agency, CoverageLatest, share_key
from onemind.store.snapshots import latest_as_of

PAGE_SIZE = 50
NOT_COMPUTED = "not computed"
SORTS = ("name", "status", "deadline", "crisis", "trained", "nonsworn")


@dataclass(frozen=True)
class Query:
    """What the dashboard was asked for; checked at the edge (see `web.forms`)."""

    status: str | None = None
    program: str | None = None
    search: str | None = None
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class Row:
    agency: str
    name: str
    program: str
    status: str
    as_of: date | None
    deadline: date | None
    sworn_total: int
    crisis_pct: float | None
    trained_pct: float | None
    nonsworn_pct: float | None
    partnership: bool | None
    policy: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "name": self.name,
            "program": self.program,
            "status": self.status,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "sworn_total": self.sworn_total,
            "crisis_pct": self.crisis_pct,
            "trained_pct": self.trained_pct,
            "nonsworn_pct": self.nonsworn_pct,
            "partnership": self.partnership,
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def latest_statuses(session: Session) -> dict[str, str]:
    """Each agency's status in its newest snapshot."""
    rows = session.execute(select(CoverageLatest.agency_id, CoverageLatest.status))
    return {agency: status for agency, status in rows}


def _share(part: Any, whole: Any) -> Any:
    return case((whole > 0, 100.0 * cast(part, Float) / whole), else_=None)


def page(session: Session, query: Query, scope: Any = None) -> Page:
    """One page of the table, the number of agencies it pages through and the counts by status
    (over the other filters, so the counts say what each status filter would show)."""
    counts = status_counts(session, query, scope)
    total = counts.get(query.status, 0) if query.status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(query.page, pages)
    start = (number - 1) * PAGE_SIZE
    listed = _listed(query, scope)
    if query.sort in SHARES:
        rows = _by_share(session, listed, query, start)
    else:
        ordered = listed.order_by(*_order(query, _sort_column(session, query.sort)))
        rows = list(session.execute(ordered.offset(start).limit(PAGE_SIZE)))
    return Page([_row(r) for r in rows], total, number, pages, counts)


def _listed(query: Query, scope: Any) -> Select[Any]:
    """Every column the table shows, of the agencies the filters keep (unordered)."""
    snap = CoverageLatest
    status = _status()
    base = select(
        Agency.id,
        Agency.name,
        Agency.program,
        Agency.pledged_on,
        Agency.deadline_months,
        status.label("status"),
        latest_as_of().label("as_of"),
        snap.sworn_total,
        *(_share(*(snap.__table__.c[c] for c in SHARES[n])).label(n) for n in SHARES),
        snap.partnership,
        snap.policy,
    ).select_from(Agency.__table__.outerjoin(snap.__table__, snap.agency_id == Agency.id))
    base = _filtered(base, query, scope)
    return base.where(status == query.status) if query.status else base


def _status() -> Any:
    return func.coalesce(CoverageLatest.status, literal(NOT_COMPUTED))


def _sort_column(session: Session, sort: str) -> Any:
    if sort == "name":
        return func.lower(Agency.name)
    return _deadline(session) if sort == "deadline" else _status()


def _by_share(session: Session, listed: Select[Any], query: Query, start: int) -> list[Any]:
    """A page sorted by a share: the agencies that have one, in the order of the share's index
    (walked for this page alone), then those without (nobody counted, or never computed) by id.
    The first part is counted only when the page lies wholly past it."""
    key = literal_column(share_key(query.sort, CoverageLatest.__tablename__), Float)
    agency = CoverageLatest.agency_id
    order = [key.desc(), agency.desc()] if query.descending else [key, agency]
    having = listed.where(key.is_not(None)).order_by(*order)
    rows = list(session.execute(having.offset(start).limit(PAGE_SIZE)))
    if len(rows) == PAGE_SIZE:
        return rows
    before = start + len(rows) if rows else _count(session, having)
    lacking = listed.where(or_(agency.is_(None), key.is_(None))).order_by(Agency.id)
    more = lacking.offset(start + len(rows) - before).limit(PAGE_SIZE - len(rows))
    return rows + list(session.execute(more))


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def status_counts(session: Session, query: Query, scope: Any = None) -> dict[str, int]:
    """Agencies by status under the query's other filters: one grouped pass over the newest
    rows (an index-only scan of their status), and the agencies never computed are those
    the filters leave without one."""
    agencies = _filtered(select(Agency.id), query, scope)
    grouped = select(CoverageLatest.status, func.count()).group_by(CoverageLatest.status)
    if query.program or query.search or scope is not None:
        grouped = grouped.where(CoverageLatest.agency_id.in_(agencies))
    counts = {name: number for name, number in session.execute(grouped)}
    every = session.scalar(_filtered(select(func.count()).select_from(Agency), query, scope)) or 0
    if every > sum(counts.values()):
        counts[NOT_COMPUTED] = every - sum(counts.values())
    return counts


def _order(query: Query, column: Any) -> list[Any]:
    """The sort, then the agency id in the same direction: by name that is the order of the
    index on (lower(name), id), walked forwards or backwards for the first page alone."""
    if query.sort == "name":
        if query.descending:
            return [column.desc(), Agency.id.desc()]
        return [column, Agency.id]
    return [(column.desc() if query.descending else column.asc()).nulls_last(), Agency.id]


def _filtered(base: Select[Any], query: Query, scope: Any) -> Select[Any]:
    if scope is not None:
        base = base.where(scope)
    if query.program:
        base = base.where(Agency.program == query.program)
    if query.search:
        like = "%" + query.search.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        like = like.replace("_", "\\_")
        base = base.where(
            or_(
                func.lower(Agency.name).like(like, escape="\\"),
                func.lower(Agency.id).like(like, escape="\\"),
            )
        )
    return base


def _deadline(session: Session) -> Any:
    """The deadline as SQL can sort it: pledge date plus the agency's months."""
    if session.get_bind().dialect.name == "postgresql":
        return Agency.pledged_on + func.make_interval(0, Agency.deadline_months)
    months = literal("+") + cast(Agency.deadline_months, String) + literal(" months")
    return func.date(Agency.pledged_on, months)


def _row(r: Any) -> Row:
    return Row(
        agency=r.id,
        name=r.name,
        program=r.program,
        status=r.status,
        as_of=r.as_of,
        deadline=rules.deadline(r.pledged_on, r.deadline_months),
        sworn_total=r.sworn_total or 0,
        crisis_pct=_rounded(r.crisis),
        trained_pct=_rounded(r.trained),
        nonsworn_pct=_rounded(r.nonsworn),
        partnership=r.partnership,
        policy=r.policy,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
