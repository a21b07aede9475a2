"""Runs: the sync history, the sources failing now with their last error, and held locks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from onemind.web import operations
from onemind.web.access import RUNS, Principal, db
from onemind.web.templating import render

router = APIRouter()


@router.get("/runs")
def runs_page(
    request: Request, me: Principal = Depends(RUNS), session: Session = Depends(db)
) -> Response:
    state = request.app.state
    return render(request, "runs.html", operations.overview(session, state.settings, state.now()))
