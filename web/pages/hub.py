"""The hub dashboard: every agency the user may see, with counts by status."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from onemind.domain.programs import PROGRAMS
from onemind.web import dashboard
from onemind.web.access import VIEW, Principal, db, visible_agencies
from onemind.web.templating import render

router = APIRouter()

STATUSES = ("complete", "on-track", "at-risk", "overdue", "no-sworn-officers")
Status = Literal["complete", "on-track", "at-risk", "overdue", "no-sworn-officers", "not computed"]
Program = Literal["one-mind", "one-mind-2016"]
Sort = Literal["name", "status", "deadline", "crisis", "trained", "nonsworn"]


def dashboard_query(
    status: Annotated[Status | None, Query()] = None,
    program: Annotated[Program | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[Sort, Query()] = "name",
    desc: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> dashboard.Query:
    """The dashboard's query string, checked: a bad value is a 400 naming the field."""
    return dashboard.Query(status, program, (q or "").strip() or None, sort, desc, page)


@router.get("/")
def hub(
    request: Request,
    query: dashboard.Query = Depends(dashboard_query),
    me: Principal = Depends(VIEW),
    session: Session = Depends(db),
) -> Response:
    found = dashboard.page(session, query, visible_agencies(me))

    def link(**change: object) -> str:
        given = {
            "status": query.status,
            "program": query.program,
            "q": query.search,
            "sort": query.sort,
            "desc": "true" if query.descending else None,
            "page": query.page,
        }
        given.update(change)
        return "/?" + urlencode({k: v for k, v in given.items() if v not in (None, "")})

    context = {
        "found": found,
        "query": query,
        "statuses": [*STATUSES, dashboard.NOT_COMPUTED],
        "programs": sorted(PROGRAMS),
        "link": link,
    }
    return render(request, "hub.html", context)
